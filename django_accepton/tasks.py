"""Celery tasks: thin wrappers around the services, plus a fanned-out full sync.

Importing this module needs no configured Celery app: ``shared_task`` binds each task to the
app the project sets up (``app.autodiscover_tasks()`` finds this module). The beat schedule of
these tasks is ``django_accepton.schedule.BEAT_SCHEDULE`` (also importable from here).

Every sync task returns its ``SyncResult`` as a dict; a sync that finds another run of the same
resource still going returns ``{"skipped": ...}`` instead of failing, so a slow run never turns
the next scheduled one into an error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

try:
    from celery import chord, shared_task
except ImportError as exc:  # pragma: no cover - exercised by the wheel smoke test
    raise ImportError(
        "django_accepton.tasks needs Celery: pip install 'django-accepton[celery]'."
    ) from exc

from django_accepton.api import require_store_account
from django_accepton.models import SyncResource
from django_accepton.schedule import BEAT_SCHEDULE as BEAT_SCHEDULE  # re-exported
from django_accepton.services import sync as sync_service
from django_accepton.services.attention import refund_unfulfilled
from django_accepton.services.fulfilment import redeliver_fulfilments
from django_accepton.services.refunds import reconcile_refunds
from django_accepton.services.sync import (
    SyncAlreadyRunning,
    SyncError,
    SyncLockLost,
    SyncResult,
    SyncRun,
    page_ranges,
)
from django_accepton.services.verification import (
    claim_orphaned_charges,
    reverify_pending_charges,
    summarize,
)

# A sync that failed on AcceptOn's side (after the client's own retries) is tried again later,
# up to three times, at most 30 s, 60 s and 120 s on (Celery's backoff, jittered).
# SyncAlreadyRunning never gets that far: it is answered with "skipped". A run that lost its
# lease to another is over: no retry.
RETRY_ON = (SyncError,)
NO_RETRY_ON = (SyncLockLost,)
SYNC_RETRY: dict[str, Any] = {
    "autoretry_for": RETRY_ON,
    "dont_autoretry_for": NO_RETRY_ON,
    "retry_backoff": 30,
    "max_retries": 3,
}


def _run(resource: str, **options: Any) -> dict[str, Any]:
    try:
        return sync_service.sync(resource, **options).as_dict()
    except SyncAlreadyRunning as exc:
        return {"resource": resource, "skipped": str(exc)}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@shared_task(name="django_accepton.sync_plans", **SYNC_RETRY)
def sync_plans() -> dict[str, Any]:
    require_store_account()
    return _run(SyncResource.PLANS)


@shared_task(name="django_accepton.sync_subscriptions", **SYNC_RETRY)
def sync_subscriptions() -> dict[str, Any]:
    require_store_account()
    return _run(SyncResource.SUBSCRIPTIONS)


@shared_task(name="django_accepton.sync_promo_codes", **SYNC_RETRY)
def sync_promo_codes() -> dict[str, Any]:
    require_store_account()
    return _run(SyncResource.PROMO_CODES)


@shared_task(name="django_accepton.sync_charges", **SYNC_RETRY)
def sync_charges(
    since: str | None = None, until: str | None = None, full: bool = False
) -> dict[str, Any]:
    """``since``/``until`` are days (``YYYY-MM-DD``), as JSON carries them."""
    require_store_account()
    return _run(SyncResource.CHARGES, since=_day(since), until=_day(until), full=full)


@shared_task(name="django_accepton.reverify_pending_charges")
def reverify_pending_charges_task() -> dict[str, int]:
    require_store_account()
    return summarize(reverify_pending_charges())


@shared_task(name="django_accepton.claim_orphaned_charges")
def claim_orphaned_charges_task() -> dict[str, int]:
    require_store_account()
    return summarize(claim_orphaned_charges())


@shared_task(name="django_accepton.reconcile_refunds")
def reconcile_refunds_task() -> dict[str, int]:
    require_store_account()
    return reconcile_refunds().as_dict()


@shared_task(name="django_accepton.redeliver_fulfilments")
def redeliver_fulfilments_task() -> dict[str, int]:
    require_store_account()
    return redeliver_fulfilments().as_dict()


@shared_task(name="django_accepton.refund_unfulfilled")
def refund_unfulfilled_task() -> dict[str, int]:
    """Refunds paid-but-unfulfilled charges only with ``REFUND_UNFULFILLED`` on."""
    require_store_account()
    return refund_unfulfilled().as_dict()


# ----- fan-out ----------------------------------------------------------------------------------


@shared_task(name="django_accepton.fan_out_sync")
def fan_out_sync(
    resource: str,
    pages_per_task: int = 10,
    since: str | None = None,
    until: str | None = None,
    full: bool = False,
) -> dict[str, Any]:
    """Sync ``resource`` across workers: this task takes the lease and writes page 1 (which
    tells how many pages there are), a chord writes the other pages in ranges of
    ``pages_per_task``, and its callback handles deletions, records the run and frees the
    lease. The rows written are the same as a serial sync's. Returns the callback's task id
    (or, for a list of one page, the finished result)."""
    require_store_account()
    try:
        run = sync_service.start_sync(resource, since=_day(since), until=_day(until), full=full)
    except SyncAlreadyRunning as exc:
        return {"resource": resource, "skipped": str(exc)}
    try:
        first = sync_service.sync_page_range(run, 1, 1)
        if first.reached_end:
            return {"result": sync_service.finish_sync(run, [first]).as_dict()}
        ranges = page_ranges(first.remote_total, pages_per_range=pages_per_task)
    except BaseException as exc:
        sync_service.abandon_sync(run, exc)
        raise
    payload = run.as_dict()
    header = [sync_page_range.s(payload, start, end) for start, end in ranges]
    callback = finish_sync.s(payload, first.as_dict()).on_error(
        abandon_sync.si(payload, "a page range of the fanned-out sync failed")
    )
    try:
        outcome = chord(header)(callback)
    except BaseException as exc:
        # Eager mode runs the chord here and raises here; a worker calls the errback instead.
        sync_service.abandon_sync(run, exc)
        raise
    return {"finish_task_id": outcome.id, "ranges": len(ranges)}


@shared_task(name="django_accepton.sync_page_range", **SYNC_RETRY)
def sync_page_range(run: dict[str, Any], first_page: int, last_page: int | None) -> dict[str, Any]:
    return sync_service.sync_page_range(SyncRun.from_dict(run), first_page, last_page).as_dict()


@shared_task(name="django_accepton.finish_sync")
def finish_sync(
    results: list[dict[str, Any]], run: dict[str, Any], first: dict[str, Any]
) -> dict[str, Any]:
    parts = [SyncResult.from_dict(first), *(SyncResult.from_dict(r) for r in results)]
    return sync_service.finish_sync(SyncRun.from_dict(run), parts).as_dict()


@shared_task(name="django_accepton.abandon_sync")
def abandon_sync(run: dict[str, Any], reason: str) -> None:
    sync_service.abandon_sync(SyncRun.from_dict(run), reason)
