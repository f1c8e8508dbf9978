"""The tasks run in this process (``apply``: no broker), the fan-out, and the beat schedule."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from django_accepton import tasks
from django_accepton.models import PromoCode, SyncState
from django_accepton.services.sync import SyncLockLost, start_sync, sync_promo_codes
from tests.tasks.celery_app import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Tasks called with ``delay`` (and chords) run at once, in this process."""
    app.conf.task_always_eager = True
    app.set_current()
    yield app
    app.conf.task_always_eager = False


def test_sync_tasks_return_the_result_as_a_dict(accepton):
    accepton.state.seed("promo_codes", 3)
    accepton.state.seed("charges", 2)

    promo = tasks.sync_promo_codes.apply().get()
    charges = tasks.sync_charges.apply(kwargs={"since": "2000-01-01"}).get()

    assert (promo["resource"], promo["created"]) == ("promo_codes", 3)
    assert (charges["created"], charges["since"]) == (2, "2000-01-01")
    assert tasks.sync_plans.apply().get()["created"] == 0
    assert tasks.sync_subscriptions.apply().get()["created"] == 0


def test_a_sync_that_is_already_running_is_skipped_not_failed(accepton):
    start_sync("subscriptions")

    outcome = tasks.sync_subscriptions.apply()

    assert outcome.successful()
    assert "already running" in outcome.get()["skipped"]


def test_a_fan_out_while_a_sync_runs_is_skipped(accepton):
    start_sync("charges")

    assert "already running" in tasks.fan_out_sync.apply(args=("charges",)).get()["skipped"]


def test_a_range_that_lost_its_lease_is_not_retried(accepton, monkeypatch):
    run = start_sync("plans")
    SyncState.objects.update(lock_token="someone-else")
    attempts = []
    real = tasks.sync_service.sync_page_range

    def counted(*args, **kwargs):
        attempts.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.sync_service, "sync_page_range", counted)

    outcome = tasks.sync_page_range.apply(args=(run.as_dict(), 1, None))

    assert (outcome.state, type(outcome.result)) == ("FAILURE", SyncLockLost)
    assert len(attempts) == 1


def test_follow_up_tasks(accepton):
    assert tasks.reverify_pending_charges_task.apply().get() == {
        "verified": 0,
        "still_pending": 0,
        "rejected": 0,
    }
    assert tasks.reconcile_refunds_task.apply().get()["charges_checked"] == 0


@pytest.mark.accepton_dialects
def test_fan_out_writes_what_the_serial_sync_writes(accepton, eager):
    accepton.state.seed("promo_codes", 1050)
    accepton.state.clear_request_log()

    outcome = tasks.fan_out_sync.delay("promo_codes", pages_per_task=3).get()

    # Ranges only when the total cannot be the size of page 1 alone.
    assert outcome["ranges"] == (4 if accepton.state.dialect.total == "list" else 1)
    assert PromoCode.objects.count() == 1050
    # 11 pages, and page 1 once more by the range starting at page 2.
    assert accepton.state.request_count("GET", "/v1/promo_codes") == 12
    state = SyncState.objects.get(resource="promo_codes")
    assert (state.last_result["created"], state.last_result["pages"]) == (1050, 11)
    assert state.lock_token == ""
    serial = sync_promo_codes()
    assert (serial.created, serial.updated, serial.unchanged) == (0, 0, 1050)


def test_fan_out_of_a_single_page_finishes_at_once(accepton, eager):
    accepton.state.seed("plans", 4)

    outcome = tasks.fan_out_sync.delay("plans").get()

    assert outcome["result"]["created"] == 4


def test_a_failing_range_frees_the_lease(accepton, eager, monkeypatch):
    accepton.state.seed("promo_codes", 250)
    real = tasks.sync_service.sync_page_range

    def pages_after_the_first_fail(run, first_page=1, last_page=None, **kwargs):
        if first_page > 1:
            raise tasks.SyncError("page range failed")
        return real(run, first_page, last_page, **kwargs)

    monkeypatch.setattr(tasks.sync_service, "sync_page_range", pages_after_the_first_fail)

    with pytest.raises(tasks.SyncError):
        tasks.fan_out_sync.delay("promo_codes", pages_per_task=1).get()

    state = SyncState.objects.get(resource="promo_codes")
    assert state.lock_token == ""
    assert state.last_success_started_at is None


def test_beat_schedule_names_registered_tasks_and_syncs_subscriptions_hourly():
    registered = set(app.tasks)

    for entry in tasks.BEAT_SCHEDULE.values():
        assert entry["task"] in registered
    subscriptions = [
        entry
        for entry in tasks.BEAT_SCHEDULE.values()
        if entry["task"] == "django_accepton.sync_subscriptions"
    ]
    assert subscriptions
    assert all(entry["schedule"] <= timedelta(hours=1) for entry in subscriptions)


def test_settings_can_import_the_schedule_before_django_is_set_up():
    code = (
        "import sys; from django_accepton.schedule import BEAT_SCHEDULE; "
        "assert 'django.db.models' not in sys.modules; print(len(BEAT_SCHEDULE))"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, str(len(tasks.BEAT_SCHEDULE))), done.stderr


def test_importing_the_tasks_needs_no_celery_app():
    code = (
        "import django; django.setup(); "
        "import celery; import django_accepton.tasks as t; "
        "assert t.sync_plans.name == 'django_accepton.sync_plans'; "
        "assert celery.current_app.main in (None, 'default'), celery.current_app.main"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
