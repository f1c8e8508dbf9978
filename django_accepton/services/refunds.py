"""Refunding verified charges, partially or in full, never beyond what was charged.

Every attempt is a ``RefundRequest`` committed *before* AcceptOn is called, and its amount is
added to ``Charge.amount_refunded`` in the same transaction, under a row lock on the charge.
``amount_refunded`` is therefore the running total of refunds made *and* in flight, and no
number of concurrent refunds can ask AcceptOn for more than the charge.

What AcceptOn answers then settles the request:

- a refund: ``succeeded``, with the ``Refund`` row;
- a refusal (400, 401, 404, or a connection that never opened): ``failed``, and the amount is
  released;
- anything that leaves the outcome open (any 5xx, 503 included: AcceptOn's documents call it
  "maintenance" but nothing says the refund was not processed; a dropped connection or a timeout
  after the request went out; an answer that cannot be read): ``unknown``, and the amount stays
  reserved until :func:`reconcile_refunds` settles it. The refund is never sent again by itself.

Settling an unknown refund needs what AcceptOn says about the charge, and all it says is the
``refunded`` flag, whose meaning for partial refunds is undocumented: true once refunds reach
the charged amount, or true after any refund. Reconciliation therefore settles only what both
readings agree on (see :func:`reconcile_refunds`) and leaves the rest ``unknown``, reserved, for
a human who can look at AcceptOn's dashboard.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from django_accepton import signals
from django_accepton.api import current_environment, get_client
from django_accepton.client import (
    AcceptOn,
    AcceptOnError,
    APIConnectionError,
    AuthenticationError,
    InvalidRequestError,
)
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client import Refund as RemoteRefund
from django_accepton.models import Charge, Refund, RefundRequest, RefundState, Verification
from django_accepton.services.changes import announce
from django_accepton.services.cleaning import clean_json, clean_row

logger = logging.getLogger(__name__)

# Older than the client's connect + read timeouts (5 + 30 s) with room to spare, so that the
# reconciliation never settles a request whose call is still waiting for AcceptOn's answer.
RECONCILE_AFTER_SECONDS = 120
UNSETTLED = (RefundState.REQUESTED, RefundState.UNKNOWN)


class RefundError(Exception):
    """Base of the refund errors; ``request`` is the audit row, when one was written."""

    def __init__(self, message: str, *, request: RefundRequest | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class RefundNotAllowed(RefundError):
    """The charge cannot be refunded from here (unknown, not verified, other environment)."""


class InvalidRefundAmount(RefundError, ValueError):
    """Not a positive whole number of minor units, or more than is left to refund."""


class RefundDeclined(RefundError):
    """AcceptOn refused the refund; nothing was refunded and the reservation was released."""


class RefundOutcomeUnknown(RefundError):
    """AcceptOn may or may not have refunded: the amount stays reserved until reconciled."""


def _check_amount(amount: object) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRefundAmount(f"The amount must be whole minor units (cents), not {amount!r}.")
    if amount <= 0:
        raise InvalidRefundAmount(f"The amount must be positive, not {amount}.")
    return amount


def refund(
    charge: Charge | str,
    amount: int,
    reason: str = "",
    *,
    requested_by: Any = None,
    expected_refunded: int | None = None,
) -> RefundRequest:
    """Refund ``amount`` minor units of a verified charge, or of one that needs attention (money
    taken, nothing fulfilled); returns the succeeded request.

    ``expected_refunded`` makes a confirmation single-use: the refund goes ahead only if the
    charge's ``amount_refunded`` (made and in flight) is still what the person confirming saw.
    A confirmation posted twice, or two people confirming at once, refund once: the second
    finds the total moved and gets ``RefundNotAllowed``.

    Raises ``InvalidRefundAmount`` or ``RefundNotAllowed`` before anything is recorded, and
    ``RefundDeclined`` or ``RefundOutcomeUnknown`` after AcceptOn was asked (the request row,
    on the exception, says what happened). Call it outside any transaction: the request must be
    committed before AcceptOn is called.
    """
    charge_id = charge.pk if isinstance(charge, Charge) else charge
    amount = _check_amount(amount)
    request = _reserve(
        charge_id, amount, (reason or "").strip()[:255], requested_by, expected_refunded
    )
    client = get_client()
    _note_flag_before(client, request)
    # The call goes out now: the reconciliation waits RECONCILE_AFTER_SECONDS from here, not
    # from the reservation (the read above, retried, can take longer than that).
    RefundRequest.objects.filter(pk=request.pk, state=RefundState.REQUESTED).update(
        updated=timezone.now()
    )
    try:
        remote = client.refunds.create(charge_id, amount)
    except (InvalidRequestError, AuthenticationError) as exc:
        _release(request, f"AcceptOn refused the refund: {exc.message}")
        raise RefundDeclined(exc.message, request=request) from exc
    except APIConnectionError as exc:
        if not exc.request_sent:
            _release(request, f"AcceptOn could not be reached; nothing was sent: {exc.message}")
            raise RefundDeclined(exc.message, request=request) from exc
        _mark_unknown(request, str(exc))
        raise RefundOutcomeUnknown(exc.message, request=request) from exc
    except AcceptOnError as exc:
        _mark_unknown(request, str(exc))
        raise RefundOutcomeUnknown(exc.message, request=request) from exc
    except Exception as exc:
        # Whatever broke, the call may have gone out: keep the amount reserved.
        _mark_unknown(request, f"{type(exc).__name__}: {exc}")
        raise
    return _record_success(request, remote, _charge_after(client, charge_id))


def _charge_after(client: AcceptOn, charge_id: str) -> RemoteCharge | None:
    """The charge as AcceptOn reports it once the refund went through, so the mirror holds what
    the next sync will read (and the sync does not announce this refund again); ``None`` when
    it cannot be read now."""
    try:
        return client.charges.retrieve(charge_id)
    except AcceptOnError as exc:
        logger.info("Charge %s could not be read after its refund: %s", charge_id, exc)
        return None


def _note_flag_before(client: AcceptOn, request: RefundRequest) -> None:
    """Record AcceptOn's ``refunded`` flag as it is before the refund goes out: only a flag that
    was off then can show later that this refund happened (see :func:`reconcile_refunds`).
    A failure to ask costs nothing but that proof."""
    try:
        flag = client.charges.retrieve(request.charge_id).refunded
    except AcceptOnError as exc:
        logger.info("Charge %s could not be read before its refund: %s", request.charge_id, exc)
        return
    RefundRequest.objects.filter(pk=request.pk).update(refunded_before=flag)
    request.refunded_before = flag
    others = Charge.objects.filter(pk=request.charge_id).values_list("amount_refunded", flat=True)
    if flag and others.get() == request.amount:
        # AcceptOn reports a refund this store never made (its dashboard, say), and the flag
        # may mean "refunded in full": nothing is sent. (With refunds of its own, the flag may
        # be theirs, and AcceptOn itself refuses more than is left.)
        message = "AcceptOn reports the charge refunded; nothing was sent."
        _release(request, message)
        Charge.objects.filter(pk=request.charge_id).update(refunded=True)
        raise RefundNotAllowed(message, request=request)


def _reserve(
    charge_id: str,
    amount: int,
    reason: str,
    requested_by: Any,
    expected_refunded: int | None = None,
) -> RefundRequest:
    environment = current_environment()
    with transaction.atomic():
        locked = Charge.objects.select_for_update().filter(pk=charge_id).first()
        if locked is None:
            raise RefundNotAllowed(f"There is no charge {charge_id} here.")
        if locked.environment != environment:
            raise RefundNotAllowed(
                f"Charge {charge_id} belongs to the {locked.environment} environment; "
                f"this site talks to {environment}."
            )
        if locked.verification != Verification.VERIFIED and not locked.needs_attention:
            raise RefundNotAllowed(
                f"Only verified charges, and charges that need attention, can be refunded; "
                f"{charge_id} is {locked.get_verification_display().lower()}."
            )
        if expected_refunded is not None and locked.amount_refunded != expected_refunded:
            raise RefundNotAllowed(
                f"The refunds of {charge_id} changed since this refund was confirmed "
                f"({expected_refunded} then, {locked.amount_refunded} now); nothing was sent."
            )
        refundable = locked.refundable_amount
        if amount > refundable:
            raise InvalidRefundAmount(
                f"{amount} is more than the {refundable} left to refund on {charge_id} "
                f"(charged {locked.amount}; refunds made or in progress hold the rest)."
            )
        if locked.refunded and locked.amount_refunded == 0:
            # AcceptOn reports the charge refunded, and not by this store: the flag may mean in
            # full (undocumented), by a refund made in its dashboard.
            raise RefundNotAllowed(
                f"AcceptOn reports {charge_id} refunded; refund anything left of it in "
                "AcceptOn's dashboard."
            )
        locked.amount_refunded += amount
        locked.save(update_fields=["amount_refunded"])
        return RefundRequest.objects.create(
            environment=environment,
            charge=locked,
            amount=amount,
            reason=reason,
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        )


def _locked(request: RefundRequest) -> tuple[Charge, RefundRequest]:
    charge = Charge.objects.select_for_update().get(pk=request.charge_id)
    return charge, RefundRequest.objects.select_for_update().get(pk=request.pk)


def _record_success(
    request: RefundRequest, remote: RemoteRefund, after: RemoteCharge | None = None
) -> RefundRequest:
    now = timezone.now()
    with transaction.atomic():
        charge, locked = _locked(request)
        row = Refund(
            id=remote.id,
            environment=locked.environment,
            charge=charge,
            amount=remote.amount,
            currency=(remote.currency or charge.currency).lower(),
            reason=remote.reason or "",
            created=remote.created,
            raw=remote.raw,
            synced_at=now,
        )
        # The money went back whatever AcceptOn's text holds: the record must be written, even
        # under an id AcceptOn answered before (``raw`` keeps the id it sent).
        clean_row(row, repair_keys=True)
        if Refund.objects.filter(pk=row.pk).exists():
            logger.warning(
                "AcceptOn answered refund id %s again; recorded as %s-%s", row.pk, row.pk, locked.pk
            )
            row.id = f"{row.pk}-{locked.pk}"[-64:]
        row.save(force_insert=True)
        # The amount AcceptOn refunded replaces what is reserved for it. Only a request that
        # reconciliation released meanwhile (its call outlived RECONCILE_AFTER_SECONDS) has
        # nothing reserved any more.
        reserved = 0 if locked.state == RefundState.FAILED else locked.amount
        charge.amount_refunded = max(charge.amount_refunded - reserved + remote.amount, 0)
        # All of it, by this store's own refunds: AcceptOn's flag may be on after any refund.
        full = _covers(charge, _returned(charge.pk) + remote.amount, now)
        charge.refunded = charge.refunded or full or bool(after and after.refunded)
        # What the sync will read: this refund is announced here, and must not be again. Unread,
        # the flag is taken as on (it may turn on at a partial refund); the sync corrects it.
        charge.raw = (
            clean_json(after.raw) if after is not None else {**(charge.raw or {}), "refunded": True}
        )
        charge.save(update_fields=["amount_refunded", "refunded", "attention_resolved_at", "raw"])
        announce(
            signals.charge_refunded,
            Charge,
            charge=charge,
            amount=remote.amount,
            full=full,
            source="service",
        )
        locked.state = RefundState.SUCCEEDED
        locked.refund = row
        locked.error = ""
        locked.save(update_fields=["state", "refund", "error", "updated"])
    logger.info("Refunded %s of charge %s (%s)", remote.amount, charge.pk, remote.id)
    return locked


def _release(request: RefundRequest, error: str) -> None:
    with transaction.atomic():
        charge, locked = _locked(request)
        if locked.state not in UNSETTLED:
            return
        charge.amount_refunded = max(charge.amount_refunded - locked.amount, 0)
        charge.save(update_fields=["amount_refunded"])
        locked.state = RefundState.FAILED
        locked.error = error
        locked.save(update_fields=["state", "error", "updated"])
    request.state, request.error = locked.state, locked.error
    logger.warning("Refund request %s failed: %s", request.pk, error)


def _mark_unknown(request: RefundRequest, error: str) -> None:
    RefundRequest.objects.filter(pk=request.pk, state=RefundState.REQUESTED).update(
        state=RefundState.UNKNOWN, error=error, updated=timezone.now()
    )
    request.refresh_from_db(fields=["state", "error", "updated"])
    logger.error(
        "Refund request %s of charge %s: outcome unknown, %s stays reserved (%s)",
        request.pk,
        request.charge_id,
        request.amount,
        error,
    )


def _returned(charge_id: str) -> int:
    """What the charge's succeeded refund requests returned (through the service, confirmed by
    the reconciliation or settled by hand: only the first have a ``Refund`` row)."""
    found = RefundRequest.objects.filter(charge_id=charge_id, state=RefundState.SUCCEEDED)
    return int(found.aggregate(total=Sum("amount"))["total"] or 0)


def _covers(charge: Charge, returned: int, now: datetime) -> bool:
    """Whether ``returned`` is all of ``charge``; an attention item it covers is settled (the
    money went back). The caller saves the row."""
    full = returned >= (charge.amount or 0)
    if full and charge.needs_attention:
        charge.attention_resolved_at = now
    return full


def settle_by_hand(
    request: RefundRequest | int, *, refunded: bool, settled_by: Any = None
) -> RefundRequest:
    """Settle a refund of unknown outcome as a human found it on AcceptOn's dashboard:
    ``refunded`` (the amount stays counted and ``charge_refunded`` is announced) or not (the
    amount is released, and can be refunded again). Only an ``unknown`` request is settled;
    anything else raises ``RefundNotAllowed`` and changes nothing."""
    pk = request.pk if isinstance(request, RefundRequest) else request
    who = str(settled_by) if settled_by is not None else "a human"
    charge_id = RefundRequest.objects.values_list("charge_id", flat=True).get(pk=pk)
    with transaction.atomic():
        # The charge first, then its request, in the order every refund path takes them.
        charge = Charge.objects.select_for_update().get(pk=charge_id)
        locked = RefundRequest.objects.select_for_update().get(pk=pk)
        if locked.state != RefundState.UNKNOWN:
            raise RefundNotAllowed(
                f"Refund request {pk} is {locked.state}: only one of unknown outcome is settled "
                "by hand.",
                request=locked,
            )
        if refunded:
            locked.state = RefundState.SUCCEEDED
            locked.error = f"Settled by {who}: refunded on AcceptOn."
            full = _covers(charge, _returned(charge.pk) + locked.amount, timezone.now())
            charge.refunded = charge.refunded or full
            charge.save(update_fields=["refunded", "attention_resolved_at"])
            announce(
                signals.charge_refunded,
                Charge,
                charge=charge,
                amount=locked.amount,
                full=full,
                source="reconciliation",
            )
        else:
            charge.amount_refunded = max(charge.amount_refunded - locked.amount, 0)
            charge.save(update_fields=["amount_refunded"])
            locked.state = RefundState.FAILED
            locked.error = f"Settled by {who}: not refunded on AcceptOn; the amount is released."
        locked.save(update_fields=["state", "error", "updated"])
    logger.info("Refund request %s settled by hand: %s", pk, locked.state)
    return locked


@dataclass
class ReconcileResult:
    charges_checked: int = 0
    succeeded: int = 0
    released: int = 0
    still_unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


CONFIRMED_NOTE = (
    "Settled by reconciliation: AcceptOn reports the charge refunded, and this request with the "
    "refunds before it covers the whole charge, so it happened. AcceptOn has no refund list, so "
    "its refund id is not known."
)
RELEASED_NOTE = (
    "Settled by reconciliation: AcceptOn reports the charge not refunded, and this request was "
    "for all that was left of it, so it did not happen; the reservation was released."
)
UNDECIDED_NOTE = (
    "Left for a human: AcceptOn only reports whether a charge is 'refunded', and whether that "
    "flag turns on for a partial refund is undocumented, so it cannot tell whether this "
    "refund happened. Check AcceptOn's dashboard. The amount stays reserved meanwhile, so "
    "nothing can be refunded twice."
)


def reconcile_refunds(*, older_than: int | None = None) -> ReconcileResult:
    """Settle refund requests whose outcome is unknown (or whose process died mid-call).

    AcceptOn has no refund list; the charge's ``refunded`` flag is all there is, and it means
    either "refunds reached the charged amount" or "a refund was made" (undocumented). A
    request is settled only where both readings agree:

    - flag off, and the request was for everything left of the charge: had it happened, the
      charge would be fully refunded and the flag on under either reading. Released.
    - flag on now, off just before the request was sent (``refunded_before``), the only
      unsettled request of the charge, and with the refunds that succeeded before it covering
      the whole charge: under the first reading the charge is fully refunded; under the second
      a refund was made since this one was sent, and it is the only one asked for. Succeeded.
      (A refund made in AcceptOn's dashboard in those seconds is the one case this cannot tell
      apart.)

    Anything else (a partial request) stays ``unknown``, reserved, for a human.
    """
    age = RECONCILE_AFTER_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=age)
    unsettled = RefundRequest.objects.filter(
        environment=current_environment(), state__in=UNSETTLED, updated__lte=cutoff
    )
    charge_ids = list(unsettled.values_list("charge_id", flat=True).distinct().order_by())
    result = ReconcileResult()
    client = get_client()
    for charge_id in charge_ids:
        try:
            _reconcile_charge(client, charge_id, unsettled, result)
        except Exception as exc:  # one poisoned charge never holds the others up
            if not isinstance(exc, AcceptOnError):
                logger.exception("Reconciling the refunds of charge %s failed", charge_id)
            else:
                logger.warning("Refunds of charge %s stay unsettled: %s", charge_id, exc)
            result.still_unknown += unsettled.filter(charge_id=charge_id).count()
    return result


def _reconcile_charge(client: Any, charge_id: str, unsettled: Any, result: ReconcileResult) -> None:
    """Settle what AcceptOn's flag proves of one charge's unsettled requests (see
    :func:`reconcile_refunds`); raises what AcceptOn or the database raised, nothing written."""
    remote = client.charges.retrieve(charge_id)
    result.charges_checked += 1
    with transaction.atomic():
        charge = Charge.objects.select_for_update().get(pk=charge_id)
        requests = list(unsettled.select_for_update().filter(charge_id=charge_id))
        before = _returned(charge_id)
        whole = charge.amount or 0
        flag_was_on, announced = charge.refunded, False
        for request in requests:
            covers_the_rest = before + request.amount >= whole
            flag_was_off = request.refunded_before is False
            if remote.refunded and flag_was_off and covers_the_rest and len(requests) == 1:
                request.state, request.error = RefundState.SUCCEEDED, CONFIRMED_NOTE
                result.succeeded += 1
                announced = True
                announce(
                    signals.charge_refunded,
                    Charge,
                    charge=charge,
                    amount=request.amount,
                    full=True,
                    source="reconciliation",
                )
            elif not remote.refunded and covers_the_rest:
                charge.amount_refunded = max(charge.amount_refunded - request.amount, 0)
                request.state, request.error = RefundState.FAILED, RELEASED_NOTE
                result.released += 1
            else:
                request.state, request.error = RefundState.UNKNOWN, UNDECIDED_NOTE
                result.still_unknown += 1
            request.save(update_fields=["state", "error", "updated"])
        charge.refunded = bool(remote.refunded)
        if charge.refunded and not flag_was_on and not announced:
            # AcceptOn's flag turned on and no request here is proven to be why: announced as
            # a sync announces it (amount and extent unknown), since the sync, reading the
            # copy written below, will find nothing new.
            announce(
                signals.charge_refunded,
                Charge,
                charge=charge,
                amount=None,
                full=None,
                source="reconciliation",
            )
        settled = sum(r.amount for r in requests if r.state == RefundState.SUCCEEDED)
        _covers(charge, before + settled, timezone.now())
        charge.status = remote.status or charge.status
        charge.raw = remote.raw
        charge.synced_at = timezone.now()
        charge.save(
            update_fields=[
                "amount_refunded",
                "refunded",
                "attention_resolved_at",
                "status",
                "raw",
                "synced_at",
            ]
        )
