"""The Celery beat schedule of django-accepton's tasks, to merge into a project's own.

A module of its own, importing nothing from Django, so that ``settings.py`` can read it::

    from django_accepton.schedule import BEAT_SCHEDULE

    CELERY_BEAT_SCHEDULE = {**BEAT_SCHEDULE, **your_own_entries}

The schedules are ``timedelta``s; replace an entry to change its rhythm.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

__all__ = ["BEAT_SCHEDULE"]

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "accepton-sync-subscriptions": {
        "task": "django_accepton.sync_subscriptions",
        "schedule": timedelta(hours=1),
    },
    "accepton-sync-plans": {"task": "django_accepton.sync_plans", "schedule": timedelta(hours=6)},
    "accepton-sync-promo-codes": {
        "task": "django_accepton.sync_promo_codes",
        "schedule": timedelta(hours=1),
    },
    # Incremental: charges created since a day before the last successful run.
    "accepton-sync-charges": {
        "task": "django_accepton.sync_charges",
        "schedule": timedelta(minutes=15),
    },
    # Refunds and other changes to older charges only show in a full read.
    "accepton-sync-charges-full": {
        "task": "django_accepton.sync_charges",
        "schedule": timedelta(days=1),
        "kwargs": {"full": True},
    },
    "accepton-reverify-pending-charges": {
        "task": "django_accepton.reverify_pending_charges",
        "schedule": timedelta(minutes=2),
    },
    # After the incremental charge sync has copied them: charges nobody came back with.
    "accepton-claim-orphaned-charges": {
        "task": "django_accepton.claim_orphaned_charges",
        "schedule": timedelta(minutes=15),
    },
    "accepton-reconcile-refunds": {
        "task": "django_accepton.reconcile_refunds",
        "schedule": timedelta(minutes=10),
    },
    # charge_verified again for verified charges whose receivers failed, until they succeed.
    "accepton-redeliver-fulfilments": {
        "task": "django_accepton.redeliver_fulfilments",
        "schedule": timedelta(minutes=2),
    },
    # Does nothing unless ACCEPTON["REFUND_UNFULFILLED"] is on.
    "accepton-refund-unfulfilled": {
        "task": "django_accepton.refund_unfulfilled",
        "schedule": timedelta(minutes=15),
    },
}
