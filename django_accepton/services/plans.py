"""Plans: created on AcceptOn, then mirrored. AcceptOn has no call to change or delete one."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from django_accepton.api import current_environment, get_client
from django_accepton.client import Plan as RemotePlan
from django_accepton.models import Plan
from django_accepton.services.cleaning import clean_row
from django_accepton.services.mirroring import save_mirror

# Columns the sync and ``mirror_plan`` overwrite from AcceptOn's answer.
MIRRORED_FIELDS = (
    "name",
    "amount",
    "currency",
    "period_unit",
    "created",
    "raw",
    "synced_at",
    "last_seen_at",
    "deleted_at",
)


def plan_row(remote: RemotePlan, environment: str, now: datetime) -> Plan:
    """An unsaved row holding AcceptOn's plan as it was just read."""
    row = Plan(
        id=remote.id,
        environment=environment,
        name=remote.name,
        amount=remote.amount,
        currency=remote.currency.lower(),
        period_unit=remote.period_unit,
        created=remote.created,
        raw=remote.raw,
        synced_at=now,
        last_seen_at=now,
        deleted_at=None,
    )
    return clean_row(row)


def mirror_plan(remote: RemotePlan) -> Plan:
    row = plan_row(remote, current_environment(), timezone.now())
    return save_mirror(row, unique_fields=("id",), update_fields=("environment", *MIRRORED_FIELDS))


def create_plan(name: str, amount: int, currency: str, period_unit: str) -> Plan:
    """Create the plan on AcceptOn, then mirror it. Nothing is stored when AcceptOn refuses:
    the client's ``AcceptOnError`` (or ``ValueError`` for an argument it rejects before
    sending) reaches the caller with AcceptOn's message."""
    remote = get_client().plans.create(name, amount, currency, period_unit)
    return mirror_plan(remote)
