"""Money AcceptOn took that the store did not fulfil: attention items.

A charge can be paid at AcceptOn and still not be a sale here: its amount, currency or
description is not the token's, its token or its order was already paid by another charge. The
verdict is right to refuse it, but the customer's money is real. So every such refused charge
that AcceptOn does not report refunded is flagged, whatever its status (no document names a
status that takes no money), as is a charge refused because its status stayed one no document
calls a success. Each is flagged (``Charge.attention`` holds the reason) in the
transaction that refuses it, and ``charge_needs_attention`` is sent once that commits.

An attention item stays open (``Charge.needs_attention``) until its money goes back (refunds
through the package, from the admin's button or the policy below, mark it settled once they
cover the charge; AcceptOn's ``refunded`` flag alone does not, as it may mean a partial refund)
or a human marks it settled (:func:`settle`, the admin action). The admin
lists open items with the "Needs attention" filter and offers their refund.

``REFUND_UNFULFILLED`` (off by default) makes :func:`refund_unfulfilled` refund every open item
in full, from the periodic task and ``sync_accepton``, once it is an hour old (time for a human
to fulfil it by hand and settle it instead). Payments of a plan's recurring token are left to a
human: refunding one leaves the subscription AcceptOn made billing. So are charges refused for a
status no document calls a success (``not_paid``): whether they took money at all is a human's
to find out. It is idempotent: a refund
reserves its amount on the charge first, so a second run finds nothing left to refund; a refund
whose outcome is unknown stays reserved and is never sent again (see
:mod:`django_accepton.services.refunds`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.utils import timezone

from django_accepton import signals
from django_accepton.api import current_environment
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client.resources import PAID_STATUSES
from django_accepton.conf import get_settings
from django_accepton.models import Charge
from django_accepton.services.changes import announce

logger = logging.getLogger(__name__)

# How old an open item is before REFUND_UNFULFILLED gives its money back.
AUTO_REFUND_AFTER = timedelta(hours=1)

# A charge whose status stayed one the documents do not call a success: no document says
# whether money was taken, so a human looks (it is not refunded automatically either).
UNCONFIRMED = "not_paid"

# The refusals where AcceptOn may have taken money for something the store will not deliver.
# (refunded is a refusal with no money held; unknown_charge has no charge.)
MONEY_TAKEN = frozenset(
    {
        "amount_mismatch",
        "currency_mismatch",
        "description_mismatch",
        "token_already_fulfilled",
        "order_already_paid",
        "not_a_first_payment",
        "subscription_undecided",
    }
)


def flag(charge: Charge, remote: RemoteCharge, reason: str) -> bool:
    """Inside the transaction that refuses ``charge``: mark it an attention item when AcceptOn
    holds its money, and have ``charge_needs_attention`` sent once that commits. The caller
    saves the row."""
    # Whatever its status: no document names one that takes no money (see UNCONFIRMED).
    if remote.refunded or (reason != UNCONFIRMED and reason not in MONEY_TAKEN):
        return False
    charge.attention = reason
    charge.attention_resolved_at = None
    logger.warning(
        "Charge %s was paid at AcceptOn but not fulfilled (%s): it needs attention",
        charge.pk,
        reason,
    )
    announce(signals.charge_needs_attention, Charge, charge=charge, reason=reason)
    return True


def settle(charge: Charge | str, *, note: str = "") -> bool:
    """Mark an attention item settled by a human (the money was dealt with elsewhere)."""
    charge_id = charge.pk if isinstance(charge, Charge) else charge
    settled = Charge.objects.filter(
        pk=charge_id, attention__gt="", attention_resolved_at__isnull=True
    ).update(attention_resolved_at=timezone.now())
    if settled and note:
        logger.info("Attention item %s settled: %s", charge_id, note)
    return bool(settled)


def open_items(*, older_than: timedelta | None = None) -> list[Charge]:
    items = Charge.objects.filter(
        environment=current_environment(), attention__gt="", attention_resolved_at__isnull=True
    )
    if older_than is not None:
        items = items.filter(claimed_at__lte=timezone.now() - older_than)
    return list(items.order_by("claimed_at"))


@dataclass
class AutoRefundResult:
    refunded: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def refund_unfulfilled() -> AutoRefundResult:
    """With ``REFUND_UNFULFILLED`` on, refund every open attention item in full; nothing
    otherwise. One item's failure is logged and counted, the others go on."""
    from django_accepton.services.refunds import RefundError, refund

    result = AutoRefundResult()
    if not get_settings().refund_unfulfilled:
        return result
    for charge in open_items(older_than=AUTO_REFUND_AFTER):
        left = charge.refundable_amount
        # Only money AcceptOn calls paid goes back by itself: under any other status, whether
        # money was taken at all is a human's to find out.
        paid = charge.status.lower() in PAID_STATUSES and charge.attention != UNCONFIRMED
        if left <= 0 or charge.refunded or charge.recurring or not paid:
            result.skipped += 1
            continue
        try:
            refund(
                charge,
                left,
                f"Automatic refund: paid but not fulfilled ({charge.attention})",
                expected_refunded=charge.amount_refunded,
            )
        except RefundError as exc:
            logger.warning("Automatic refund of %s did not go through: %s", charge.pk, exc)
            result.failed += 1
        except Exception:
            logger.exception("Automatic refund of %s failed", charge.pk)
            result.failed += 1
        else:
            result.refunded += 1
    return result
