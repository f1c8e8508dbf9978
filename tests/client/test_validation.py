"""Bad arguments raise ValueError before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import responses

from django_accepton.client import AcceptOn

from .payloads import BASE_URL, SECRET_KEY

Call = Callable[[AcceptOn], object]

BAD_CALLS: list[tuple[str, Call, str]] = [
    ("zero amount", lambda c: c.tokens.create(0, "usd"), "amount"),
    ("negative amount", lambda c: c.tokens.create(-5, "usd"), "amount"),
    ("float amount", lambda c: c.tokens.create(10.0, "usd"), "amount"),  # type: ignore[arg-type]
    ("str amount", lambda c: c.tokens.create("1000", "usd"), "amount"),  # type: ignore[arg-type]
    ("bool amount", lambda c: c.tokens.create(True, "usd"), "amount"),
    ("currency too long", lambda c: c.tokens.create(100, "usdx"), "currency"),
    ("currency digits", lambda c: c.tokens.create(100, "12$"), "currency"),
    ("currency missing", lambda c: c.tokens.create(100, None), "currency"),  # type: ignore[arg-type]
    ("negative fee", lambda c: c.tokens.create(100, "usd", application_fee=-1), "application_fee"),
    ("description", lambda c: c.tokens.create(100, "usd", description=5), "description"),  # type: ignore[arg-type]
    ("empty token id", lambda c: c.tokens.retrieve(""), "token_id"),
    ("empty charge id", lambda c: c.charges.retrieve(""), "charge_id"),
    ("none charge id", lambda c: c.charges.retrieve(None), "charge_id"),  # type: ignore[arg-type]
    ("refund amount", lambda c: c.refunds.create("chg_1", 0), "amount"),
    ("refund bool", lambda c: c.refunds.create("chg_1", False), "amount"),
    ("refund charge", lambda c: c.refunds.create("", 100), "charge_id"),
    ("plan period", lambda c: c.plans.create("P", 100, "usd", "week"), "period_unit"),
    ("plan name", lambda c: c.plans.create(" ", 100, "usd", "month"), "name"),
    ("plan amount", lambda c: c.plans.create("P", 0, "usd", "month"), "amount"),
    ("plan currency", lambda c: c.plans.create("P", 100, "dollars", "year"), "currency"),
    ("empty plan id", lambda c: c.plans.retrieve(""), "plan_id"),
    ("empty sub id", lambda c: c.subscriptions.retrieve(""), "subscription_id"),
    ("cancel sub id", lambda c: c.subscriptions.cancel(""), "subscription_id"),
    ("promo type", lambda c: c.promo_codes.create("X", "bogo", 1), "promo_type"),
    ("promo name", lambda c: c.promo_codes.create("", "amount", 1), "name"),
    ("promo fractional cents", lambda c: c.promo_codes.create("X", "amount", 1.5), "cents"),
    ("promo fixed cents", lambda c: c.promo_codes.create("X", "fixed_price", "9.99"), "cents"),
    ("promo negative", lambda c: c.promo_codes.create("X", "amount", -100), "non-negative"),
    ("promo percent 0", lambda c: c.promo_codes.create("X", "percentage", 0), "percentage"),
    ("promo percent 150", lambda c: c.promo_codes.create("X", "percentage", 150), "percentage"),
    ("promo nan", lambda c: c.promo_codes.create("X", "percentage", Decimal("NaN")), "value"),
    ("promo text", lambda c: c.promo_codes.create("X", "amount", "ten"), "value"),
    ("promo bool", lambda c: c.promo_codes.create("X", "amount", True), "value"),
    ("promo update type", lambda c: c.promo_codes.update("A", "B", "free", 1), "promo_type"),
    ("promo update name", lambda c: c.promo_codes.update("", "B", "amount", 1), "original_name"),
    ("promo retrieve", lambda c: c.promo_codes.retrieve(""), "name"),
    ("promo delete", lambda c: c.promo_codes.delete(""), "name"),
    ("page 0", lambda c: c.charges.list(page=0), "page"),
    ("page bool", lambda c: c.charges.list(page=True), "page"),
    ("per_page 0", lambda c: c.plans.list(per_page=0), "per_page"),
    ("per_page 101", lambda c: c.subscriptions.list(per_page=101), "per_page"),
    ("per_page str", lambda c: c.promo_codes.list(per_page="10"), "per_page"),  # type: ignore[arg-type]
    ("list order", lambda c: c.plans.list(order="up"), "order"),
    ("list amount", lambda c: c.charges.list(amount=0), "amount"),
    ("date format", lambda c: c.charges.list(start_date="07/01/2015"), "start_date"),
    ("date invalid", lambda c: c.charges.list(end_date="2015-02-30"), "end_date"),
    ("date type", lambda c: c.charges.list(end_date=20150701), "end_date"),  # type: ignore[arg-type]
    ("active str", lambda c: c.subscriptions.list(active="true"), "active"),  # type: ignore[arg-type]
    ("plan_token", lambda c: c.subscriptions.list(plan_token=""), "plan_token"),
    ("promo filter", lambda c: c.promo_codes.list(promo_type="free"), "promo_type"),
]


@pytest.mark.parametrize(("label", "call", "match"), BAD_CALLS, ids=[b[0] for b in BAD_CALLS])
def test_bad_arguments_send_nothing(
    client: AcceptOn, mocked: responses.RequestsMock, label: str, call: Call, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        call(client)
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"secret_key": ""}, "secret_key is empty"),
        ({"secret_key": "   "}, "secret_key is empty"),
        ({"secret_key": "skey_a b"}, "spaces"),
        ({"secret_key": "skey_a\nb"}, "control"),
        ({"secret_key": "skey_é"}, "non-ASCII"),
        ({"environment": ""}, "environment"),
        ({"environment": "sandbox"}, "pass base_url"),
        ({"environment": "Production"}, "pass base_url"),
        ({"environment": "sandbox", "base_url": "127.0.0.1:8000"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": (5, -1)}, "timeout"),
        ({"timeout": (1, 2, 3)}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"recurring_prefix": "v1"}, "recurring_prefix"),
    ],
)
def test_constructor_checks(kwargs: dict[str, Any], match: str) -> None:
    arguments: dict[str, Any] = {"secret_key": SECRET_KEY, "environment": "staging", **kwargs}
    secret_key = arguments.pop("secret_key")
    with pytest.raises(ValueError, match=match):
        AcceptOn(secret_key, **arguments)


def test_environment_is_required() -> None:
    with pytest.raises(TypeError):
        AcceptOn(SECRET_KEY)  # type: ignore[call-arg]


def test_surrounding_whitespace_of_the_key_is_dropped(mocked: responses.RequestsMock) -> None:
    client = AcceptOn(f"  {SECRET_KEY}\n", environment="sandbox", base_url=BASE_URL)
    mocked.get(f"{BASE_URL}/ping")
    client.ping()
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize("name", [".", ".."])
def test_a_name_a_url_reads_as_a_path_step_is_refused_before_any_call(
    client: AcceptOn, mocked: responses.RequestsMock, name: str
) -> None:
    for call in (
        lambda: client.promo_codes.create(name, "amount", 100),
        lambda: client.promo_codes.retrieve(name),
        lambda: client.promo_codes.delete(name),
        lambda: client.charges.retrieve(name),
    ):
        with pytest.raises(ValueError, match="step in its path"):
            call()
    assert len(mocked.calls) == 0
