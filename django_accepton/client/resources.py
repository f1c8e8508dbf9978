"""Typed results of the AcceptOn API.

Every ``from_json`` raises ``ValueError`` when the payload cannot be read as that object; the
client turns that into an ``APIError`` naming the call. Parsing is strict about the fields that
carry money or identity and tolerant elsewhere, because a refund that went through must not be
reported as failed over a missing description.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Self, TypeVar

from . import pricing
from .pricing import PROMO_TYPES as PROMO_TYPES

PAID_STATUSES = frozenset({"paid", "completed", "succeeded"})
# A charge's currency when AcceptOn sends none (its Charge object's documented default).
DEFAULT_CURRENCY = "usd"

T = TypeVar("T")


def _require_mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a {what} object, got {type(data).__name__}")
    return data


def _required(data: Mapping[str, Any], key: str, what: str) -> Any:
    value = data.get(key)
    if value is None:
        raise ValueError(f"{what} has no {key!r}")
    return value


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is not a string: {value!r}")
    return value


def _optional_string(value: Any, key: str) -> str | None:
    return None if value is None else _string(value, key)


def _decimal(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{key!r} is not a number: {value!r}")
    try:
        # str() first: Decimal(0.15) would keep the float's binary error.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{key!r} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{key!r} is not a finite number: {value!r}")
    return number


def parse_money(value: Any, key: str = "amount") -> int:
    """Minor units as an ``int``; integral numeric strings and floats are accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = _decimal(value, key)
    if number != number.to_integral_value():
        raise ValueError(f"{key!r} is not a whole number of minor units: {value!r}")
    return int(number)


def _optional_money(value: Any, key: str) -> int | None:
    return None if value is None else parse_money(value, key)


