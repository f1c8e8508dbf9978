"""Promo codes: every change is made on AcceptOn first and mirrored only once it succeeded.

When AcceptOn refuses, the client's ``AcceptOnError`` (carrying AcceptOn's message) or the
``ValueError`` of an argument the client rejects before sending reaches the caller, and the
local row is left exactly as it was.

A ``percentage`` value is given here as a percent (15 for 15 % off) and sent in the account's
scale (``PROMO_PERCENT_SCALE``: 0.15 or 15, see ``client.pricing``), the one place the two
meet. The mirror keeps the value exactly as AcceptOn stores it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from django_accepton import signals
from django_accepton.api import current_environment, get_client
from django_accepton.client import InvalidRequestError, NotFoundError, pricing
from django_accepton.client import PromoCode as RemotePromoCode
from django_accepton.conf import get_settings
from django_accepton.models import PromoCode
from django_accepton.services.changes import announce
from django_accepton.services.cleaning import clean_row
from django_accepton.services.environments import require_current_environment
from django_accepton.services.mirroring import copy_mirrored, save_mirror

# The name is not here: with the environment it is the key the sync matches rows on.
MIRRORED_FIELDS = (
    "promo_type",
    "value",
    "created",
    "raw",
    "synced_at",
    "last_seen_at",
    "deleted_at",
)

PromoValue = int | Decimal | str


def promo_code_row(remote: RemotePromoCode, environment: str, now: datetime) -> PromoCode:
    """An unsaved row holding AcceptOn's promo code as it was just read."""
    row = PromoCode(
        environment=environment,
        name=remote.name,
        promo_type=remote.promo_type,
        value=remote.value,
        created=remote.created,
        raw=remote.raw,
        synced_at=now,
        last_seen_at=now,
        deleted_at=None,
    )
    return clean_row(row, keys=("name",))


def mirror_promo_code(remote: RemotePromoCode) -> PromoCode:
    row = promo_code_row(remote, current_environment(), timezone.now())
    return save_mirror(row, unique_fields=("environment", "name"), update_fields=MIRRORED_FIELDS)


def wire_value(promo_type: str, value: PromoValue) -> PromoValue:
    """What to send as a code's ``value``: a percentage's percent in the account's scale,
    anything else (minor units) unchanged."""
    if promo_type != "percentage":
        return value
    try:
        percent = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"a percentage must be a number, got {value!r}") from None
    if not percent.is_finite():
        raise ValueError(f"a percentage must be a number, got {value!r}")
    scale = get_settings().promo_percent_scale
    wire = pricing.to_wire(percent, scale)
    # The mirror keeps the value exactly as AcceptOn stores it: a value with more places than
    # its column would be kept rounded there, and differ from AcceptOn's.
    places = PromoCode._meta.get_field("value").decimal_places  # type: ignore[union-attr]
    exponent = wire.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        allowed = places - 2 if scale == pricing.FRACTION else places
        raise ValueError(
            f"value has too many decimal places for a percentage: at most {allowed}, got {value!r}"
        )
    return wire


def percent_of(row: PromoCode) -> Decimal:
    """A mirrored ``percentage`` code's value as a percent, read in the account's scale."""
    return pricing.percent_off(Decimal(row.value), get_settings().promo_percent_scale)


def create_promo_code(name: str, promo_type: str, value: PromoValue) -> PromoCode:
    """Create a code; ``value`` is minor units, or for ``percentage`` a percent (15)."""
    remote = get_client().promo_codes.create(name, promo_type, wire_value(promo_type, value))
    return mirror_promo_code(remote)


def _row(promo: PromoCode | int) -> PromoCode:
    row = PromoCode.objects.get(pk=promo.pk if isinstance(promo, PromoCode) else promo)
    require_current_environment(row.environment, f"Promo code {row.name}")
    return row


def update_promo_code(
    promo: PromoCode | int, *, name: str, promo_type: str, value: PromoValue
) -> PromoCode:
    """Change a code's name, type and value on AcceptOn (addressed by the name stored here),
    then mirror AcceptOn's answer onto the same row. ``value`` as for
    :func:`create_promo_code`."""
    row = _row(promo)
    client = get_client()
    try:
        remote = client.promo_codes.update(
            row.name, name, promo_type, wire_value(promo_type, value)
        )
    except InvalidRequestError as exc:
        # What AcceptOn answers for an unknown code is undocumented; a 400 to an update may
        # also mean the new name is taken. The code itself tells which.
        if isinstance(exc, NotFoundError) or exc.http_status != 400:
            raise
        try:
            client.promo_codes.retrieve(row.name)
        except NotFoundError:
            raise NotFoundError.from_error(exc) from exc
        raise
    fresh = promo_code_row(remote, row.environment, timezone.now())
    with transaction.atomic():
        # AcceptOn refuses a name that is taken, so a local row still holding the new name
        # describes a code that is gone from AcceptOn: it gives way.
        PromoCode.objects.filter(environment=row.environment, name=fresh.name).exclude(
            pk=row.pk
        ).delete()
        before = (row.name, row.promo_type, row.value)
        row.name = fresh.name
        copy_mirrored(row, fresh, MIRRORED_FIELDS)
        row.save()
        if (row.name, row.promo_type, row.value) != before:
            announce(signals.promo_code_changed, PromoCode, promo_code=row, source="service")
    return row


def delete_promo_code(promo: PromoCode | int) -> None:
    """Delete on AcceptOn, then locally. A code AcceptOn no longer knows is deleted locally
    too: the state asked for is reached either way."""
    row = _row(promo)
    client = get_client()
    try:
        client.promo_codes.delete(row.name)
    except NotFoundError:
        pass
    except InvalidRequestError as exc:
        # What AcceptOn answers for an unknown code is undocumented: a 400 means "gone" only
        # if the code itself cannot be found.
        if exc.http_status != 400:
            raise
        try:
            client.promo_codes.retrieve(row.name)
        except NotFoundError:
            pass
        else:
            raise
    # A queryset delete leaves the caller's instance (and its pk) intact, for the admin's log.
    PromoCode.objects.filter(pk=row.pk).delete()
    if row.deleted_at is None:
        announce(signals.promo_code_deleted, PromoCode, promo_code=row, source="service")
