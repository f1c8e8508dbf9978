"""Subscriptions: a customer on a plan, billed each period until cancelled.

A subscription starts when a customer pays a plan's recurring token (``charges``), or directly
through the test shortcut ``create_subscription``; a renewal (``bill_subscription``) makes a
charge for the plan. Whether subscriptions carry a creation time, and so can be ordered by it,
is the dialect's choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .. import errors, validate
from ..errors import bad_request, not_found
from ..records import JSON, Plan, Subscription
from ..table import Table

if TYPE_CHECKING:
    from ..state import SandboxState

_SUBSCRIPTION_ORDER_BY = ("created_at", "email")


class Subscriptions:
    """The account's subscriptions, by id and in time order."""

    def __init__(self, account: SandboxState) -> None:
        self._account = account
        self._table: Table[Subscription] = Table()

    def __len__(self) -> int:
        return len(self._table)

    def create_subscription(
        self,
        plan_id: str,
        email: object,
        *,
        active: bool = True,
        billed: bool = False,
    ) -> JSON:
        """A subscription without a payment: a test shortcut, AcceptOn has no such call."""
        account = self._account
        address = validate.email(email)
        with account._lock:
            plan = account._plans.get(plan_id)
            subscription = self.add(plan, address, account._now(), billed=billed)
            subscription.active = bool(active)
            return account._render(subscription)

    def retrieve_subscription(self, subscription_id: str) -> JSON:
        account = self._account
        with account._lock:
            return account._render(self.get(subscription_id))

    def list_subscriptions(
        self,
        *,
        page: object = None,
        per_page: object = None,
        active: object = None,
        plan_token: str | None = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        account = self._account
        page_number, size = validate.paging(page, per_page)
        if account._dialect.subscription_order == "refused":
            # Subscriptions carry no creation time in this reading: nothing to order them by
            # but their email; the default order stays newest first.
            if order_by not in (None, ""):
                validate.order_by(order_by, ("email",))
                field = "email"
            else:
                field = "created_at"
        else:
            field = validate.order_by(order_by, _SUBSCRIPTION_ORDER_BY)
        desc = validate.order(order, default_desc=True)
        wanted_active = (
            None if active in (None, "") else validate.boolean(active, "invalid_active", "active")
        )
        with account._lock:
            matches = self._table.ordered
            if plan_token:
                matches = [sub for sub in matches if sub.plan.id == plan_token]
            if wanted_active is not None:
                matches = [sub for sub in matches if sub.active is wanted_active]
            return account._page(matches, field, desc, page_number, size)

    def cancel_subscription(self, subscription_id: str) -> JSON:
        account = self._account
        with account._lock:
            subscription = self._table.get(subscription_id)
            if subscription is None or not subscription.active:
                raise bad_request("unable_to_cancel_subscription", errors.UNABLE_TO_CANCEL)
            subscription.active = False
            return account._render(subscription)

    def bill_subscription(self, subscription_id: str) -> JSON:
        """A renewal, as AcceptOn would run it: a charge for the plan, ``last_billed_at`` moved."""
        account = self._account
        with account._lock:
            subscription = self.get(subscription_id)
            if not subscription.active:
                raise bad_request(
                    "unable_to_bill_subscription", "A cancelled subscription cannot be billed."
                )
            plan = subscription.plan
            charge = account._charges.add(
                amount=plan.amount,
                currency=plan.currency,
                description=plan.name,
                application_fee=None,
                # No document shows a renewal's metadata: the form fills metadata, and a
                # renewal has no form (dialect ``renewal_metadata``).
                metadata=(
                    {"email": subscription.email}
                    if account._dialect.renewal_metadata == "email"
                    else {}
                ),
                token_id=None,
                override=None,
            )
            subscription.last_billed_at = charge.created_at
            return {
                "subscription": account._render(subscription),
                "charge": account._render(charge),
            }

    # ----- internals (the lock is held by the caller) -----------------------------------------

    def active_count(self) -> int:
        return sum(1 for sub in self._table if sub.active)

    def get(self, subscription_id: str) -> Subscription:
        subscription = self._table.get(subscription_id)
        if subscription is None:
            message = "There is no subscription with that ID."
            if self._account._dialect.missing_subscription == "400":
                raise bad_request("invalid_subscription_id", message)
            raise not_found("invalid_subscription_id", message)
        return subscription

    def add(self, plan: Plan, email: str, created_at: datetime, *, billed: bool) -> Subscription:
        account = self._account
        subscription = Subscription(
            id=account._unique(self._table, "sub_", 16),
            seq=next(account._seq),
            created_at=created_at,
            email=email,
            plan=plan,
            last_billed_at=created_at if billed else None,
        )
        return self._table.add(subscription.id, subscription)

    def seed(self, count: int, now: datetime) -> None:
        """``count`` plausible subscriptions, a minute apart up to ``now``, spread over the
        existing plans (three are seeded first when there are none)."""
        account = self._account
        plans = list(account._plans.ordered) or account._plans.seed(
            3, now - timedelta(minutes=count)
        )
        start = len(self._table)

        def made() -> Iterator[tuple[str, Subscription]]:
            for offset in range(count):
                n = start + offset + 1
                moment = now - timedelta(minutes=count - offset)
                subscription = Subscription(
                    id=account._unique(self._table, "sub_", 16),
                    seq=next(account._seq),
                    created_at=moment,
                    email=f"subscriber{n}@example.com",
                    plan=plans[n % len(plans)],
                    active=n % 5 != 0,
                    last_billed_at=None if n % 7 == 0 else moment,
                )
                yield subscription.id, subscription

        self._table.extend(made())

    def clear(self) -> None:
        self._table.clear()
