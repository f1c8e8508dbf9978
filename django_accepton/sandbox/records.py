"""The objects the sandbox stores, each able to render the JSON AcceptOn sends for it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .formats import iso

JSON = dict[str, Any]


class Ordered(Protocol):
    """Anything listed by creation time; ``seq`` breaks ties inside one millisecond."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def seq(self) -> int: ...

    def to_json(self) -> JSON: ...


def order_key(item: Ordered) -> tuple[datetime, int]:
    return (item.created_at, item.seq)


# eq=False everywhere: records are compared by identity, so removing one from a 100k-long list
# never compares field by field.


@dataclass(eq=False)
class Plan:
    id: str
    seq: int
    created_at: datetime
    name: str
    amount: int
    currency: str
    period_unit: str

    def to_json(self) -> JSON:
        return {
            "object": "plan",
            "id": self.id,
            "name": self.name,
            "amount": self.amount,
            "currency": self.currency,
            "period_unit": self.period_unit,
            "created_at": iso(self.created_at),
        }


@dataclass(eq=False)
class Token:
    id: str
    seq: int
    created: datetime
    amount: int
    currency: str | None
    description: str | None
    application_fee: int | None
    merchant_paypal_account: str | None
    # Set for recurring (rtx_) tokens: paying one subscribes the customer to this plan.
    plan: Plan | None = None
    # The charge that paid a one-off token; a second payment is refused.
    paid_by: str | None = None

    @property
    def created_at(self) -> datetime:
        return self.created

    def to_json(self) -> JSON:
        data: JSON = {
            "id": self.id,
            # Every token AcceptOn documents says "transaction"; no document shows an rtx_ one.
            "type": "transaction",
            "created": iso(self.created),
            "amount": self.amount,
            "application_fee": self.application_fee,
            "currency": self.currency,
            "description": self.description,
            "merchant_paypal_account": self.merchant_paypal_account,
        }
        if self.plan is not None:
            data["plan_id"] = self.plan.id
        return data


@dataclass(eq=False)
class Charge:
    id: str
    seq: int
    created_at: datetime
    amount: int
    currency: str
    description: str | None
    application_fee: int | None
    metadata: JSON
    remote_id: str
    status: str
    # Not part of AcceptOn's payload (nothing there links a charge to its token); kept for tests.
    token_id: str | None = None
    refunded_amount: int = 0

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded_amount

    @property
    def refunded(self) -> bool:
        return self.refunded_amount > 0 and self.refunded_amount >= self.amount

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "amount": self.amount,
            "application_fee": self.application_fee,
            "created_at": iso(self.created_at),
            "currency": self.currency,
            "description": self.description,
            "metadata": copy.deepcopy(self.metadata),
            "refunded": self.refunded,
            "remote_id": self.remote_id,
            "status": self.status,
        }


@dataclass(eq=False)
class Refund:
    id: str
    seq: int
    created_at: datetime
    amount: int
    currency: str
    reason: str
    charge_id: str

    def to_json(self) -> JSON:
        stamp = iso(self.created_at)
        # AcceptOn's documents use both keys for refunds; sending both satisfies every reader.
        return {
            "id": self.id,
            "amount": self.amount,
            "currency": self.currency,
            "metadata": None,
            "reason": self.reason,
            "created": stamp,
            "created_at": stamp,
        }


@dataclass(eq=False)
class Subscription:
    id: str
    seq: int
    created_at: datetime
    email: str
    plan: Plan
    active: bool = True
    last_billed_at: datetime | None = None

    def to_json(self) -> JSON:
        return {
            "object": "subscription",
            "id": self.id,
            "active": self.active,
            "email": self.email,
            "last_billed_at": iso(self.last_billed_at),
            "plan": self.plan.to_json(),
            "created_at": iso(self.created_at),
        }


@dataclass(eq=False)
class PromoCode:
    name: str
    seq: int
    created_at: datetime
    promo_type: str
    value: int | float

    def to_json(self) -> JSON:
        return {
            "object": "promo_code",
            "name": self.name,
            "promo_type": self.promo_type,
            "value": self.value,
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True)
class RequestRecord:
    """One request the sandbox answered (test controls excluded); ``status`` 0 = dropped."""

    method: str
    path: str
    status: int
    query: str = field(default="")
