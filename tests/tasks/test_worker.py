"""A real Celery worker, fed through a real Redis broker, runs the sync end to end."""

from __future__ import annotations

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult
from django.conf import settings

from django_accepton import tasks
from django_accepton.models import PromoCode, Subscription, SyncState
from tests.tasks.celery_app import app


def redis_reachable() -> str | None:
    """Why Redis cannot be used, or None when it answers."""
    for url in (settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND):
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        except redis.RedisError as exc:
            return f"Redis at {url} is unreachable ({exc}): start it or set CELERY_BROKER_URL"
    return None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.accepton_dialects
def test_a_worker_runs_the_sync_tasks_over_redis(accepton):
    reason = redis_reachable()
    if reason:
        pytest.skip(reason)
    accepton.state.seed("promo_codes", 150)
    accepton.state.seed("subscriptions", 450)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        synced = tasks.sync_promo_codes.delay().get(timeout=30)
        fanned = tasks.fan_out_sync.delay("subscriptions", pages_per_task=2).get(timeout=30)
        finished = AsyncResult(fanned["finish_task_id"], app=app).get(timeout=30)

    assert (synced["created"], synced["pages"]) == (150, 2)
    assert PromoCode.objects.count() == 150
    # Ranges only when total cannot be the size of page 1 alone; the range from page 2 reads
    # page 1 again to tell whether AcceptOn honours paging.
    assert fanned["ranges"] == (2 if accepton.state.dialect.total == "list" else 1)
    assert (finished["created"], finished["pages"], finished["requests"]) == (450, 5, 6)
    assert Subscription.objects.count() == 450
    state = SyncState.objects.get(resource="subscriptions")
    assert (state.lock_token, state.last_result["created"]) == ("", 450)
