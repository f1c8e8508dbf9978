"""Subscriptions: mirrored by the sync (and by a verified payment of a recurring token, at
once); cancelled on AcceptOn first, then locally.

``subscription_created`` is sent once per subscription, by whichever writer mirrors it first:
the checkout that verified its first payment, or a sync page. Each decides that it wrote a new
row from what it read before writing, and the two can race: a sync page reads no row, the
checkout inserts one and announces it, and the page's upsert then updates that row, believing it
new. So the announcement is claimed on the row itself (:func:`claim_creation`): in the writer's
transaction, after the write, ``creation_announced`` is locked and turned on where it was off,
and only the rows it turned on are announced. A second writer's upsert waits for the first
one's row lock and then finds the flag on. The claim rolls back with the write, and the signal
is sent only once the write commits (:mod:`django_accepton.services.changes`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.utils import timezone

from django_accepton import signals
from django_accepton.api import current_environment, get_client
from django_accepton.client import Subscription as RemoteSubscription
from django_accepton.client.resources import parse_datetime
from django_accepton.models import Subscription
from django_accepton.services.changes import announce
from django_accepton.services.cleaning import clean_row
from django_accepton.services.environments import require_current_environment
from django_accepton.services.mirroring import copy_mirrored, save_mirror

MIRRORED_FIELDS = ("plan", "active", "email", "last_billed_at", "created", "raw", "synced_at")


def remote_created(remote: RemoteSubscription) -> datetime | None:
    # No source gives subscriptions a creation time: read one if it is there, never fail over it.
    for key in ("created_at", "created"):
        try:
            value = parse_datetime(remote.raw.get(key), key)
        except ValueError:
            continue
        if value is not None:
            return value
    return None


def subscription_row(remote: RemoteSubscription, environment: str, now: datetime) -> Subscription:
    """An unsaved row holding AcceptOn's subscription; ``plan_id`` is AcceptOn's plan id."""
    row = Subscription(
        id=remote.id,
        environment=environment,
        plan_id=remote.plan.id,
        active=remote.active,
        email=remote.email or "",
        last_billed_at=remote.last_billed_at,
        created=remote_created(remote),
        raw=remote.raw,
        synced_at=now,
    )
    return clean_row(row)


def mirror_subscription(remote: RemoteSubscription) -> Subscription:
    """Write AcceptOn's subscription into the mirror now, as the next sync would."""
    row = subscription_row(remote, current_environment(), timezone.now())
    return save_mirror(row, unique_fields=("id",), update_fields=("environment", *MIRRORED_FIELDS))


def claim_creation(keys: Collection[str]) -> set[str]:
    """Of the subscriptions ``keys``, just written in the caller's transaction, those whose
    ``subscription_created`` nobody has claimed yet, claimed now: announce exactly these."""
    if not keys:
        return set()
    # The write just locked these rows (select_for_update refuses to run outside a transaction):
    # no other writer can claim one between the two statements.
    unclaimed = set(
        Subscription.objects.select_for_update()
        .filter(pk__in=keys, creation_announced=False)
        .values_list("pk", flat=True)
    )
    if unclaimed:
        Subscription.objects.filter(pk__in=unclaimed).update(creation_announced=True)
    return unclaimed


def cancel_subscription(subscription: Subscription | str) -> Subscription:
    """Cancel on AcceptOn, then record AcceptOn's answer. When AcceptOn refuses (for instance
    a subscription that is already cancelled) its ``AcceptOnError`` reaches the caller and the
    row is left as it was."""
    pk = subscription.pk if isinstance(subscription, Subscription) else subscription
    row = Subscription.objects.get(pk=pk)
    require_current_environment(row.environment, f"Subscription {row.pk}")
    remote = get_client().subscriptions.cancel(row.pk)
    was_active = row.active
    fresh = subscription_row(remote, row.environment, timezone.now())
    # By column: plan_id, never the plan, which would load a plan that may not be synced.
    copy_mirrored(row, fresh, MIRRORED_FIELDS)
    row.save(update_fields=MIRRORED_FIELDS)  # never the claim of its creation, read earlier
    if was_active and not row.active:
        announce(signals.subscription_cancelled, Subscription, subscription=row, source="service")
    return row
