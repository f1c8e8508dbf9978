"""Decoded JSON becomes typed, frozen results; money stays in integer minor units."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from django_accepton.client import (
    Charge,
    Page,
    Plan,
    PromoCode,
    Refund,
    Subscription,
    TransactionToken,
)
from django_accepton.client.resources import parse_datetime, parse_money

from . import payloads


def test_token() -> None:
    token = TransactionToken.from_json(payloads.TOKEN)
    assert token.id == "txn_b43a7a2e4a0d4e1a9fbe3ac7d4e0a1b2"
    assert token.type == "transaction"
    assert token.amount == 1000
    assert token.currency == "usd"
    assert token.description == "Order 42"
    assert token.application_fee is None
    assert token.merchant_paypal_account is None
    assert token.created == datetime(2015, 1, 16, 20, 8, 17, 837000, tzinfo=UTC)
    assert token.raw == payloads.TOKEN
    assert token.raw is not payloads.TOKEN


def test_token_with_absent_optional_keys() -> None:
    token = TransactionToken.from_json({"id": "txn_1", "amount": 500, "currency": None})
    assert (token.currency, token.application_fee, token.created) == (None, None, None)


@pytest.mark.parametrize("sent", [{"currency": None}, {"currency": ""}, {}])
def test_a_charge_without_a_currency_is_in_the_documented_default(sent: dict[str, Any]) -> None:
    payload = {key: value for key, value in payloads.CHARGE.items() if key != "currency"}
    charge = Charge.from_json({**payload, **sent, "refunded": 0})
    assert (charge.currency, charge.refunded) == ("usd", False)
    assert Charge.from_json({**payloads.CHARGE, "refunded": 1}).refunded is True


def test_charge() -> None:
    charge = Charge.from_json(payloads.CHARGE)
    assert charge.id == "chg_ff6024ab78980de7"
    assert charge.amount == 1000
    assert charge.currency == "usd"
    assert charge.status == "paid"
    assert charge.is_paid is True
    assert charge.refunded is False
    assert charge.metadata == {"email": "buyer@example.com"}
    assert charge.remote_id == "ch_16NowV2eZvKYlo2C0bgbEP5n"
    assert charge.created == datetime(2015, 7, 16, 22, 47, 29, 591000, tzinfo=UTC)


def test_paypal_charge_without_description_or_metadata() -> None:
    charge = Charge.from_json(payloads.PAYPAL_CHARGE)
    assert charge.amount == 2500
    assert charge.application_fee == 100
    assert charge.is_paid is True
    assert charge.description is None
    assert charge.metadata == {}


@pytest.mark.parametrize(
    ("status", "paid"),
    [
        ("paid", True),
        ("completed", True),
        ("COMPLETED", True),
        ("succeeded", True),
        ("pending", False),
        ("failed", False),
        ("", False),
        (None, False),
    ],
)
def test_is_paid(status: str | None, paid: bool) -> None:
    assert Charge.from_json({**payloads.CHARGE, "status": status}).is_paid is paid


def test_created_is_read_from_either_key() -> None:
    with_created = {**payloads.REFUND, "created": "2016-02-03T04:05:06Z"}
    del with_created["created_at"]
    assert Refund.from_json(with_created).created == datetime(2016, 2, 3, 4, 5, 6, tzinfo=UTC)
    both = {**payloads.REFUND, "created": "2016-02-03T04:05:06Z"}
    assert Refund.from_json(both).created == datetime(2016, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_refund() -> None:
    refund = Refund.from_json(payloads.REFUND)
    assert refund.id == "ref_123"
    assert refund.amount == 1000
    assert refund.reason == "requested_by_customer"
    assert refund.metadata is None
    assert refund.created == datetime(2015, 1, 16, 22, 45, 18, 357000, tzinfo=UTC)


def test_plan() -> None:
    plan = Plan.from_json(payloads.PLAN)
    assert (plan.id, plan.name, plan.amount, plan.currency, plan.period_unit) == (
        "pln_965d6898b660d85b",
        "Test Plan",
        1000,
        "usd",
        "month",
    )
    assert plan.created == datetime(2015, 8, 21, 20, 20, 14, 690000, tzinfo=UTC)


def test_subscription_embeds_a_plan() -> None:
    subscription = Subscription.from_json(payloads.SUBSCRIPTION)
    assert subscription.id == "sub_2b3c4d5e6f708192"
    assert subscription.active is True
    assert subscription.email == "mycustomer@email.com"
    assert subscription.last_billed_at == datetime(2015, 8, 21, 22, 43, 34, 96000, tzinfo=UTC)
    assert subscription.plan == Plan.from_json(payloads.PLAN)


def test_subscription_never_billed() -> None:
    subscription = Subscription.from_json({**payloads.SUBSCRIPTION, "last_billed_at": None})
    assert subscription.last_billed_at is None


def test_results_are_frozen() -> None:
    charge = Charge.from_json(payloads.CHARGE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        charge.amount = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1000, 1000), ("1000", 1000), (" 1000 ", 1000), (1000.0, 1000), ("1000.00", 1000), (0, 0)],
)
def test_money_accepts_integral_values(value: Any, expected: int) -> None:
    assert parse_money(value) == expected
    assert type(parse_money(value)) is int


@pytest.mark.parametrize("value", [10.5, "10.5", "ten", True, None, [], "NaN", "Infinity"])
def test_money_rejects_the_rest(value: Any) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_money(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-01-16T20:08:17.837Z", datetime(2015, 1, 16, 20, 8, 17, 837000, tzinfo=UTC)),
        ("2015-07-16T22:47:29.591+00:00", datetime(2015, 7, 16, 22, 47, 29, 591000, tzinfo=UTC)),
        ("2015-07-16T22:47:29Z", datetime(2015, 7, 16, 22, 47, 29, tzinfo=UTC)),
        ("2015-07-16T22:47:29", datetime(2015, 7, 16, 22, 47, 29, tzinfo=UTC)),
        ("2015-07-17T00:47:29+02:00", datetime(2015, 7, 16, 22, 47, 29, tzinfo=UTC)),
    ],
)
def test_datetimes_are_aware(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", 1437086849, "2015-13-01T00:00:00Z"])
def test_bad_datetimes_are_rejected(value: Any) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_datetime(value)


@pytest.mark.parametrize(
    ("payload", "cls", "match"),
    [
        ({"amount": 100}, TransactionToken, "no 'id'"),
        ({"id": "chg_1", "currency": "usd"}, Charge, "no 'amount'"),
        ({"id": "chg_1"}, Charge, "no 'amount'"),
        ({**payloads.CHARGE, "refunded": 2}, Charge, "refunded"),
        ({**payloads.CHARGE, "metadata": "x"}, Charge, "metadata"),
        ({**payloads.SUBSCRIPTION, "plan": None}, Subscription, "no 'plan'"),
        ({**payloads.SUBSCRIPTION, "active": "maybe"}, Subscription, "active"),
        (["not", "an", "object"], Plan, "expected a plan object"),
        ({**payloads.PROMO_CODE, "value": "lots"}, PromoCode, "value"),
    ],
)
def test_unreadable_payloads(payload: Any, cls: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        cls.from_json(payload)


def test_promo_code() -> None:
    promo = PromoCode.from_json(payloads.PROMO_CODE)
    assert promo.name == "TEST15"
    assert promo.promo_type == "percentage"
    assert promo.value == Decimal("0.15")
    assert promo.percent_off() == Decimal("15")  # the fraction scale, by default
    assert promo.percent_off("percent") == Decimal("0.15")
    assert promo.created == datetime(2015, 7, 31, 18, 47, 23, 717000, tzinfo=UTC)


def promo(promo_type: str, value: str) -> PromoCode:
    return PromoCode.from_json({"name": "X", "promo_type": promo_type, "value": value})


@pytest.mark.parametrize(
    ("value", "fraction", "percent"),
    [("0.15", "15", "0.15"), ("1", "100", "1"), ("15", "1500", "15"), ("10.0", "1000", "10.0")],
)
def test_percent_off_reads_the_given_scale(value: str, fraction: str, percent: str) -> None:
    assert promo("percentage", value).percent_off("fraction") == Decimal(fraction)
    assert promo("percentage", value).percent_off("percent") == Decimal(percent)


@pytest.mark.parametrize(
    ("value", "amount", "prices"),
    [
        ("0.15", 1000, {850, 998, 999}),  # 15 % as a fraction; 0.15 % (1.5) as a percent
        ("15", 1000, {850}),  # a fraction above 1 is no reading at all
        ("1", 1000, {0, 990}),
        ("100", 1000, {0}),
    ],
)
def test_possible_prices_cover_every_documented_reading(
    value: str, amount: int, prices: set[int]
) -> None:
    assert promo("percentage", value).possible_prices(amount) == prices
    assert promo("amount", "200").possible_prices(1000) == {800}


@pytest.mark.parametrize(
    ("promo_type", "value", "amount", "expected"),
    [
        ("amount", "200", 1000, 800),
        ("amount", "2000", 1000, 0),
        ("amount", "2000.0", 2500, 500),
        ("fixed_price", "700", 1000, 700),
        ("fixed_price", "1500", 1000, 1000),
        ("percentage", "0.15", 1000, 850),
        ("percentage", "0.1", 999, 899),  # 99.9 off rounds to 100
        ("percentage", "0.15", 1010, 858),  # 151.5 off rounds half up to 152
        ("percentage", "0.15", 1030, 875),  # 154.5 off rounds half up to 155
        ("percentage", "1", 1000, 0),
        ("amount", "100", 0, 0),
    ],
)
def test_apply(promo_type: str, value: str, amount: int, expected: int) -> None:
    assert promo(promo_type, value).apply(amount) == expected


@pytest.mark.parametrize(
    ("value", "amount", "expected"),
    [("15", 1000, 850), ("100", 1000, 0), ("1", 1000, 990), ("0.15", 1000, 998)],
)
def test_apply_in_the_percent_scale(value: str, amount: int, expected: int) -> None:
    assert promo("percentage", value).apply(amount, "percent") == expected


@pytest.mark.parametrize("amount", [-1, 10.0, True, "1000"])
def test_apply_rejects_non_cents(amount: Any) -> None:
    with pytest.raises(ValueError, match="amount"):
        promo("amount", "100").apply(amount)


def test_apply_rejects_unknown_types() -> None:
    with pytest.raises(ValueError, match="promo_type"):
        promo("bogo", "1").apply(1000)


def test_page_from_list_object() -> None:
    payload = payloads.listing([payloads.PLAN, {**payloads.PLAN, "id": "pln_2"}], total=7)
    page = Page.from_json(payload, Plan.from_json, page=1, per_page=2)
    assert [plan.id for plan in page] == ["pln_965d6898b660d85b", "pln_2"]
    assert len(page) == 2
    assert (page.total, page.page, page.per_page) == (7, 1, 2)
    assert page.has_more is True
    assert page.raw == payload


def test_page_from_bare_array() -> None:
    page = Page.from_json([payloads.PLAN], Plan.from_json, page=3, per_page=1)
    assert page.total is None
    assert page.data == [Plan.from_json(payloads.PLAN)]
    assert page.has_more is True
    assert page.raw == [payloads.PLAN]


@pytest.mark.parametrize(
    ("count", "total", "page", "per_page", "has_more"),
    [
        (2, 4, 1, 2, True),
        # A full page: total may count only this page, so the next one is asked for.
        (2, 4, 2, 2, True),
        (2, 2, 1, 2, True),
        (1, 3, 2, 2, False),  # short page, and total agrees
        (1, 4, 2, 2, True),  # short page, but total says one more object exists
        (0, 4, 3, 2, False),
        (3, 3, 1, 2, False),  # more than asked for: paging was ignored
        (2, None, 5, 2, True),
        (1, None, 5, 2, False),
    ],
)
def test_has_more(count: int, total: int | None, page: int, per_page: int, has_more: bool) -> None:
    result = Page(data=[object()] * count, total=total, page=page, per_page=per_page, raw=[])
    assert result.has_more is has_more


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"object": "list", "total": 1}, "no 'data'"),
        ({"object": "list", "data": {}}, "no 'data'"),
        ("data", "expected a list object"),
        ({"object": "list", "total": "many", "data": []}, "total"),
    ],
)
def test_unreadable_pages(payload: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Page.from_json(payload, Plan.from_json, page=1, per_page=10)


def test_possible_prices_round_the_discount_either_way() -> None:
    # 15 % of 1005 is 150.75: 854 or 855, depending on AcceptOn's undocumented rounding (and
    # 1003 or 1004 if 0.15 is read as 0.15 %).
    assert promo("percentage", "0.15").possible_prices(1005) == {854, 855, 1003, 1004}
