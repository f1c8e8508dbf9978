"""Every call of docs/api-calls.md: method, path, encoding, headers and result type."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

import django_accepton
from django_accepton.client import (
    ENVIRONMENTS,
    AcceptOn,
    Charge,
    Page,
    Plan,
    PromoCode,
    PromoCodes,
    Refund,
    Subscription,
    TransactionToken,
)

from . import payloads
from .payloads import BASE_URL, SECRET_KEY


def only_request(mocked: responses.RequestsMock) -> requests.PreparedRequest:
    assert len(mocked.calls) == 1
    request = mocked.calls[0].request
    assert isinstance(request, requests.PreparedRequest)
    return request


def path_of(request: requests.PreparedRequest) -> str:
    return urlsplit(request.url).path


def query_of(request: requests.PreparedRequest) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(request.url).query, keep_blank_values=True)


def form_of(request: requests.PreparedRequest) -> list[tuple[str, str]]:
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    body = request.body
    assert isinstance(body, str)
    return parse_qsl(body, keep_blank_values=True)


def test_headers(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/ping", json={"object": "ping", "ok": True})
    assert client.ping() is True
    request = only_request(mocked)
    assert request.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == (
        f"django-accepton/{django_accepton.__version__} python-requests/{requests.__version__}"
    )
    assert path_of(request) == "/ping"
    assert request.body is None


def test_ping_judges_by_status_only(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/ping", body="pong", content_type="text/plain")
    assert client.ping() is True


def test_a_shared_session_never_holds_the_key(mocked: responses.RequestsMock) -> None:
    session = requests.Session()
    client = AcceptOn(SECRET_KEY, environment="sandbox", base_url=BASE_URL, session=session)
    mocked.get(f"{BASE_URL}/ping")
    client.ping()
    assert "Authorization" not in session.headers
    assert client.transport.session is session
    client.close()  # must leave the caller's session usable
    mocked.get(f"{BASE_URL}/ping")
    assert session.get(f"{BASE_URL}/ping").status_code == 200


def test_create_token(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", status=201, json=payloads.TOKEN)
    token = client.tokens.create(
        1000,
        "USD",
        description="Order 42",
        application_fee=50,
        merchant_paypal_account="merchant@example.com",
    )
    request = only_request(mocked)
    assert request.method == "POST"
    assert path_of(request) == "/v1/tokens"
    assert form_of(request) == [
        ("amount", "1000"),
        ("currency", "usd"),
        ("description", "Order 42"),
        ("application_fee", "50"),
        ("merchant_paypal_account", "merchant@example.com"),
    ]
    assert isinstance(token, TransactionToken)
    assert token.id == payloads.TOKEN["id"]


def test_create_token_omits_unset_arguments(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", status=201, json=payloads.TOKEN)
    client.tokens.create(1000, "cad")
    assert form_of(only_request(mocked)) == [("amount", "1000"), ("currency", "cad")]


def test_retrieve_token(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/tokens/rtx_abc", json={**payloads.TOKEN, "id": "rtx_abc"})
    token = client.tokens.retrieve("rtx_abc")
    request = only_request(mocked)
    assert (request.method, path_of(request), query_of(request)) == (
        "GET",
        "/v1/tokens/rtx_abc",
        [],
    )
    assert token.id == "rtx_abc"


def test_retrieve_charge(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/charges/chg_ff6024ab78980de7", json=payloads.CHARGE)
    charge = client.charges.retrieve("chg_ff6024ab78980de7")
    assert only_request(mocked).method == "GET"
    assert isinstance(charge, Charge)
    assert (charge.amount, charge.is_paid) == (1000, True)


def test_list_charges(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/charges", json=payloads.listing([payloads.CHARGE], total=31))
    page = client.charges.list(
        amount=1000,
        start_date=date(2015, 7, 1),
        end_date="2015-07-31",
        order_by="created_at",
        order="desc",
        page=2,
        per_page=30,
    )
    request = only_request(mocked)
    assert (request.method, path_of(request)) == ("GET", "/v1/charges")
    assert query_of(request) == [
        ("amount", "1000"),
        ("start_date", "2015-07-01"),
        ("end_date", "2015-07-31"),
        ("order_by", "created_at"),
        ("order", "desc"),
        ("page", "2"),
        ("per_page", "30"),
    ]
    assert request.body is None
    assert isinstance(page, Page)
    assert (page.total, page.page, page.per_page) == (31, 2, 30)
    assert [charge.id for charge in page.data] == ["chg_ff6024ab78980de7"]
    assert isinstance(page.data[0], Charge)


def test_list_charges_defaults(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/charges", json=payloads.listing([]))
    page = client.charges.list()
    assert query_of(only_request(mocked)) == [("page", "1"), ("per_page", "100")]
    assert (page.data, page.total, page.has_more) == ([], 0, False)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (datetime(2015, 7, 1, 23, 30), "2015-07-01"),
        (datetime(2015, 7, 1, 23, 30, tzinfo=UTC), "2015-07-01"),
        # 23:30 at UTC-5 is already the next day in UTC.
        (datetime(2015, 7, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))), "2015-07-02"),
        (date(2015, 12, 31), "2015-12-31"),
        ("2016-02-29", "2016-02-29"),
    ],
)
def test_dates_go_out_as_days(
    client: AcceptOn, mocked: responses.RequestsMock, value: Any, wire: str
) -> None:
    mocked.get(f"{BASE_URL}/v1/charges", json=payloads.listing([]))
    client.charges.list(start_date=value)
    assert ("start_date", wire) in query_of(only_request(mocked))


def test_create_refund(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE_URL}/v1/refunds", status=201, json=payloads.REFUND)
    refund = client.refunds.create("chg_ff6024ab78980de7", 1000)
    request = only_request(mocked)
    assert (request.method, path_of(request)) == ("POST", "/v1/refunds")
    assert form_of(request) == [("charge_id", "chg_ff6024ab78980de7"), ("amount", "1000")]
    assert isinstance(refund, Refund)
    assert refund.amount == 1000


def test_create_plan(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE_URL}/v1/recurring/plans", status=201, json=payloads.PLAN)
    plan = client.plans.create("Test Plan", 1000, "usd", "month")
    request = only_request(mocked)
    assert form_of(request) == [
        ("name", "Test Plan"),
        ("amount", "1000"),
        ("currency", "usd"),
        ("period_unit", "month"),
    ]
    assert isinstance(plan, Plan)
    assert plan.id == "pln_965d6898b660d85b"


def test_retrieve_plan(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/recurring/plans/pln_965d6898b660d85b", json=payloads.PLAN)
    assert client.plans.retrieve("pln_965d6898b660d85b").name == "Test Plan"


def test_list_plans(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/recurring/plans", json=payloads.listing([payloads.PLAN]))
    page = client.plans.list(page=1, per_page=10, order_by="created_at", order="asc")
    assert query_of(only_request(mocked)) == [
        ("order_by", "created_at"),
        ("order", "asc"),
        ("page", "1"),
        ("per_page", "10"),
    ]
    assert [plan.name for plan in page] == ["Test Plan"]


def test_list_plans_as_a_bare_array(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/recurring/plans", json=[payloads.PLAN])
    page = client.plans.list()
    assert page.total is None
    assert isinstance(page.data[0], Plan)


def test_a_prefix_seen_to_serve_is_asked_once(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    """Unknown plans under the prefix that serves them: the first 404 checks the plan list,
    the next ones are taken at their word."""
    from django_accepton.client import NotFoundError

    missing = {"error": {"type": "invalid_request_error", "message": "not found"}}
    for number in range(3):
        mocked.get(f"{BASE_URL}/v1/recurring/plans/pln_{number}", status=404, json=missing)
    mocked.get(f"{BASE_URL}/v1/recurring/plans", json=payloads.listing([payloads.PLAN]))

    for number in range(3):
        with pytest.raises(NotFoundError):
            client.plans.retrieve(f"pln_{number}")

    assert [path_of(call.request) for call in mocked.calls] == [
        "/v1/recurring/plans/pln_0",
        "/v1/recurring/plans",
        "/v1/recurring/plans/pln_1",
        "/v1/recurring/plans/pln_2",
    ]
    assert client.recurring_prefix == "/v1/recurring"


def test_recurring_prefix_can_be_the_plain_v1(mocked: responses.RequestsMock) -> None:
    client = AcceptOn(SECRET_KEY, environment="sandbox", base_url=BASE_URL, recurring_prefix="/v1/")
    mocked.get(f"{BASE_URL}/v1/plans/pln_1", json=payloads.PLAN)
    mocked.get(f"{BASE_URL}/v1/subscriptions", json=payloads.listing([]))
    mocked.post(f"{BASE_URL}/v1/subscriptions/sub_1/cancel", json=payloads.SUBSCRIPTION)
    client.plans.retrieve("pln_1")
    client.subscriptions.list()
    client.subscriptions.cancel("sub_1")
    assert [path_of(call.request) for call in mocked.calls] == [
        "/v1/plans/pln_1",
        "/v1/subscriptions",
        "/v1/subscriptions/sub_1/cancel",
    ]


def test_retrieve_subscription(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{BASE_URL}/v1/recurring/subscriptions/sub_2b3c4d5e6f708192", json=payloads.SUBSCRIPTION
    )
    subscription = client.subscriptions.retrieve("sub_2b3c4d5e6f708192")
    assert isinstance(subscription, Subscription)
    assert isinstance(subscription.plan, Plan)


@pytest.mark.parametrize(("active", "wire"), [(True, "true"), (False, "false")])
def test_list_subscriptions(
    client: AcceptOn, mocked: responses.RequestsMock, active: bool, wire: str
) -> None:
    mocked.get(
        f"{BASE_URL}/v1/recurring/subscriptions", json=payloads.listing([payloads.SUBSCRIPTION])
    )
    page = client.subscriptions.list(active=active, plan_token="pln_965d6898b660d85b", per_page=5)
    request = only_request(mocked)
    assert query_of(request) == [
        ("active", wire),
        ("plan.token", "pln_965d6898b660d85b"),
        ("page", "1"),
        ("per_page", "5"),
    ]
    assert "plan.token=pln_965d6898b660d85b" in str(request.url)
    assert isinstance(page.data[0], Subscription)


def test_cancel_subscription(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{BASE_URL}/v1/subscriptions/sub_2b3c4d5e6f708192/cancel",
        json={**payloads.SUBSCRIPTION, "active": False},
    )
    subscription = client.subscriptions.cancel("sub_2b3c4d5e6f708192")
    request = only_request(mocked)
    assert request.method == "POST"
    assert subscription.active is False


def test_create_promo_code(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE_URL}/v1/promo_codes", status=201, json=payloads.PROMO_CODE)
    promo = client.promo_codes.create("TEST15", "percentage", Decimal("0.15"))
    assert form_of(only_request(mocked)) == [
        ("name", "TEST15"),
        ("promo_type", "percentage"),
        ("value", "0.15"),
    ]
    assert isinstance(promo, PromoCode)
    assert promo.value == Decimal("0.15")


@pytest.mark.parametrize(
    ("promo_type", "value", "wire"),
    [
        ("amount", 2000, "2000"),
        ("amount", 2000.0, "2000"),
        ("amount", "2000.00", "2000"),
        ("fixed_price", Decimal("1E+3"), "1000"),
        ("percentage", 0.1, "0.1"),
        ("percentage", 10, "10"),
        ("percentage", "12.5", "12.5"),
    ],
)
def test_promo_values_on_the_wire(
    client: AcceptOn, mocked: responses.RequestsMock, promo_type: str, value: Any, wire: str
) -> None:
    mocked.post(f"{BASE_URL}/v1/promo_codes", status=201, json=payloads.PROMO_CODE)
    client.promo_codes.create("CODE", promo_type, value)
    assert ("value", wire) in form_of(only_request(mocked))


def test_retrieve_promo_code_escapes_the_name(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE_URL}/v1/promo_codes/50%25%20OFF%2Fnow", json=payloads.PROMO_CODE)
    client.promo_codes.retrieve("50% OFF/now")
    request = only_request(mocked)
    assert request.method == "GET"
    assert str(request.url).endswith("/v1/promo_codes/50%25%20OFF%2Fnow")


def test_ids_cannot_escape_their_segment(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/charges/..%2Frefunds%3Fx%3D1", json=payloads.CHARGE)
    client.charges.retrieve("../refunds?x=1")
    assert str(only_request(mocked).url) == f"{BASE_URL}/v1/charges/..%2Frefunds%3Fx%3D1"


def test_list_promo_codes(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/promo_codes", json=payloads.listing([payloads.PROMO_CODE]))
    page = client.promo_codes.list(promo_type="amount", order="desc", page=3, per_page=100)
    assert query_of(only_request(mocked)) == [
        ("promo_type", "amount"),
        ("order", "desc"),
        ("page", "3"),
        ("per_page", "100"),
    ]
    assert page.data[0].name == "TEST15"


def test_update_promo_code(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.put(
        f"{BASE_URL}/v1/promo_codes/TEST15",
        json={**payloads.PROMO_CODE, "name": "TEST20", "value": 0.2},
    )
    promo = client.promo_codes.update("TEST15", "TEST20", "percentage", "0.2")
    request = only_request(mocked)
    assert (request.method, path_of(request)) == ("PUT", "/v1/promo_codes/TEST15")
    assert form_of(request) == [("name", "TEST20"), ("promo_type", "percentage"), ("value", "0.2")]
    assert (promo.name, promo.value) == ("TEST20", Decimal("0.2"))


def test_delete_promo_code(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{BASE_URL}/v1/promo_codes/TEST15", json=payloads.PROMO_CODE)
    promo = client.promo_codes.delete("TEST15")
    request = only_request(mocked)
    assert request.method == "DELETE"
    assert request.body is None
    assert promo.name == "TEST15"


def test_legacy_post_methods_by_subclassing(mocked: responses.RequestsMock) -> None:
    class LegacyPromoCodes(PromoCodes):
        retrieve_method = "POST"
        update_method = "POST"
        delete_method = "POST"

    class LegacyAcceptOn(AcceptOn):
        promo_codes_class = LegacyPromoCodes

    client = LegacyAcceptOn(SECRET_KEY, environment="sandbox", base_url=BASE_URL)
    mocked.post(f"{BASE_URL}/v1/promo_codes/TEST15", json=payloads.PROMO_CODE)
    client.promo_codes.update("TEST15", "TEST15", "percentage", "0.15")
    assert only_request(mocked).method == "POST"


@pytest.mark.parametrize(
    ("environment", "base_url", "script"),
    [
        (
            "production",
            "https://checkout.accepton.com",
            "https://js.accepton.com/scripts/accepton.js",
        ),
        (
            "staging",
            "https://staging-checkout.accepton.com",
            "https://staging-js.accepton.com/scripts/accepton.js",
        ),
    ],
)
def test_known_environments(environment: str, base_url: str, script: str) -> None:
    client = AcceptOn(SECRET_KEY, environment=environment)
    assert client.environment == environment
    assert client.base_url == base_url == ENVIRONMENTS[environment]
    assert client.form_script_url == script


def test_other_environments_name_their_base_url() -> None:
    client = AcceptOn(SECRET_KEY, environment="sandbox", base_url="http://127.0.0.1:8123/")
    assert client.base_url == "http://127.0.0.1:8123"
    assert client.form_script_url == "http://127.0.0.1:8123/scripts/accepton.js"


def test_base_url_with_a_path_prefix(mocked: responses.RequestsMock) -> None:
    client = AcceptOn(SECRET_KEY, environment="sandbox", base_url="http://127.0.0.1:8123/accepton/")
    mocked.get("http://127.0.0.1:8123/accepton/v1/charges/chg_1", json=payloads.CHARGE)
    client.charges.retrieve("chg_1")
    assert client.form_script_url == "http://127.0.0.1:8123/accepton/scripts/accepton.js"
