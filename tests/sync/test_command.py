"""``manage.py sync_accepton``: the table, the JSON, progress, and the follow-up work."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_accepton.models import PromoCode, RefundRequest, RefundState, Verification
from django_accepton.services.refunds import RefundOutcomeUnknown, refund
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import Reason, verify_charge
from tests.mirror.helpers import fault, pay_token, recurring, verified_charge

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args: str, stderr: io.StringIO | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command("sync_accepton", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.accepton_dialects
def test_plain_output_is_a_table_with_progress_lines(accepton):
    accepton.state.seed("plans", 3)
    accepton.state.seed("promo_codes", 120)

    out, err = run("plans", "promo_codes")

    lines = out.splitlines()
    assert lines[0].split() == [
        "resource",
        "created",
        "updated",
        "unchanged",
        "failed",
        "deleted",
        "pages",
        "requests",
        "seconds",
    ]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split()[:8] == ["plans", "3", "0", "0", "0", "0", "1", "1"]
    assert lines[3].split()[:8] == ["promo_codes", "120", "0", "0", "0", "0", "2", "2"]
    assert "Pending charges: 0 verified, 0 rejected, 0 still pending." in lines
    # A total that counts the whole list tells the number of pages; one that may count only
    # the page does not, until the last page.
    pages = "2" if accepton.state.dialect.total == "list" else "?"
    assert err.splitlines() == [
        "plans: page 1 of 1, 3 objects",
        f"promo_codes: page 1 of {pages}, 100 objects",
        "promo_codes: page 2 of 2, 120 objects",
    ]
    assert "\r" not in err


@pytest.mark.accepton_dialects
def test_a_terminal_gets_a_bar_redrawn_in_place(accepton):
    accepton.state.seed("promo_codes", 250)

    _, err = run("promo_codes", stderr=Terminal())

    assert err.count("\r") == 3
    assert "[##############################] page 3/3  250 objects  0s" in err
    # The finished bar ends its line: what is written next starts on a line of its own.
    assert err.split("page 3/3", 1)[1].split("\n", 1)[0].endswith("\x1b[K")


def test_json_summary_covers_every_resource_and_the_follow_up_work(accepton):
    accepton.state.seed("subscriptions", 30)
    accepton.state.seed("charges", 5)

    out, _ = run("--json")

    summary = json.loads(out)
    assert [item["resource"] for item in summary["syncs"]] == [
        "plans",
        "subscriptions",
        "promo_codes",
        "charges",
    ]
    created = {item["resource"]: item["created"] for item in summary["syncs"]}
    assert created == {"plans": 3, "subscriptions": 30, "promo_codes": 0, "charges": 5}
    assert summary["errors"] == []
    assert summary["pending_charges"] == {"verified": 0, "still_pending": 0, "rejected": 0}
    assert summary["refunds"] == {
        "charges_checked": 0,
        "succeeded": 0,
        "released": 0,
        "still_unknown": 0,
    }


def test_pending_charges_are_reverified_and_unknown_refunds_settled(accepton, settings):
    settings.ACCEPTON = {**settings.ACCEPTON, "PENDING_REVERIFY_AFTER": 0}
    token = mint_token({"amount": 900, "currency": "usd", "description": "Order 5"}, reuse=False)
    remote = pay_token(accepton, token.pk)
    fault(accepton, status=503, path_prefix="/v1/charges/")
    assert verify_charge(remote["id"], token.pk).reason is Reason.API_UNAVAILABLE
    charge = verified_charge(accepton, 4000, order="6")
    fault(accepton, status=500, path_prefix="/v1/refunds")
    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 4000)
    RefundRequest.objects.update(updated=timezone.now() - timedelta(hours=1))

    out, _ = run("plans", "--json")

    summary = json.loads(out)
    assert summary["pending_charges"]["verified"] == 1
    assert summary["refunds"]["released"] == 1
    assert RefundRequest.objects.get().state == RefundState.FAILED
    assert verify_charge(remote["id"], token.pk).charge.verification == Verification.VERIFIED


def test_dry_run_writes_nothing(accepton):
    accepton.state.seed("promo_codes", 5)

    out, _ = run("promo_codes", "--dry-run", "--json")

    summary = json.loads(out)
    assert (summary["dry_run"], summary["syncs"][0]["created"]) == (True, 5)
    assert "pending_charges" not in summary
    assert not PromoCode.objects.exists()


def test_since_bounds_the_charges_read(accepton):
    run("charges", "--since", "2020-01-02", "--until", "2020-02-03")

    # AcceptOn reads them as "created after" and "created before": a day out on each side.
    query = accepton.state.request_log[0].query
    assert "start_date=2020-01-01" in query
    assert "end_date=2020-02-04" in query


def test_a_failed_sync_is_reported_and_fails_the_command(accepton):
    accepton.state.seed("plans", 2)
    fault(accepton, status=500, path_prefix=recurring(accepton, "plans"))
    out = io.StringIO()

    with pytest.raises(CommandError, match="plans: Syncing plans stopped at page 1"):
        call_command("sync_accepton", "plans", "promo_codes", "--json", stdout=out)

    summary = json.loads(out.getvalue())
    assert summary["errors"][0]["resource"] == "plans"
    assert summary["syncs"][-1]["resource"] == "promo_codes"


@pytest.mark.parametrize("args", [["invoices"], ["--since", "yesterday"]])
def test_bad_arguments_are_refused(accepton, args):
    with pytest.raises(CommandError):
        run(*args)


# ----- what a second process, a dry run and a backfill must never do ---------------------------


def test_a_second_process_on_the_embedded_sandbox_is_refused(tmp_path):
    # `make demo` serves with the embedded sandbox inside its own process; this command, run
    # beside it, would otherwise sync the store against a new, empty sandbox of its own.
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "DEBUG": "true",
    }
    environment.pop("ACCEPTON_BASE_URL", None)
    answer = subprocess.run(
        [sys.executable, str(root / "example_project" / "manage.py"), "sync_accepton"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert answer.returncode != 0
    assert "embedded sandbox" in answer.stderr
    assert "standalone sandbox" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_the_tasks_refuse_as_well_outside_the_sandboxs_process(monkeypatch, settings):
    from django_accepton import sandbox, tasks
    from django_accepton.api import AccountNotShared

    settings.ACCEPTON = {"ENVIRONMENT": "sandbox"}
    monkeypatch.setattr(sandbox, "_embedded", None)  # as in a fresh worker process

    with pytest.raises(AccountNotShared):
        tasks.sync_plans()
    with pytest.raises(AccountNotShared):
        tasks.reverify_pending_charges_task()
    assert not sandbox.embedded_sandbox_running()  # nothing was started


def test_a_dry_run_writes_nothing(accepton):
    from django_accepton.models import Plan, SyncState

    accepton.state.seed("plans", 3)

    out, _ = run("--dry-run", "--json")

    assert json.loads(out)["syncs"][0]["dry_run"] is True
    assert not SyncState.objects.exists()
    assert not Plan.objects.exists()


def test_a_backfill_of_chosen_days_never_moves_the_incremental_cursor(accepton):
    from django_accepton.models import SyncState

    verified_charge(accepton, 1000, order="1")
    run("charges")
    cursor = SyncState.objects.get(resource="charges").last_success_started_at
    assert cursor is not None
    today = timezone.now().date()

    run("charges", "--since", str(today - timedelta(days=3)), "--until", str(today))

    state = SyncState.objects.get(resource="charges")
    assert state.last_success_started_at == cursor
    assert state.last_result["since"] == str(today - timedelta(days=3))
