"""Tokens: the ``txn_`` tokens a merchant creates and the ``rtx_`` tokens of plans.

A customer pays a token on the hosted form, which makes a charge (``charges``); paying an
``rtx_`` token also subscribes the payer to its plan. No AcceptOn call lists tokens, so they are
only ever looked up by id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errors, validate
from ..errors import not_found
from ..records import JSON, Token
from ..table import Table

if TYPE_CHECKING:
    from ..state import SandboxState


class Tokens:
    """The account's tokens, by id."""

    def __init__(self, account: SandboxState) -> None:
        self._account = account
        self._table: Table[Token] = Table()

    def __len__(self) -> int:
        return len(self._table)

    def create_token(
        self,
        amount: object,
        currency: object = None,
        description: object = None,
        application_fee: object = None,
        merchant_paypal_account: object = None,
    ) -> JSON:
        """A one-off ``txn_`` token; every argument is checked as the API would (400 otherwise)."""
        account = self._account
        checked_amount = validate.positive_int(amount)
        # AcceptOn's example answers currency null when none was sent; the sandbox does the same.
        checked_currency = validate.currency(currency, None)
        fee = validate.optional_non_negative_int(
            application_fee,
            "invalid_application_fee",
            "The application fee is not a non-negative integer.",
        )
        text = validate.optional_text(description, "invalid_description", "description")
        paypal = validate.optional_text(
            merchant_paypal_account, "invalid_merchant_paypal_account", "merchant PayPal account"
        )
        with account._lock:
            token = Token(
                id=account._unique(self._table, "txn_", 32),
                seq=next(account._seq),
                created=account._now(),
                amount=checked_amount,
                currency=checked_currency,
                description=text,
                application_fee=fee,
                merchant_paypal_account=paypal or None,
            )
            self._table.add(token.id, token)
            return token.to_json()

    def create_recurring_token(self, plan_id: str) -> JSON:
        """Mint an ``rtx_`` token for a plan, as AcceptOn's dashboard would (no API makes one)."""
        account = self._account
        with account._lock:
            plan = account._plans.get(plan_id)
            token = Token(
                id=account._unique(self._table, "rtx_", 32),
                seq=next(account._seq),
                created=account._now(),
                amount=plan.amount,
                currency=plan.currency,
                description=plan.name,
                application_fee=None,
                merchant_paypal_account=None,
                plan=plan,
            )
            self._table.add(token.id, token)
            return token.to_json()

    def retrieve_token(self, token_id: str) -> JSON:
        account = self._account
        with account._lock:
            if token_id.startswith("rtx_") and account._dialect.rtx_retrieve == "no":
                raise not_found("invalid_token", errors.UNKNOWN_TXN)
            return self.get(token_id).to_json()

    def form_config(self, token_id: str | None) -> JSON:
        """What the hosted form needs to render: the answer of ``GET /v1/form/configure``."""
        with self._account._lock:
            token = self.get(token_id or "")
            summary: JSON = {
                "id": token.id,
                "amount": token.amount,
                "currency": token.currency or "usd",
                "description": token.description,
            }
            if token.plan is not None:
                summary["plan"] = token.plan.to_json()
            return {
                "config": {
                    "payment_methods": ["credit-card"],
                    "token": summary,
                    "promo_codes_enabled": True,
                }
            }

    # ----- internals (the lock is held by the caller) -----------------------------------------

    def get(self, token_id: str) -> Token:
        token = self._table.get(token_id)
        if token is None:
            raise not_found("invalid_token", errors.UNKNOWN_TXN)
        return token

    def clear(self) -> None:
        self._table.clear()
