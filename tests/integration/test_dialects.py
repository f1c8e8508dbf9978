"""The client against each reading of what AcceptOn's documents leave open.

Each test sets the one switch it is about on top of the default dialect and checks both (or
every) reading, so the client is shown right under each, whatever the other switches say.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from django_accepton.client import (
    InvalidRequestError,
    NotFoundError,
    PagingIgnored,
    ServiceUnavailableError,
)
from django_accepton.sandbox.dialects import CHOICES, Dialect

from . import make_client

CARD = "4242424242424242"


def speak(sandbox, **switches: str) -> None:
    sandbox.state.set_dialect(Dialect.preset("strict-docs").replace(**switches))


@pytest.mark.parametrize("total", CHOICES["total"])
def test_a_list_ends_on_a_short_page_whatever_total_counts(accepton_sandbox, total):
    speak(accepton_sandbox, total=total)
    accepton_sandbox.state.seed("promo_codes", 250)
    with make_client(accepton_sandbox) as client:
        assert len({code.name for code in client.promo_codes.iter_all()}) == 250
    # Pages 1-3; page 3 is short. Never stopped at 100 by a total of 100.
    assert accepton_sandbox.state.request_count("GET", "/v1/promo_codes") == 3


@pytest.mark.parametrize("paging", CHOICES["charge_paging"])
def test_charges_are_read_whole_by_date_whether_or_not_paging_is_honoured(accepton_sandbox, paging):
    speak(accepton_sandbox, charge_paging=paging)
    accepton_sandbox.state.seed("charges", 450)  # one a minute, up to now: mostly today
    with make_client(accepton_sandbox) as client:
        if paging == "ignored":
            with pytest.raises(PagingIgnored):
                list(client.charges.iter_all())
        today = date.today()
        windows = list(client.charges.walk_by_date(today - timedelta(days=2), today))
    ids = [charge.id for window in windows for charge in window.page.data]
    assert len(ids) == len(set(ids)) == 450
    assert all(window.complete for window in windows)
    created = [charge.created for window in windows for charge in window.page.data]
    assert created == sorted(created)


@pytest.mark.parametrize("missing", CHOICES["missing_promo"])
def test_an_unknown_promo_code_is_not_found_under_either_answer(accepton_sandbox, missing):
    speak(accepton_sandbox, missing_promo=missing)
    with make_client(accepton_sandbox) as client:
        with pytest.raises(NotFoundError) as caught:
            client.promo_codes.retrieve("NOPE")
        assert caught.value.http_status == int(missing)
        # A delete is a write: its 400 is not taken for "not found" (the service retrieves).
        with pytest.raises(NotFoundError if missing == "404" else InvalidRequestError):
            client.promo_codes.delete("NOPE")


@pytest.mark.parametrize("missing", CHOICES["missing_subscription"])
def test_an_unknown_subscription_is_not_found_under_either_answer(accepton_sandbox, missing):
    speak(accepton_sandbox, missing_subscription=missing)
    with make_client(accepton_sandbox) as client, pytest.raises(NotFoundError):
        client.subscriptions.retrieve("sub_0000000000000000")


@pytest.mark.parametrize("served", CHOICES["recurring_paths"])
@pytest.mark.parametrize("configured", ["/v1/recurring", "/v1"])
def test_plans_and_subscriptions_are_found_under_whichever_prefix_is_served(
    accepton_sandbox, served, configured
):
    speak(accepton_sandbox, recurring_paths=served)
    with make_client(accepton_sandbox, recurring_prefix=configured) as client:
        plan = client.plans.create("Gold", 1500, "usd", "month")
        assert client.plans.retrieve(plan.id).name == "Gold"
        assert [p.id for p in client.plans.iter_all()] == [plan.id]
        assert list(client.subscriptions.iter_all()) == []
        with pytest.raises(NotFoundError):
            client.plans.retrieve("pln_0000000000000000")
        prefix = client.recurring_prefix
    assert served == "both" or (prefix == "/v1/recurring") == (served == "recurring")
    # One plan, whatever was tried first: a create answered 404 processed nothing.
    assert len(accepton_sandbox.state.list_plans()["data"]) == 1


@pytest.mark.parametrize("when", CHOICES["write_503"])
def test_a_refund_answered_503_is_sent_once_whenever_it_was_processed(accepton_sandbox, when):
    speak(accepton_sandbox, write_503=when)
    state = accepton_sandbox.state
    token = state.create_token(2000, "usd")
    charge = state.create_form_charge(token["id"], CARD, 12, 2099, "123", "a@example.com")
    state.add_fault({"status": 503, "method": "POST", "path_prefix": "/v1/refunds", "count": 5})
    with (
        make_client(accepton_sandbox, max_retries=3) as client,
        pytest.raises(ServiceUnavailableError),
    ):
        client.refunds.create(charge["id"], 500)
    assert state.request_count("POST", "/v1/refunds") == 1
    refunded = state.refunds_for_charge(charge["id"])
    assert len(refunded) == (1 if when == "after" else 0)


@pytest.mark.parametrize("retrieve", CHOICES["rtx_retrieve"])
def test_a_recurring_token_is_retrieved_only_where_the_server_allows(accepton_sandbox, retrieve):
    speak(accepton_sandbox, rtx_retrieve=retrieve)
    plan = accepton_sandbox.state.create_plan("Gold", 1500, "usd", "month")
    made = accepton_sandbox.state.create_recurring_token(plan["id"])["id"]
    with make_client(accepton_sandbox) as client:
        if retrieve == "yes":
            assert client.tokens.retrieve(made).amount == 1500
        else:
            with pytest.raises(NotFoundError):
                client.tokens.retrieve(made)


@pytest.mark.parametrize("order", CHOICES["subscription_order"])
def test_subscriptions_are_listed_without_an_order_no_source_gives(accepton_sandbox, order):
    speak(accepton_sandbox, subscription_order=order)
    accepton_sandbox.state.seed("subscriptions", 230)
    with make_client(accepton_sandbox) as client:
        ids = [sub.id for sub in client.subscriptions.iter_all()]
    assert len(ids) == len(set(ids)) == 230


@pytest.mark.parametrize("key", CHOICES["charge_timestamp"])
@pytest.mark.parametrize("status", CHOICES["charge_status"])
def test_a_charge_reads_the_same_whatever_its_timestamp_key_and_status(
    accepton_sandbox, key, status
):
    speak(accepton_sandbox, charge_timestamp=key, charge_status=status)
    state = accepton_sandbox.state
    token = state.create_token(2000, "usd")
    charge = state.create_form_charge(token["id"], CARD, 12, 2099, "123", "a@example.com")
    with make_client(accepton_sandbox) as client:
        remote = client.charges.retrieve(charge["id"])
    assert key in remote.raw
    assert remote.created is not None
    assert remote.is_paid