def parse_datetime(value: Any, key: str = "created") -> datetime | None:
    """An aware ``datetime`` from ISO 8601 (``Z`` or an offset); naive values are taken as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is not an ISO 8601 timestamp: {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key!r} is not an ISO 8601 timestamp: {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _created(data: Mapping[str, Any]) -> datetime | None:
    # AcceptOn's documents and fixtures disagree on the key; objects carry one or the other.
    if data.get("created") is not None:
        return parse_datetime(data["created"], "created")
    return parse_datetime(data.get("created_at"), "created_at")


def parse_boolean(value: Any, key: str, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    if type(value) is int and value in (0, 1):  # JSON's 0 and 1, as some servers write them
        return value == 1
    raise ValueError(f"{key!r} is not a boolean: {value!r}")


def _keys(raw: Mapping[str, Any] | list[Any]) -> set[str]:
    """What identifies each listed object: its ``id`` (a promo code's ``name``), else its JSON."""
    items = raw.get("data") if isinstance(raw, Mapping) else raw
    keys = set()
    for item in items if isinstance(items, list) else []:
        key = item.get("id") or item.get("name") if isinstance(item, Mapping) else None
        keys.add(str(key) if key is not None else repr(item))
    return keys


@dataclass(frozen=True, slots=True)
class TransactionToken:
    """A ``txn_…`` token: the amount a payment form will charge."""

    id: str
    type: str | None
    amount: int
    currency: str | None
    description: str | None
    application_fee: int | None
    merchant_paypal_account: str | None
    created: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        data = _require_mapping(data, "token")
        return cls(
            id=_string(_required(data, "id", "token"), "id"),
            type=_optional_string(data.get("type"), "type"),
            amount=parse_money(_required(data, "amount", "token"), "amount"),
            currency=_optional_string(data.get("currency"), "currency"),
            description=_optional_string(data.get("description"), "description"),
            application_fee=_optional_money(data.get("application_fee"), "application_fee"),
            merchant_paypal_account=_optional_string(
                data.get("merchant_paypal_account"), "merchant_paypal_account"
            ),
            created=_created(data),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """A payment made through a form; ``status`` is processor-specific, see ``is_paid``."""

    id: str
    amount: int
    currency: str
    status: str | None
    refunded: bool
    description: str | None
    metadata: dict[str, Any]
    remote_id: str | None
    application_fee: int | None
    created: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def is_paid(self) -> bool:
        """Card processors report ``paid``, PayPal ``completed``; nothing else counts."""
        return self.status is not None and self.status.lower() in PAID_STATUSES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        data = _require_mapping(data, "charge")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError(f"'metadata' is not an object: {metadata!r}")
        remote_id = data.get("remote_id")
        return cls(
            id=_string(_required(data, "id", "charge"), "id"),
            amount=parse_money(_required(data, "amount", "charge"), "amount"),
            # "The currency to charge in ISO format (default: usd)", says the Charge object.
            currency=_optional_string(data.get("currency"), "currency") or DEFAULT_CURRENCY,
            status=_optional_string(data.get("status"), "status"),
            refunded=parse_boolean(data.get("refunded"), "refunded", default=False),
            description=_optional_string(data.get("description"), "description"),
            metadata=dict(metadata or {}),
            # Documented as a boolean, always a processor id string in real data.
            remote_id=None if remote_id is None or remote_id is False else str(remote_id),
            application_fee=_optional_money(data.get("application_fee"), "application_fee"),
            created=_created(data),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Refund:
    """A (possibly partial) refund of a charge."""

    id: str
    amount: int
    currency: str | None
    reason: str | None
    metadata: dict[str, Any] | None
    created: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        data = _require_mapping(data, "refund")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError(f"'metadata' is not an object: {metadata!r}")
        return cls(
            id=_string(_required(data, "id", "refund"), "id"),
            amount=parse_money(_required(data, "amount", "refund"), "amount"),
            currency=_optional_string(data.get("currency"), "currency"),
            reason=_optional_string(data.get("reason"), "reason"),
            metadata=None if metadata is None else dict(metadata),
            created=_created(data),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A recurring plan (``pln_…``)."""

    id: str
    name: str
    amount: int
    currency: str
    period_unit: str
    created: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        data = _require_mapping(data, "plan")
        return cls(
            id=_string(_required(data, "id", "plan"), "id"),
            name=_string(_required(data, "name", "plan"), "name"),
            amount=parse_money(_required(data, "amount", "plan"), "amount"),
            currency=_string(_required(data, "currency", "plan"), "currency"),
            period_unit=_string(_required(data, "period_unit", "plan"), "period_unit"),
            created=_created(data),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """A customer's subscription to a plan; ``last_billed_at`` is ``None`` until first billed."""

    id: str
    active: bool
    email: str | None
    last_billed_at: datetime | None
    plan: Plan
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        data = _require_mapping(data, "subscription")
        active = data.get("active")
        if active is None:
            raise ValueError("subscription has no 'active'")
        return cls(
            id=_string(_required(data, "id", "subscription"), "id"),
            active=parse_boolean(active, "active", default=False),
            email=_optional_string(data.get("email"), "email"),
            last_billed_at=parse_datetime(data.get("last_billed_at"), "last_billed_at"),
            plan=Plan.from_json(_required(data, "plan", "subscription")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class PromoCode:
    """A promo code, identified by its name.

    ``value`` is kept exactly as AcceptOn stores it: cents for ``amount`` and ``fixed_price``,
    and for ``percentage`` a fraction (0.15) or a percent (15) depending on the account's
    scale, which the documents disagree on (see ``pricing``).
    """

    name: str
    promo_type: str
    value: Decimal
    created: datetime | None
    raw: dict[str, Any] = field(repr=False)

    def percent_off(self, scale: str = pricing.FRACTION) -> Decimal:
        """A ``percentage`` code's value as a percent, read in ``scale`` (see ``pricing``)."""
        return pricing.percent_off(self.value, scale)

    def apply(self, amount: int, scale: str = pricing.FRACTION) -> int:
        """The price in minor units after this code under ``scale``, never negative and never
        above ``amount``."""
        return pricing.price_after(amount, self.promo_type, self.value, scale)

    def possible_prices(self, amount: int) -> set[int]:
        """Every price this code can leave under a documented reading of its value."""
        return pricing.possible_prices(amount, self.promo_type, self.value)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        data = _require_mapping(data, "promo code")
        return cls(
            name=_string(_required(data, "name", "promo code"), "name"),
            promo_type=_string(_required(data, "promo_type", "promo code"), "promo_type"),
            value=_decimal(_required(data, "value", "promo code"), "value"),
            created=_created(data),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list call.

    What ``total`` counts is not documented: every example has ``total == len(data)``, which
    reads as "all matches" and as "the items of this page" alike. So the end of a list is a
    short or empty page, never ``total`` alone; ``total`` only ever proves that more pages
    exist (when it exceeds what the pages so far held). It is ``None`` when AcceptOn answered
    with a bare JSON array (as one documented sample does).
    """

    data: list[T]
    total: int | None
    page: int
    per_page: int
    raw: dict[str, Any] | list[Any] = field(repr=False)

    @property
    def has_more(self) -> bool:
        """Whether the next page may hold more: this page is full, or ``total`` proves more
        (a server that ignores ``per_page`` and sends smaller pages). More items than asked
        for means the server ignored paging and sent everything at once."""
        if len(self.data) > self.per_page:
            return False
        return len(self.data) == self.per_page or (bool(self.data) and self.total_proves_more)

    @property
    def total_proves_more(self) -> bool:
        """``total`` can only be read as "all matches" and says objects follow this page's."""
        if self.total is None:
            return False
        return self.total > (self.page - 1) * self.per_page + len(self.data)

    def repeats(self, other: Page[Any]) -> bool:
        """Most of this page is what ``other`` (the page before) held: the server ignored
        ``page``. Pages of a list that honours paging share at most the few objects that moved
        along while they were read."""
        mine = _keys(self.raw)
        return bool(mine) and len(mine & _keys(other.raw)) * 2 > len(mine)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @classmethod
    def from_json(
        cls, payload: Any, parse_item: Callable[[Any], T], *, page: int, per_page: int
    ) -> Page[T]:
        total: int | None
        if isinstance(payload, list):
            items: Any = payload
            total = None
        elif isinstance(payload, Mapping):
            items = payload.get("data")
            if not isinstance(items, list):
                raise ValueError("list object has no 'data' array")
            raw_total = payload.get("total")
            total = None if raw_total is None else parse_money(raw_total, "total")
        else:
            raise ValueError(f"expected a list object or an array, got {type(payload).__name__}")
        return cls(
            data=[parse_item(item) for item in items],
            total=total,
            page=page,
            per_page=per_page,
            raw=payload if isinstance(payload, list) else dict(payload),
        )
