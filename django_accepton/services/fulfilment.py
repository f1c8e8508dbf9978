"""Telling the store that a charge paid: delivered at least once, so it is fulfilled exactly once.

The verdict and the duty to announce it are one write: a charge becomes ``verified`` with
``fulfilled_at`` empty, in the transaction that decides it. Announcing it is ``deliver``:

1. A lease on the row (one conditional update: verified, not yet fulfilled, no live lease), so
   that two deliveries of one charge never run at once.
2. ``charge_verified`` is sent with ``send_robust``: a receiver that raises is logged with its
   traceback and does not stop the others, nor the customer's page.
3. When every receiver returned, ``fulfilled_at`` is set. When one raised, the error is kept on
   the row (``delivery_error``) and the lease given back.

``redeliver_fulfilments`` (a periodic task in ``BEAT_SCHEDULE`` and a step of ``sync_accepton``)
delivers again every verified charge whose ``fulfilled_at`` is still empty a minute after its
verdict (``REDELIVER_AFTER_SECONDS``), until the receivers succeed, up to ``MAX_ATTEMPTS``
deliveries in all, the first one included: a charge whose last delivery failed then becomes an
attention item (``undelivered``) for a human, and is not sent again by itself. A charge
refunded (or with a refund in flight) before it was delivered is never delivered: the money is
going back.

So a receiver can be called more than once for one charge, and must make its effect
once: a conditional update (``Order.objects.filter(pk=…, paid_at__isnull=True).update(…)``), or a
unique row per charge id, not "read, check, write". That is what makes the store's fulfilment
exactly once while the package's delivery is at least once.

A delivery is started after the verdict's transaction commits (``transaction.on_commit``), so a
receiver never sees a decision that could still roll back. The package's checkout views are
excluded from ``ATOMIC_REQUESTS`` for the same reason: the verdict, and the delivery with it, are
done before the customer is redirected to a page that reads the order.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from django_accepton import signals
from django_accepton.models import Charge, Verification
from django_accepton.services.changes import announce

logger = logging.getLogger(__name__)

UNDELIVERED = "undelivered"

# A delivery that holds its lease longer than this is taken to have died with its process.
LEASE = timedelta(minutes=5)
# Verified charges still unfulfilled after this long are delivered again.
REDELIVER_AFTER_SECONDS = 60
# Deliveries of one charge before it is left to a human.
MAX_ATTEMPTS = 10
# Verified, not yet delivered, and no money going back (that is not a sale to deliver).
TO_DELIVER = Q(
    verification=Verification.VERIFIED,
    fulfilled_at__isnull=True,
    refunded=False,
    amount_refunded=0,
)


def deliver(charge_id: str, *, charge: Charge | None = None) -> bool:
    """Send ``charge_verified`` for a verified, unfulfilled charge; ``True`` once every receiver
    returned. ``False`` when another delivery holds the charge, it is fulfilled already, or a
    receiver raised (then logged, kept on the row, and tried again later). ``charge``: the row
    as the verdict just committed it (with its token), which spares reading it again."""
    now = timezone.now()
    taken = (
        Charge.objects.filter(TO_DELIVER, pk=charge_id)
        .filter(Q(delivery_started_at__isnull=True) | Q(delivery_started_at__lt=now - LEASE))
        .update(delivery_started_at=now, delivery_attempts=F("delivery_attempts") + 1)
    )
    if not taken:
        return False
    if charge is None:
        charge = Charge.objects.select_related("token").get(pk=charge_id)
    else:
        charge.delivery_started_at = now
        charge.delivery_attempts += 1
    answers = signals.charge_verified.send_robust(Charge, charge=charge, token=charge.token)
    failures = [(receiver, error) for receiver, error in answers if isinstance(error, Exception)]
    for receiver, error in failures:
        logger.error(
            "charge_verified receiver %s failed for charge %s; it will be sent again",
            getattr(receiver, "__qualname__", receiver),
            charge_id,
            exc_info=(type(error), error, error.__traceback__),
        )
    if failures:
        described = "; ".join(f"{type(error).__name__}: {error}" for _, error in failures)
        Charge.objects.filter(pk=charge_id).update(
            delivery_error=described[:2000], delivery_started_at=None
        )
        # This delivery is counted already (the lease): the tenth failure is the last one.
        if charge.delivery_attempts >= MAX_ATTEMPTS:
            _give_up(charge_id)
        return False
    Charge.objects.filter(pk=charge_id, fulfilled_at__isnull=True).update(
        fulfilled_at=timezone.now(), delivery_error="", delivery_started_at=None
    )
    return True


def _give_up(charge_id: str) -> None:
    """After ``MAX_ATTEMPTS`` failed deliveries: an attention item, sent once."""
    given_up = Charge.objects.filter(pk=charge_id, fulfilled_at__isnull=True, attention="").update(
        attention=UNDELIVERED, attention_resolved_at=None
    )
    if given_up:
        logger.error("Charge %s was not delivered after %d attempts", charge_id, MAX_ATTEMPTS)
        charge = Charge.objects.get(pk=charge_id)
        announce(signals.charge_needs_attention, Charge, charge=charge, reason=UNDELIVERED)


@dataclass
class RedeliveryResult:
    delivered: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def redeliver_fulfilments(*, older_than: int | None = None) -> RedeliveryResult:
    """Deliver again every verified charge the store has not been told about successfully.

    One charge's failure (its receivers raising, the database refusing its row) is logged and
    counted; the others are still delivered."""
    age = REDELIVER_AFTER_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=age)
    waiting = (
        Charge.objects.filter(
            TO_DELIVER, verified_at__lte=cutoff, delivery_attempts__lt=MAX_ATTEMPTS
        )
        .order_by("verified_at")
        .values_list("pk", flat=True)
    )
    result = RedeliveryResult()
    for charge_id in list(waiting):
        try:
            delivered = deliver(charge_id)
        except Exception:
            logger.exception("Delivering charge %s failed", charge_id)
            delivered = False
        if delivered:
            result.delivered += 1
        else:
            result.failed += 1
    return result
