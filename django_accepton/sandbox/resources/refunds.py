"""Refunds: money given back on a charge, in part or in full, several times if need be.

A refund lowers what is left to refund on its charge (``Charge.refundable``); when the charge
reads as ``refunded`` is the dialect's choice (``SandboxState._render``). AcceptOn has no refund
listing: ``refunds_for_charge`` is for tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import validate
from ..errors import bad_request
from ..records import JSON, Refund
from ..table import Table

if TYPE_CHECKING:
    from ..state import SandboxState


class Refunds:
    """The account's refunds, by id."""

    def __init__(self, account: SandboxState) -> None:
        self._account = account
        self._table: Table[Refund] = Table()

    def __len__(self) -> int:
        return len(self._table)

    def create_refund(self, charge_id: str, amount: object, reason: object = None) -> JSON:
        """Refund part or all of what is left on a charge; several partial refunds add up."""
        account = self._account
        checked = validate.positive_int(amount)
        why = validate.optional_text(reason, "invalid_reason", "reason") or "requested_by_customer"
        with account._lock:
            charge = account._charges.get(charge_id)
            if checked > charge.refundable:
                raise bad_request(
                    "invalid_amount",
                    f"The amount exceeds what is left to refund on this charge "
                    f"({charge.refundable}).",
                )
            refund = Refund(
                id=account._unique(self._table, "ref_", 16),
                seq=next(account._seq),
                created_at=account._now(),
                amount=checked,
                currency=charge.currency,
                reason=why,
                charge_id=charge.id,
            )
            self._table.add(refund.id, refund)
            charge.refunded_amount += checked
            return refund.to_json()

    def refunds_for_charge(self, charge_id: str) -> list[JSON]:
        """Oldest first. Not an API call: AcceptOn has no refund listing."""
        account = self._account
        with account._lock:
            account._charges.get(charge_id)
            return [
                refund.to_json() for refund in self._table.values() if refund.charge_id == charge_id
            ]

    # ----- internals (the lock is held by the caller) -----------------------------------------

    def clear(self) -> None:
        self._table.clear()
