"""Charges as the sync mirrors them.

A charge the sync finds and nobody has claimed through checkout is stored ``unclaimed``: a
copy of AcceptOn's data that fulfils nothing, cannot be refunded from here, and gives way to
the first checkout claim of its id (``verification._claim_synced_charge``). For a charge that
was claimed, the sync refreshes only AcceptOn's fields, never the claim (token, verification,
reason) nor ``amount_refunded``, the running total the refund service keeps.
"""

from __future__ import annotations

from datetime import datetime

from django_accepton.client import Charge as RemoteCharge
from django_accepton.models import Charge, Verification
from django_accepton.services.cleaning import clean_row

MIRRORED_FIELDS = (
    "amount",
    "currency",
    "status",
    "refunded",
    "description",
    "metadata",
    "remote_id",
    "created",
    "raw",
    "synced_at",
)


def charge_row(remote: RemoteCharge, environment: str, now: datetime) -> Charge:
    """An unsaved, unclaimed row holding AcceptOn's charge as it was just read."""
    row = Charge(
        id=remote.id,
        environment=environment,
        amount=remote.amount,
        currency=(remote.currency or "").lower(),
        # AcceptOn's values are copied whole into ``raw``; clean_row cuts the columns.
        status=remote.status or "",
        refunded=bool(remote.refunded),
        description=remote.description or "",
        metadata=remote.metadata,
        remote_id=remote.remote_id or "",
        created=remote.created,
        raw=remote.raw,
        synced_at=now,
        verification=Verification.UNCLAIMED,
        claimed_at=now,
    )
    return clean_row(row)


def mirrored_values(remote: RemoteCharge, environment: str, now: datetime) -> dict[str, object]:
    """AcceptOn's fields of ``remote`` as ``MIRRORED_FIELDS`` column values (cleaned, as the
    sync writes them), for an ``update()`` of a row that must keep its claim."""
    fresh = charge_row(remote, environment, now)
    return {field: getattr(fresh, field) for field in MIRRORED_FIELDS}
