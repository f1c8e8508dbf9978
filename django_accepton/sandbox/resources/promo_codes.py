"""Promo codes: named discounts a customer types on the hosted form.

Promo codes are the one resource keyed by name rather than by a generated id: the name is what
the customer types and the path segment of every call, so a new one must be free, may not hold
a slash, and a rename files the code under its new name (its place in the lists stays). What a
code takes off a price is ``pricing``'s; how a ``percentage`` value is read is the dialect's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .. import errors, validate
from ..errors import bad_request, not_found
from ..records import JSON, PromoCode
from ..table import Table

if TYPE_CHECKING:
    from ..state import SandboxState

_PROMO_ORDER_BY = ("created_at", "name", "value")


class PromoCodes:
    """The account's promo codes, by name and in time order."""

    def __init__(self, account: SandboxState) -> None:
        self._account = account
        self._table: Table[PromoCode] = Table()

    def __len__(self) -> int:
        return len(self._table)

    def create_promo_code(self, name: object, promo_type: object, value: object) -> JSON:
        account = self._account
        checked_name = _promo_name(name)
        kind = validate.promo_type(promo_type)
        checked_value = validate.promo_value(value, kind)
        with account._lock:
            if checked_name in self._table:
                raise bad_request("invalid_name", errors.NAME_TAKEN)
            promo = PromoCode(checked_name, next(account._seq), account._now(), kind, checked_value)
            self._table.add(promo.name, promo)
            return promo.to_json()

    def retrieve_promo_code(self, name: str) -> JSON:
        with self._account._lock:
            return self.get(name).to_json()

    def list_promo_codes(
        self,
        *,
        page: object = None,
        per_page: object = None,
        promo_type: object = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        account = self._account
        page_number, size = validate.paging(page, per_page)
        field = validate.order_by(order_by, _PROMO_ORDER_BY)
        desc = validate.order(order, default_desc=True)
        kind = None if promo_type in (None, "") else validate.promo_type(promo_type)
        with account._lock:
            matches = self._table.ordered
            if kind is not None:
                matches = [promo for promo in matches if promo.promo_type == kind]
            return account._page(matches, field, desc, page_number, size)

    def update_promo_code(
        self,
        original_name: str,
        name: object = None,
        promo_type: object = None,
        value: object = None,
    ) -> JSON:
        """Change (and possibly rename) a code; a field left out keeps its value."""
        with self._account._lock:
            promo = self.get(original_name)
            new_name = promo.name if name in (None, "") else _promo_name(name)
            kind = promo.promo_type if promo_type in (None, "") else validate.promo_type(promo_type)
            if value in (None, ""):
                new_value = validate.promo_value(promo.value, kind)
            else:
                new_value = validate.promo_value(value, kind)
            if new_name != promo.name and new_name in self._table:
                raise bad_request("invalid_name", errors.NAME_TAKEN)
            self._table.rename(promo.name, new_name)
            promo.name, promo.promo_type, promo.value = new_name, kind, new_value
            return promo.to_json()

    def delete_promo_code(self, name: str) -> JSON:
        with self._account._lock:
            promo = self.get(name)
            self._table.remove(promo.name)
            return promo.to_json()

    # ----- internals (the lock is held by the caller) -----------------------------------------

    def find(self, name: str) -> PromoCode | None:
        """The code of that name, if any (for the form, which has its own error for none)."""
        return self._table.get(name)

    def get(self, name: str) -> PromoCode:
        promo = self._table.get(name)
        if promo is None:
            message = "There is no promo code with that name."
            if self._account._dialect.missing_promo == "400":
                # The one promo code error type AcceptOn documents: the least telling answer.
                raise bad_request("invalid_name", message)
            raise not_found("invalid_promo_code", message)
        return promo

    def seed(self, count: int, now: datetime) -> None:
        """``count`` plausible codes named ``SEED<n>`` (skipping names taken), a minute apart up
        to ``now``, of every type in turn."""
        account = self._account
        first = len(self._table)

        def made() -> Iterator[tuple[str, PromoCode]]:
            n = first
            for offset in range(count):
                n += 1
                while f"SEED{n}" in self._table:
                    n += 1
                step = n % 10
                kind = validate.PROMO_TYPES[n % 3]
                value: int | float
                if kind == "amount":
                    value = 100 * (1 + step)
                elif kind == "fixed_price":
                    value = 1000 + 100 * step
                else:
                    value = round(0.05 * (1 + n % 6), 2)
                promo = PromoCode(
                    f"SEED{n}",
                    next(account._seq),
                    now - timedelta(minutes=count - offset),
                    kind,
                    value,
                )
                yield promo.name, promo

        self._table.extend(made())

    def clear(self) -> None:
        self._table.clear()


def _promo_name(name: object) -> str:
    checked = validate.required_name(name)
    if "/" in checked:
        # The name is a path segment of every later call; a slash could never be addressed.
        raise bad_request("invalid_name", "A promo code name cannot contain '/'.")
    return checked
