"""The API's resource groups: ``client.tokens``, ``client.charges``, …

Each group is a small class whose paths and HTTP methods are attributes, so that one call can be
changed by subclassing the group and naming the subclass on ``AcceptOn`` (``charges_class`` …).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from . import validation as check
from .resources import Charge, Page, Plan, PromoCode, Refund, Subscription, TransactionToken
from .transport import Params, ParamValue
from .validation import MAX_PER_PAGE, ORDERS, PERIOD_UNITS

if TYPE_CHECKING:
    from .client import AcceptOn

T = TypeVar("T")
R = TypeVar("R")
DateParam = date | datetime | str | None
PromoValue = int | float | Decimal | str


class Service:
    """Base of the resource groups: access to the transport, paging and page walking."""

    def __init__(self, client: AcceptOn) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], R],
        *,
        params: Params | None = None,
        data: Params | None = None,
    ) -> R:
        return self.client.transport.request(method, path, parse, params=params, data=data)

    def fetch_page(
        self,
        path: str,
        parse_item: Callable[[Any], T],
        filters: dict[str, ParamValue],
        page: int,
        per_page: int,
    ) -> Page[T]:
        check.paging(page, per_page)
        params = {**filters, "page": page, "per_page": per_page}

        def parse(payload: Any) -> Page[T]:
            return Page.from_json(payload, parse_item, page=page, per_page=per_page)

        return self.request("GET", path, parse, params=params)

    @staticmethod
    def walk(fetch: Callable[[int], Page[T]]) -> Iterator[T]:
        """Items of pages 1, 2, … one at a time, holding a single page in memory."""
        number = 1
        while True:
            page = fetch(number)
            yield from page.data
            if not page.has_more:
                return
            number += 1


class Tokens(Service):
    path = "/v1/tokens"

    def create(
        self,
        amount: int,
        currency: str,
        *,
        description: str | None = None,
        application_fee: int | None = None,
        merchant_paypal_account: str | None = None,
    ) -> TransactionToken:
        """A transaction token for a payment form. ``currency`` is always sent: the documented
        default and the documented example disagree, so nothing is left to the server."""
        if description is not None and not isinstance(description, str):
            raise ValueError(f"description must be a string, got {description!r}")
        data: dict[str, ParamValue] = {
            "amount": check.positive_amount(amount),
            "currency": check.currency(currency),
            "description": description,
            "application_fee": check.optional_fee(application_fee, "application_fee"),
            "merchant_paypal_account": check.optional_text(
                merchant_paypal_account, "merchant_paypal_account"
            ),
        }
        return self.request("POST", self.path, TransactionToken.from_json, data=data)

    def retrieve(self, token_id: str) -> TransactionToken:
        """A ``txn_…`` or ``rtx_…`` token."""
        segment = check.path_segment(token_id, "token_id")
        return self.request("GET", f"{self.path}/{segment}", TransactionToken.from_json)


class Charges(Service):
    path = "/v1/charges"

    def retrieve(self, charge_id: str) -> Charge:
        segment = check.path_segment(charge_id, "charge_id")
        return self.request("GET", f"{self.path}/{segment}", Charge.from_json)

    def filters(
        self,
        amount: int | None,
        start_date: DateParam,
        end_date: DateParam,
        order_by: str | None,
        order: str | None,
    ) -> dict[str, ParamValue]:
        return {
            "amount": None if amount is None else check.positive_amount(amount),
            "start_date": check.wire_date(start_date, "start_date"),
            "end_date": check.wire_date(end_date, "end_date"),
            "order_by": check.optional_text(order_by, "order_by"),
            "order": check.optional_choice(order, "order", ORDERS),
        }

    def list(
        self,
        *,
        amount: int | None = None,
        start_date: DateParam = None,
        end_date: DateParam = None,
        order_by: str | None = None,
        order: str | None = None,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> Page[Charge]:
        filters = self.filters(amount, start_date, end_date, order_by, order)
        return self.fetch_page(self.path, Charge.from_json, filters, page, per_page)

    def iter_all(
        self,
        *,
        amount: int | None = None,
        start_date: DateParam = None,
        end_date: DateParam = None,
        order_by: str | None = None,
        order: str | None = None,
    ) -> Iterator[Charge]:
        self.filters(amount, start_date, end_date, order_by, order)  # fail now, not on next()
        return self.walk(
            lambda number: self.list(
                amount=amount,
                start_date=start_date,
                end_date=end_date,
                order_by=order_by,
                order=order,
                page=number,
                per_page=MAX_PER_PAGE,
            )
        )


class Refunds(Service):
    path = "/v1/refunds"

    def create(self, charge_id: str, amount: int) -> Refund:
        """Refund ``amount`` of a charge. This is never retried once it may have reached
        AcceptOn: on ``APIConnectionError(request_sent=True)`` or ``APIError``, look at the
        charge before refunding again."""
        data: dict[str, ParamValue] = {
            "charge_id": check.text(charge_id, "charge_id"),
            "amount": check.positive_amount(amount),
        }
        return self.request("POST", self.path, Refund.from_json, data=data)


class Plans(Service):
    @property
    def path(self) -> str:
        return f"{self.client.recurring_prefix}/plans"

    def create(self, name: str, amount: int, currency: str, period_unit: str) -> Plan:
        data: dict[str, ParamValue] = {
            "name": check.text(name, "name"),
            "amount": check.positive_amount(amount),
            "currency": check.currency(currency),
            "period_unit": check.choice(period_unit, "period_unit", PERIOD_UNITS),
        }
        return self.request("POST", self.path, Plan.from_json, data=data)

    def retrieve(self, plan_id: str) -> Plan:
        segment = check.path_segment(plan_id, "plan_id")
        return self.request("GET", f"{self.path}/{segment}", Plan.from_json)

    def filters(self, order_by: str | None, order: str | None) -> dict[str, ParamValue]:
        return {
            "order_by": check.optional_text(order_by, "order_by"),
            "order": check.optional_choice(order, "order", ORDERS),
        }

    def list(
        self,
        *,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        order_by: str | None = None,
        order: str | None = None,
    ) -> Page[Plan]:
        filters = self.filters(order_by, order)
        return self.fetch_page(self.path, Plan.from_json, filters, page, per_page)

    def iter_all(self, *, order_by: str | None = None, order: str | None = None) -> Iterator[Plan]:
        self.filters(order_by, order)
        return self.walk(
            lambda number: self.list(
                order_by=order_by, order=order, page=number, per_page=MAX_PER_PAGE
            )
        )


class Subscriptions(Service):
    # Cancel lives outside the recurring prefix in every source, including the clients that
    # use that prefix for everything else.
    cancel_path = "/v1/subscriptions/{id}/cancel"

    @property
    def path(self) -> str:
        return f"{self.client.recurring_prefix}/subscriptions"

    def retrieve(self, subscription_id: str) -> Subscription:
        segment = check.path_segment(subscription_id, "subscription_id")
        return self.request("GET", f"{self.path}/{segment}", Subscription.from_json)

    def filters(
        self,
        active: bool | None,
        plan_token: str | None,
        order_by: str | None,
        order: str | None,
    ) -> dict[str, ParamValue]:
        return {
            "active": check.optional_flag(active, "active"),
            "plan.token": check.optional_text(plan_token, "plan_token"),
            "order_by": check.optional_text(order_by, "order_by"),
            "order": check.optional_choice(order, "order", ORDERS),
        }

    def list(
        self,
        *,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        active: bool | None = None,
        plan_token: str | None = None,
        order_by: str | None = None,
        order: str | None = None,
    ) -> Page[Subscription]:
        filters = self.filters(active, plan_token, order_by, order)
        return self.fetch_page(self.path, Subscription.from_json, filters, page, per_page)

    def iter_all(
        self,
        *,
        active: bool | None = None,
        plan_token: str | None = None,
        order_by: str | None = None,
        order: str | None = None,
    ) -> Iterator[Subscription]:
        self.filters(active, plan_token, order_by, order)
        return self.walk(
            lambda number: self.list(
                active=active,
                plan_token=plan_token,
                order_by=order_by,
                order=order,
                page=number,
                per_page=MAX_PER_PAGE,
            )
        )

    def cancel(self, subscription_id: str) -> Subscription:
        segment = check.path_segment(subscription_id, "subscription_id")
        return self.request("POST", self.cancel_path.format(id=segment), Subscription.from_json)


class PromoCodes(Service):
    """Promo codes, addressed by name. The oldest reference used POST for retrieve, update and
    delete; set the ``*_method`` attributes on a subclass to talk to such a server."""

    path = "/v1/promo_codes"
    retrieve_method = "GET"
    update_method = "PUT"
    delete_method = "DELETE"

    def _body(self, name: str, promo_type: str, value: PromoValue) -> dict[str, ParamValue]:
        kind = check.promo_type(promo_type)
        return {
            "name": check.text(name, "name"),
            "promo_type": kind,
            "value": check.promo_value(value, kind),
        }

    def create(self, name: str, promo_type: str, value: PromoValue) -> PromoCode:
        """``value`` is cents for ``amount`` and ``fixed_price``; for ``percentage`` it is sent
        as given (0.15 or 15), see ``PromoCode.percent_off``."""
        data = self._body(name, promo_type, value)
        return self.request("POST", self.path, PromoCode.from_json, data=data)

    def retrieve(self, name: str) -> PromoCode:
        segment = check.path_segment(name, "name")
        return self.request(self.retrieve_method, f"{self.path}/{segment}", PromoCode.from_json)

    def filters(
        self, promo_type: str | None, order_by: str | None, order: str | None
    ) -> dict[str, ParamValue]:
        return {
            "promo_type": None if promo_type is None else check.promo_type(promo_type),
            "order_by": check.optional_text(order_by, "order_by"),
            "order": check.optional_choice(order, "order", ORDERS),
        }

    def list(
        self,
        *,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        promo_type: str | None = None,
        order_by: str | None = None,
        order: str | None = None,
    ) -> Page[PromoCode]:
        filters = self.filters(promo_type, order_by, order)
        return self.fetch_page(self.path, PromoCode.from_json, filters, page, per_page)

    def iter_all(
        self,
        *,
        promo_type: str | None = None,
        order_by: str | None = None,
        order: str | None = None,
    ) -> Iterator[PromoCode]:
        self.filters(promo_type, order_by, order)
        return self.walk(
            lambda number: self.list(
                promo_type=promo_type,
                order_by=order_by,
                order=order,
                page=number,
                per_page=MAX_PER_PAGE,
            )
        )

    def update(
        self, original_name: str, name: str, promo_type: str, value: PromoValue
    ) -> PromoCode:
        """Replace a code's name, type and value; all three are always sent."""
        segment = check.path_segment(original_name, "original_name")
        data = self._body(name, promo_type, value)
        return self.request(
            self.update_method, f"{self.path}/{segment}", PromoCode.from_json, data=data
        )

    def delete(self, name: str) -> PromoCode:
        """Delete a code; AcceptOn answers with the deleted code."""
        segment = check.path_segment(name, "name")
        return self.request(self.delete_method, f"{self.path}/{segment}", PromoCode.from_json)
