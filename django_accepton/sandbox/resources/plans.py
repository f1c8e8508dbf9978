"""Plans: what a subscription pays for, how much, every month or every year.

A plan is what a recurring (``rtx_``) token sells and what every subscription points at. Plans
are made, looked up and listed; nothing here changes or deletes one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .. import errors, validate
from ..errors import bad_request
from ..records import JSON, Plan
from ..table import Table

if TYPE_CHECKING:
    from ..state import SandboxState

_PLAN_ORDER_BY = ("created_at", "amount", "name")


class Plans:
    """The account's plans, by id and in time order."""

    def __init__(self, account: SandboxState) -> None:
        self._account = account
        self._table: Table[Plan] = Table()

    def __len__(self) -> int:
        return len(self._table)

    def create_plan(
        self,
        name: object,
        amount: object,
        currency: object = None,
        period_unit: object = None,
    ) -> JSON:
        account = self._account
        checked_name = validate.required_name(name)
        checked_amount = validate.positive_int(amount)
        checked_currency = validate.currency(currency, "usd") or "usd"
        unit = validate.period_unit(period_unit)
        with account._lock:
            plan = self.add(checked_name, checked_amount, checked_currency, unit, account._now())
            return plan.to_json()

    def retrieve_plan(self, plan_id: str) -> JSON:
        with self._account._lock:
            return self.get(plan_id).to_json()

    def list_plans(
        self,
        *,
        page: object = None,
        per_page: object = None,
        period_unit: object = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        account = self._account
        page_number, size = validate.paging(page, per_page)
        field = validate.order_by(order_by, _PLAN_ORDER_BY)
        # Plans are the one list AcceptOn's fixtures show oldest first.
        desc = validate.order(order, default_desc=False)
        unit = None if period_unit in (None, "") else validate.period_unit(period_unit)
        with account._lock:
            matches = self._table.ordered
            if unit is not None:
                matches = [plan for plan in matches if plan.period_unit == unit]
            return account._page(matches, field, desc, page_number, size)

    # ----- internals (the lock is held by the caller) -----------------------------------------

    @property
    def ordered(self) -> Sequence[Plan]:
        """Every plan, oldest first (the table's own list: never change it)."""
        return self._table.ordered

    def get(self, plan_id: str) -> Plan:
        plan = self._table.get(plan_id)
        if plan is None:
            raise bad_request("invalid_plan_id", errors.NO_SUCH_PLAN)
        return plan

    def add(self, name: str, amount: int, currency: str, unit: str, created_at: datetime) -> Plan:
        account = self._account
        plan = Plan(
            id=account._unique(self._table, "pln_", 16),
            seq=next(account._seq),
            created_at=created_at,
            name=name,
            amount=amount,
            currency=currency,
            period_unit=unit,
        )
        return self._table.add(plan.id, plan)

    def seed(self, count: int, now: datetime) -> list[Plan]:
        """``count`` plausible plans, an hour apart up to ``now``, so that paging has something
        to bite on; returns them, oldest first."""
        account = self._account
        start = len(self._table)

        def made() -> Iterator[tuple[str, Plan]]:
            for offset in range(count):
                n = start + offset + 1
                plan = Plan(
                    id=account._unique(self._table, "pln_", 16),
                    seq=next(account._seq),
                    created_at=now - timedelta(hours=count - offset),
                    name=f"Seed plan {n}",
                    amount=500 + (n % 10) * 500,
                    currency="usd",
                    period_unit="year" if n % 4 == 0 else "month",
                )
                yield plan.id, plan

        return self._table.extend(made())

    def clear(self) -> None:
        self._table.clear()
