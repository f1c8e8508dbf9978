"""A Celery worker in a process of its own, as in production: Redis between it and the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from django_accepton import tasks
from django_accepton.models import PromoCode, SyncState
from tests.tasks.celery_app import app
from tests.tasks.test_worker import redis_reachable

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, as the worker process's settings read it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_syncs_through_redis(accepton):
    reason = redis_reachable()
    if reason:
        pytest.skip(reason)
    accepton.state.seed("promo_codes", 230)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "ACCEPTON_TEST_SANDBOX_URL": accepton.url,
        "ACCEPTON_TEST_SECRET_KEY": accepton.secret_key,
        "ACCEPTON_TEST_PUBLIC_KEY": accepton.public_key,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.tasks.worker_main",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            app.conf.task_default_queue,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        result = tasks.sync_promo_codes.delay().get(timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)

    assert (result["created"], result["pages"], result["requests"]) == (230, 3, 3), output
    assert PromoCode.objects.count() == 230
    assert SyncState.objects.get(resource="promo_codes").lock_token == ""
    assert b"Warm shutdown" in output
    assert worker.returncode == 0, output
