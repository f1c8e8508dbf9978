"""Charges: what customers paid, the one-shot charge override, and the charges list.

Charges only come to exist by paying: a customer paying a token on the hosted form
(``create_form_charge``, which reads the token and the promo code and, for a recurring token,
subscribes the payer) or a subscription's renewal (``subscriptions``). The override makes the
next form charge differ from its token, as tampering or a processor would. The list is the only
one with a date filter, answered by bisection over the charges in time order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import errors, validate
from ..cards import check_cvc, check_expiry, decline_for, normalise_number
from ..errors import bad_request
from ..formats import alnum, parse_date_bound
from ..pricing import discounted
from ..records import JSON, Charge
from ..table import Table

if TYPE_CHECKING:
    from ..state import SandboxState

_CHARGE_ORDER_BY = ("created_at", "amount")


class Charges:
    """The account's charges, by id and in time order, and the pending override."""

    def __init__(self, account: SandboxState) -> None:
        self._account = account
        self._table: Table[Charge] = Table()
        self._override: JSON | None = None

    def __len__(self) -> int:
        return len(self._table)

    def retrieve_charge(self, charge_id: str) -> JSON:
        account = self._account
        with account._lock:
            return account._render(self.get(charge_id))

    def list_charges(
        self,
        *,
        page: object = None,
        per_page: object = None,
        amount: object = None,
        start_date: str | date | None = None,
        end_date: str | date | None = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        account = self._account
        page_number, size = validate.paging(page, per_page)
        if account._dialect.charge_paging == "ignored":
            page_number = 1  # the page asked for is checked, then ignored
        field = validate.order_by(order_by, _CHARGE_ORDER_BY)
        desc = validate.order(order, default_desc=True)
        wanted_amount = None
        if amount not in (None, ""):
            wanted_amount = validate.as_int(amount)
            if wanted_amount is None:
                raise bad_request("invalid_amount", errors.INVALID_AMOUNT)
        exclusive = account._dialect.charge_dates == "exclusive"
        start = _date_bound(start_date, "start_date", end=False, exclusive=exclusive)
        end = _date_bound(end_date, "end_date", end=True, exclusive=exclusive)
        with account._lock:
            matches = self._table.created_between(
                None if start is None else start[0],
                None if end is None else end[0],
                include_end=end is not None and end[1],
            )
            if wanted_amount is not None:
                matches = [charge for charge in matches if charge.amount == wanted_amount]
            return account._page(matches, field, desc, page_number, size)

    def create_form_charge(
        self,
        token_id: str,
        card_number: object,
        exp_month: object,
        exp_year: object,
        cvc: object,
        email: object,
        promo_code: object = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A customer paying a token on the form: the only way charges come to exist.

        A one-off (``txn_``) token pays once; a recurring (``rtx_``) token can be paid by any
        number of customers and each payment subscribes the payer to the token's plan.
        """
        if metadata is not None and not isinstance(metadata, Mapping):
            raise bad_request("invalid_metadata", "The metadata must be an object.")
        account = self._account
        with account._lock:
            token = account._tokens.get(token_id)
            once = account._dialect.token_payments == "once"  # noqa: S105 - a dialect setting
            if token.plan is None and once and token.paid_by is not None:
                raise bad_request("token_already_used", "This transaction token was already paid.")
            number = normalise_number(card_number)
            check_expiry(exp_month, exp_year, account._now().date())
            check_cvc(cvc)
            address = validate.email(email)
            promo = None
            if promo_code not in (None, ""):
                promo = account._promo_codes.find(str(promo_code).strip())
                if promo is None:
                    raise bad_request("invalid_promo_code", "That promo code does not exist.")
            declined = decline_for(number)
            if declined is not None:
                raise declined
            recorded: JSON = dict(metadata or {})
            recorded["email"] = address
            amount = token.amount
            if promo is not None:
                if account._dialect.promo_on_charge == "metadata":
                    recorded["promo_code"] = promo.name
                amount = discounted(
                    amount, promo.promo_type, promo.value, account._dialect.percent_scale
                )
            charge = self.add(
                amount=amount,
                currency=token.currency or "usd",
                description=token.description,
                application_fee=token.application_fee,
                metadata=recorded,
                token_id=token.id,
                override=self._take_override(),
            )
            if token.plan is None:
                token.paid_by = token.paid_by or charge.id
            else:
                billed = account._dialect.first_billing == "at_payment"
                account._subscriptions.add(
                    token.plan, address, created_at=charge.created_at, billed=billed
                )
            return account._render(charge)

    def set_charge_status(self, charge_id: str, status: object) -> JSON:
        """A charge's processor status moving on (a payment settling, say); AcceptOn documents
        no such change, nor any status but ``paid`` and ``completed``: a test control."""
        if not isinstance(status, str) or not status:
            raise bad_request("invalid_status", "The status must be a non-empty string.")
        account = self._account
        with account._lock:
            charge = self.get(charge_id)
            charge.status = status
            return account._render(charge)

    def set_charge_override(
        self,
        *,
        amount: object = None,
        currency: object = None,
        status: object = None,
        description: object = None,
    ) -> JSON:
        """Make the next successful form charge differ from its token (tampering, processor
        rounding, a PayPal ``completed`` status...). Used once, then forgotten."""
        override: JSON = {}
        if amount is not None:
            checked = validate.as_int(amount)
            if checked is None or checked < 0:
                raise bad_request("invalid_amount", errors.INVALID_AMOUNT)
            override["amount"] = checked
        if currency is not None:
            override["currency"] = validate.currency(currency, None)
        if status is not None:
            if not isinstance(status, str) or not status:
                raise bad_request("invalid_status", "The status must be a non-empty string.")
            override["status"] = status
        if description is not None:
            override["description"] = str(description)
        if not override:
            raise bad_request(
                "invalid_override", "Give at least one of amount, currency, status, description."
            )
        with self._account._lock:
            self._override = override
            return dict(override)

    def clear_charge_override(self) -> None:
        with self._account._lock:
            self._override = None

    # ----- internals (the lock is held by the caller) -----------------------------------------

    @property
    def override_pending(self) -> bool:
        return self._override is not None

    def get(self, charge_id: str) -> Charge:
        charge = self._table.get(charge_id)
        if charge is None:
            # AcceptOn answers an unknown charge with 400, not 404 (its own fixtures).
            raise bad_request("invalid_charge_id", errors.NO_SUCH_CHARGE)
        return charge

    def add(
        self,
        *,
        amount: int,
        currency: str,
        description: str | None,
        application_fee: int | None,
        metadata: JSON,
        token_id: str | None,
        override: JSON | None,
        created_at: datetime | None = None,
    ) -> Charge:
        account = self._account
        charge = Charge(
            id=account._unique(self._table, "chg_", 16),
            seq=next(account._seq),
            created_at=created_at or account._now(),
            amount=amount,
            currency=currency,
            description=description,
            application_fee=application_fee,
            metadata=metadata,
            remote_id="ch_" + alnum(24),
            status=account._dialect.charge_status,
            token_id=token_id,
        )
        for key, value in (override or {}).items():
            setattr(charge, key, value)
        return self._table.add(charge.id, charge)

    def seed(self, count: int, now: datetime) -> None:
        """``count`` plausible charges, a minute apart up to ``now``, so that date filters and
        paging have something to bite on."""
        account = self._account
        start = len(self._table)

        def made() -> Iterator[tuple[str, Charge]]:
            for offset in range(count):
                n = start + offset + 1
                charge = Charge(
                    id=account._unique(self._table, "chg_", 16),
                    seq=next(account._seq),
                    created_at=now - timedelta(minutes=count - offset),
                    amount=1000 + (n % 20) * 250,
                    currency="usd",
                    description=f"Seed order {n}",
                    application_fee=None,
                    metadata={"email": f"customer{n}@example.com"},
                    remote_id="ch_" + alnum(24),
                    status=account._dialect.charge_status,
                )
                yield charge.id, charge

        self._table.extend(made())

    def clear(self) -> None:
        """Forget every charge and the pending override."""
        self._table.clear()
        self._override = None

    def _take_override(self) -> JSON | None:
        override, self._override = self._override, None
        return override


def _date_bound(
    value: str | date | None, name: str, *, end: bool, exclusive: bool
) -> tuple[datetime, bool] | None:
    if value is None or value == "":
        return None
    try:
        return parse_date_bound(value, end=end, exclusive=exclusive)
    except (TypeError, ValueError):
        raise bad_request(
            f"invalid_{name}", f"The {name} must be a date (YYYY-MM-DD) or an ISO 8601 time."
        ) from None
