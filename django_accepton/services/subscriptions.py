"""Subscriptions: mirrored by the sync (and by a verified payment of a recurring token, at
once); cancelled on AcceptOn first, then locally.

``subscription_created`` is sent once per subscription, by the write that inserted its row: the
checkout that verified its first payment, or a sync page. Each used to decide that it wrote a
new row from what it had read before writing, and the two can race: a sync page reads no row,
the checkout inserts one and announces it, and the page's upsert then updates that row,
believing it new. So each write knows whether it inserted:

- the checkout's (``update_or_create``) is told so by the ORM: its insert either succeeds or
  fails on the key, and then it updates;
- a sync page's single upsert cannot tell an insert from an update, so each row it builds
  carries a fresh ``insert_token``, written by an insert only (an update leaves the column as
  it is), and after the upsert, in the same transaction, one ``SELECT`` finds which of the rows
  it took for new hold its tokens (:func:`inserted_by`).

A row's key can be inserted once, so exactly one write finds it inserted. Rows mirrored before
the column existed hold the empty token, which no write uses.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
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
from django_accepton.services.mirroring import copy_mirrored, write_mirror
from django_accepton.services.upsert import WRITTEN_ON

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
        insert_token=secrets.token_hex(16),  # written by an insert only: see inserted_by
    )
    return clean_row(row)


def mirror_subscription(remote: RemoteSubscription) -> Subscription:
    """Write AcceptOn's subscription into the mirror now, as the next sync would, and announce
    ``subscription_created`` (``source="service"``) if this write inserted it."""
    row, inserted = write_subscription(remote)
    if inserted:
        announce(
            signals.subscription_created,
            Subscription,
            subscription=row,
            initial=False,
            source="service",
        )
    return row


def write_subscription(remote: RemoteSubscription) -> tuple[Subscription, bool]:
    """:func:`mirror_subscription` for a caller that announces the row itself (the checkout,
    once it has linked its customer): the row, and whether this write inserted it."""
    row = subscription_row(remote, current_environment(), timezone.now())
    return write_mirror(row, unique_fields=("id",), update_fields=("environment", *MIRRORED_FIELDS))


def inserted_by(written: Mapping[str, Subscription], *, using: str = WRITTEN_ON) -> set[str]:
    """Of ``written`` (key → row as a sync page just upserted it on ``using``, in the caller's
    transaction), the keys whose rows that upsert inserted: they hold its ``insert_token``.
    Read where the page wrote, whatever a router says of reads: a replica would not see them."""
    if not written:
        return set()
    rows = Subscription._default_manager.db_manager(using).filter(pk__in=list(written))
    stored = rows.values_list("pk", "insert_token")
    return {pk for pk, token in stored if token and token == written[pk].insert_token}


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
