"""The API's resource groups: ``client.tokens``, ``client.charges``, …

Each group is a small class whose paths and HTTP methods are attributes, so that one call can be
changed by subclassing the group and naming the subclass on ``AcceptOn`` (``charges_class`` …).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from . import validation as check
from .errors import InvalidRequestError, NotFoundError, PagingIgnored
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
        repeatable: bool = False,
    ) -> R:
        return self.client.transport.request(
            method, path, parse, params=params, data=data, repeatable=repeatable
        )

    def lookup(self, method: str, path: str, parse: Callable[[Any], R]) -> R:
        """A read that addresses one object by its path and sends nothing else: any 400 it gets
        can only be about that object, so it is ``NotFoundError`` whatever its error type.
        (AcceptOn's documents show 400 for some unknown objects and 404 for others, and say
        nothing for subscriptions and promo codes.)"""
        try:
            return self.request(method, path, parse)
        except NotFoundError:
            raise
        except InvalidRequestError as exc:
            if exc.http_status != 400:
                raise
            raise NotFoundError.from_error(exc) from exc

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
        """Items of pages 1, 2, … one at a time, holding a single page in memory, until a short
        or empty page. Raises ``PagingIgnored`` when a page repeats the one before it: the
        server did not honour ``page`` and the rest of the list cannot be read this way."""
        number = 1
        previous: Page[T] | None = None
        while True:
            page = fetch(number)
            if previous is not None and page.repeats(previous):
                raise PagingIgnored(number)
            yield from page.data
            if not page.has_more:
                return
            previous = page
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
        # A second token for the same price is harmless (it is simply never paid), so a token
        # whose answer was lost is asked for again.
        return self.request(
            "POST", self.path, TransactionToken.from_json, data=data, repeatable=True
        )

    def retrieve(self, token_id: str) -> TransactionToken:
        """A ``txn_…`` or ``rtx_…`` token."""
        segment = check.path_segment(token_id, "token_id")
        return self.lookup("GET", f"{self.path}/{segment}", TransactionToken.from_json)


class Charges(Service):
    path = "/v1/charges"

    def retrieve(self, charge_id: str) -> Charge:
        segment = check.path_segment(charge_id, "charge_id")
        return self.lookup("GET", f"{self.path}/{segment}", Charge.from_json)

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

    def walk_by_date(
        self,
        first: date,
        last: date,
        *,
        parse_item: Callable[[Any], T] = Charge.from_json,  # type: ignore[assignment]
        per_page: int = MAX_PER_PAGE,
    ) -> Iterator[DateWindow]:
        """The charges created from day ``first`` to day ``last`` (UTC), oldest first, one
        window at a time, without ever asking for a page after the first.

        For a server that ignores ``page`` on this list (paging on charges is undocumented):
        a window whose first page is full is halved until each window fits in a page. Whole
        days are asked for as ``YYYY-MM-DD`` (the documented form); whether ``start_date`` and
        ``end_date`` include their own day is undocumented, so each window asks for a day more
        on each side and keeps only the charges inside it, which puts every charge in exactly
        one window. A day too busy for one page is halved by time, as ISO 8601 timestamps
        (which one client's documents allow); a server that ignores the time shows it by
        answering a later half with charges from before it, and that window, like one that
        cannot be halved further, says ``complete=False``.
        """
        windows = [(_midnight(first), _midnight(last) + timedelta(days=1))]
        while windows:
            start, end = windows.pop()
            whole_days = start.time() == end.time() == datetime.min.time()
            if whole_days:
                day = timedelta(days=1)
                low: DateParam = (start - day).date()
                high: DateParam = end.date()  # the last day of the window, plus one
                filters = self.filters(None, low, high, "created_at", "asc")
            else:
                # A second's margin for bounds that exclude themselves, kept inside the day: a
                # server that reads only the date then sees this day alone.
                second = timedelta(seconds=1)
                day_start = _midnight(start.date())
                day_end = day_start + timedelta(days=1) - timedelta(milliseconds=1)
                filters = self.filters(None, None, None, "created_at", "asc")
                filters["start_date"] = max(start - second, day_start).isoformat()
                filters["end_date"] = min(end + second, day_end).isoformat()
            page = self.fetch_page(self.path, parse_item, filters, 1, per_page)
            inside = [
                item
                for item in page.data
                if (created := _created_at(item)) is None or start <= created < end
            ]
            halves = end - start >= timedelta(seconds=2)
            if page.has_more and halves and (whole_days or inside):
                if whole_days and end - start > timedelta(days=1):
                    middle = start + timedelta(days=(end - start).days // 2)
                else:
                    middle = start + (end - start) / 2
                windows += [(middle, end), (start, middle)]
                continue
            yield DateWindow(
                Page(inside, page.total, page.page, page.per_page, page.raw),
                start,
                end,
                complete=not page.has_more,
            )

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


class DateWindow:
    """One window of ``Charges.walk_by_date``: the charges created from ``start`` (included)
    to ``end`` (excluded), and whether that is all of them."""

    __slots__ = ("complete", "end", "page", "start")

    def __init__(self, page: Page[Any], start: datetime, end: datetime, *, complete: bool) -> None:
        self.page = page
        self.start = start
        self.end = end
        self.complete = complete


def _created_at(item: Any) -> datetime | None:
    created = getattr(item, "created", None)
    return created if isinstance(created, datetime) else None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


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


class RecurringService(Service):
    """Plans and subscriptions: the documents put them under ``/v1/recurring`` or ``/v1``.

    A call answered 404 under the client's prefix asks the client whether the prefix is served
    at all (``AcceptOn.switch_recurring_prefix``); if another one is, the call is made again
    there (a 404 for a route the server does not have processed nothing) and the client keeps
    using it.
    """

    def request(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], R],
        *,
        params: Params | None = None,
        data: Params | None = None,
        repeatable: bool = False,
    ) -> R:
        prefix = self.client.recurring_prefix
        try:
            return super().request(
                method, path, parse, params=params, data=data, repeatable=repeatable
            )
        except NotFoundError as exc:
            if exc.http_status != 404 or not path.startswith(prefix + "/"):
                raise
            other = self.client.switch_recurring_prefix(prefix)
            if other is None:
                raise
        return super().request(
            method,
            other + path[len(prefix) :],
            parse,
            params=params,
            data=data,
            repeatable=repeatable,
        )


class Plans(RecurringService):
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
        return self.lookup("GET", f"{self.path}/{segment}", Plan.from_json)

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


class Subscriptions(RecurringService):
    # Cancel lives outside the recurring prefix in every source, including the clients that
    # use that prefix for everything else.
    cancel_path = "/v1/subscriptions/{id}/cancel"

    @property
    def path(self) -> str:
        return f"{self.client.recurring_prefix}/subscriptions"

    def retrieve(self, subscription_id: str) -> Subscription:
        segment = check.path_segment(subscription_id, "subscription_id")
        return self.lookup("GET", f"{self.path}/{segment}", Subscription.from_json)

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
        name = check.text(name, "name")
        check.path_segment(name, "name")  # the code's address in every later call
        return {
            "name": name,
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
        return self.lookup(self.retrieve_method, f"{self.path}/{segment}", PromoCode.from_json)

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
        """Delete a code; AcceptOn answers with the deleted code. A 400 is left as it is (not
        read as "not found"): a delete is a write, and taking a refusal for an absence would
        leave a live code believed gone; retrieve the code to tell."""
        segment = check.path_segment(name, "name")
        return self.request(self.delete_method, f"{self.path}/{segment}", PromoCode.from_json)
