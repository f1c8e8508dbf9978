"""Every client call over real HTTP against the sandbox: happy paths and documented errors.

Against the ``classic`` dialect, whose answers these tests spell out; how the client copes with
each other reading is in ``test_dialects.py``."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest

from django_accepton.client import (
    AcceptOn,
    APIConnectionError,
    APIError,
    AuthenticationError,
    Charge,
    InvalidRequestError,
    NotFoundError,
    Plan,
    PromoCode,
    ServiceUnavailableError,
    Subscription,
    TransactionToken,
)

from . import make_client

CARD = "4242424242424242"

pytestmark = pytest.mark.accepton_dialect("classic")


@pytest.fixture
def api(accepton_sandbox):
    with make_client(accepton_sandbox) as client:
        yield client


def paid_charge(sandbox, api: AcceptOn, amount: int = 3000, currency: str = "usd") -> str:
    token = api.tokens.create(amount, currency, description="Integration order")
    charge = sandbox.state.create_form_charge(
        token.id, CARD, 12, date.today().year + 1, "123", "buyer@example.com"
    )
    return str(charge["id"])


def test_ping(api):
    assert api.ping() is True


def test_wrong_key_is_an_authentication_error(accepton_sandbox):
    bad = AcceptOn("skey_" + "0" * 32, environment="sandbox", base_url=accepton_sandbox.url)
    with pytest.raises(AuthenticationError) as caught:
        bad.tokens.create(100, "usd")
    assert caught.value.http_status == 401
    assert accepton_sandbox.state.summary()["tokens"] == 0


def test_public_key_cannot_read_charges(accepton_sandbox):
    public = AcceptOn(
        accepton_sandbox.public_key, environment="sandbox", base_url=accepton_sandbox.url
    )
    with pytest.raises(AuthenticationError):
        public.charges.list()


def test_tokens_create_and_retrieve(api):
    token = api.tokens.create(1999, "USD", description="Order 1", application_fee=100)
    assert isinstance(token, TransactionToken)
    assert token.id.startswith("txn_")
    assert (token.amount, token.currency, token.description, token.application_fee) == (
        1999,
        "usd",
        "Order 1",
        100,
    )
    again = api.tokens.retrieve(token.id)
    assert again.id == token.id
    assert again.amount == 1999
    assert again.created is not None
    assert again.created.tzinfo is not None


def test_unknown_token_is_not_found(api):
    with pytest.raises(NotFoundError) as caught:
        api.tokens.retrieve("txn_" + "f" * 32)
    assert caught.value.http_status == 404
    assert caught.value.error_type == "invalid_token"


def test_charge_retrieve_and_unknown_charge(accepton_sandbox, api):
    charge_id = paid_charge(accepton_sandbox, api)
    charge = api.charges.retrieve(charge_id)
    assert isinstance(charge, Charge)
    assert (charge.amount, charge.currency, charge.status, charge.refunded) == (
        3000,
        "usd",
        "paid",
        False,
    )
    assert charge.is_paid
    with pytest.raises(NotFoundError) as caught:
        api.charges.retrieve("chg_0000000000000000")
    assert caught.value.http_status == 400
    assert caught.value.error_type == "invalid_charge_id"


def test_charges_list_filters_and_pages(accepton_sandbox, api):
    ids = [paid_charge(accepton_sandbox, api, amount=1000 + i) for i in range(5)]
    page = api.charges.list(per_page=2, page=1, order_by="created_at", order="asc")
    assert page.total == 5
    assert [c.id for c in page.data] == ids[:2]
    assert [c.id for c in api.charges.list(amount=1003).data] == [ids[3]]
    today = date.today()
    assert (
        api.charges.list(
            start_date=today - timedelta(days=1), end_date=today + timedelta(days=1)
        ).total
        == 5
    )
    assert api.charges.list(start_date=today + timedelta(days=2)).total == 0
    walked = [c.id for c in api.charges.iter_all(order_by="created_at", order="asc")]
    assert walked == ids


def test_partial_refunds_up_to_the_charge(accepton_sandbox, api):
    charge_id = paid_charge(accepton_sandbox, api, amount=3000)
    first = api.refunds.create(charge_id, 1000)
    assert first.id.startswith("ref_")
    assert (first.amount, first.currency) == (1000, "usd")
    assert api.charges.retrieve(charge_id).refunded is False
    with pytest.raises(InvalidRequestError) as caught:
        api.refunds.create(charge_id, 2001)
    assert caught.value.error_type == "invalid_amount"
    assert caught.value.http_status == 400
    api.refunds.create(charge_id, 2000)
    assert api.charges.retrieve(charge_id).refunded is True
    with pytest.raises(InvalidRequestError):
        api.refunds.create(charge_id, 1)


def test_refund_of_unknown_charge_is_refused(api):
    with pytest.raises(InvalidRequestError):
        api.refunds.create("chg_0000000000000000", 100)


@pytest.mark.parametrize("prefix", ["/v1/recurring", "/v1"])
def test_plans_on_both_documented_paths(accepton_sandbox, prefix):
    with make_client(accepton_sandbox, recurring_prefix=prefix) as client:
        plan = client.plans.create("Gold", 1500, "usd", "month")
        assert isinstance(plan, Plan)
        assert plan.id.startswith("pln_")
        assert client.plans.retrieve(plan.id).name == "Gold"
        client.plans.create("Silver", 900, "usd", "year")
        listed = client.plans.list()
        assert [p.name for p in listed.data] == ["Gold", "Silver"]
        assert listed.total == 2
        with pytest.raises(NotFoundError) as caught:
            client.plans.retrieve("pln_0000000000000000")
        assert caught.value.error_type == "invalid_plan_id"
    assert accepton_sandbox.state.request_count(path_prefix=f"{prefix}/plans") == 5


def test_subscriptions_retrieve_list_filter_cancel(accepton_sandbox, api):
    gold = api.plans.create("Gold", 1500, "usd", "month")
    silver = api.plans.create("Silver", 900, "usd", "month")
    state = accepton_sandbox.state
    subs = [state.create_subscription(gold.id, f"g{i}@example.com") for i in range(3)]
    state.create_subscription(silver.id, "s@example.com")

    retrieved = api.subscriptions.retrieve(subs[0]["id"])
    assert isinstance(retrieved, Subscription)
    assert retrieved.active is True
    assert retrieved.plan.id == gold.id
    assert retrieved.last_billed_at is None

    assert api.subscriptions.list(plan_token=gold.id).total == 3
    cancelled = api.subscriptions.cancel(subs[1]["id"])
    assert cancelled.active is False
    assert api.subscriptions.list(active=True).total == 3
    assert api.subscriptions.list(active=False).total == 1
    assert len(list(api.subscriptions.iter_all())) == 4

    with pytest.raises(InvalidRequestError) as caught:
        api.subscriptions.cancel(subs[1]["id"])
    assert caught.value.error_type == "unable_to_cancel_subscription"
    with pytest.raises(NotFoundError):
        api.subscriptions.retrieve("sub_0000000000000000")


def test_subscriptions_page_through_more_than_one_hundred(accepton_sandbox, api):
    accepton_sandbox.state.seed("subscriptions", 250)
    first = api.subscriptions.list(page=1, per_page=100)
    assert (len(first.data), first.total) == (100, 250)
    assert len(api.subscriptions.list(page=3, per_page=100).data) == 50
    assert len({s.id for s in api.subscriptions.iter_all()}) == 250
    with pytest.raises(ValueError, match="per_page"):
        api.subscriptions.list(per_page=101)


def test_promo_codes_lifecycle(api):
    created = api.promo_codes.create("SPRING", "percentage", Decimal("0.15"))
    assert isinstance(created, PromoCode)
    assert (created.name, created.promo_type, created.value) == (
        "SPRING",
        "percentage",
        Decimal("0.15"),
    )
    assert created.apply(2000) == 1700
    api.promo_codes.create("FIVE", "amount", 500)
    with pytest.raises(InvalidRequestError) as caught:
        api.promo_codes.create("FIVE", "amount", 500)
    assert caught.value.error_type == "invalid_name"

    assert api.promo_codes.retrieve("FIVE").value == Decimal(500)
    assert {p.name for p in api.promo_codes.list().data} == {"SPRING", "FIVE"}
    assert [p.name for p in api.promo_codes.list(promo_type="amount").data] == ["FIVE"]

    renamed = api.promo_codes.update("FIVE", "SIX", "amount", 600)
    assert (renamed.name, renamed.value) == ("SIX", Decimal(600))
    with pytest.raises(NotFoundError):
        api.promo_codes.retrieve("FIVE")

    deleted = api.promo_codes.delete("SIX")
    assert deleted.name == "SIX"
    with pytest.raises(NotFoundError):
        api.promo_codes.delete("SIX")
    assert [p.name for p in api.promo_codes.iter_all()] == ["SPRING"]


def test_503_is_retried_for_reads(accepton_sandbox):
    accepton_sandbox.state.add_fault({"status": 503, "count": 2, "path_prefix": "/v1/tokens"})
    with make_client(accepton_sandbox, max_retries=2) as client:
        token = client.tokens.create(500, "usd")  # POST retried: 503 is answered before processing
        assert client.tokens.retrieve(token.id).amount == 500
    assert accepton_sandbox.state.request_count(method="POST", path_prefix="/v1/tokens") == 3
    assert accepton_sandbox.state.summary()["tokens"] == 1


def test_503_beyond_the_retries_is_service_unavailable(accepton_sandbox, api):
    accepton_sandbox.state.add_fault({"status": 503, "count": 1})
    with pytest.raises(ServiceUnavailableError) as caught:
        api.charges.list()
    assert caught.value.http_status == 503


def test_500_on_a_refund_is_not_retried(accepton_sandbox):
    with make_client(accepton_sandbox, max_retries=3) as client:
        charge_id = paid_charge(accepton_sandbox, client)
        accepton_sandbox.state.add_fault({"status": 500, "count": 1, "path_prefix": "/v1/refunds"})
        with pytest.raises(APIError) as caught:
            client.refunds.create(charge_id, 100)
    assert caught.value.http_status == 500
    assert accepton_sandbox.state.request_count(method="POST", path_prefix="/v1/refunds") == 1


def test_malformed_json_is_an_api_error(accepton_sandbox, api):
    accepton_sandbox.state.add_fault(
        {"malformed_json": True, "count": 1, "path_prefix": "/v1/recurring/plans"}
    )
    with pytest.raises(APIError) as caught:
        api.plans.list()
    assert caught.value.http_status == 200


def test_slow_answer_times_out(accepton_sandbox):
    accepton_sandbox.state.add_fault({"delay": 1.0, "count": 1, "path_prefix": "/v1/charges"})
    with (
        make_client(accepton_sandbox, timeout=(1, 0.2)) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.charges.list()
    assert caught.value.request_sent is True


def test_refused_connection_is_a_connection_error(accepton_sandbox):
    with (
        AcceptOn(
            accepton_sandbox.secret_key,
            environment="sandbox",
            base_url="http://127.0.0.1:9",
            max_retries=0,
        ) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.tokens.create(100, "usd")
    assert caught.value.request_sent is False


def test_secret_key_never_appears_in_errors_or_logs(accepton_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    key = accepton_sandbox.secret_key
    texts: list[str] = []
    with make_client(accepton_sandbox) as client:
        texts.append(repr(client))
        for call in (
            lambda: client.charges.retrieve("chg_0000000000000000"),
            lambda: client.tokens.retrieve("txn_" + "0" * 32),
            lambda: client.promo_codes.create("", "amount", 1),
        ):
            with pytest.raises(Exception) as caught:  # noqa: PT011 - each raises its own kind
                call()
            texts += [str(caught.value), repr(caught.value)]
    with AcceptOn(key, environment="sandbox", base_url="http://127.0.0.1:9", max_retries=0) as down:
        with pytest.raises(APIConnectionError) as caught:
            down.ping()
        texts += [str(caught.value), repr(caught.value)]
    texts += [record.getMessage() for record in caplog.records]
    assert len(texts) > 8
    assert all(key not in text and key[5:] not in text for text in texts)
