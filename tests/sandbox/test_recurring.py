"""Plans, recurring tokens and subscriptions, under both path prefixes."""

from __future__ import annotations

import re

import pytest

from . import Api, error_of

PREFIXES = ["/v1", "/v1/recurring"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_plan_create_retrieve_list_on_both_prefixes(accepton_sandbox, prefix):
    api = Api(accepton_sandbox)

    created = api.post(
        f"{prefix}/plans",
        {"name": "Gold", "amount": "1500", "currency": "usd", "period_unit": "month"},
    )

    assert created.status_code == 201
    plan = created.json()
    assert re.fullmatch(r"pln_[0-9a-f]{16}", plan["id"])
    assert {key: value for key, value in plan.items() if key not in ("id", "created_at")} == {
        "object": "plan",
        "name": "Gold",
        "amount": 1500,
        "currency": "usd",
        "period_unit": "month",
    }
    for other in PREFIXES:
        assert api.get(f"{other}/plans/{plan['id']}").json() == plan
        assert api.get(f"{other}/plans").json() == {"object": "list", "total": 1, "data": [plan]}


def test_plan_currency_defaults_to_usd(accepton_sandbox):
    answer = Api(accepton_sandbox).post(
        "/v1/recurring/plans", {"name": "P", "amount": 100, "period_unit": "year"}
    )

    assert answer.json()["currency"] == "usd"


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        ({}, "invalid_name"),
        ({"name": "P", "period_unit": "month"}, "invalid_amount"),
        ({"name": "P", "amount": -1, "period_unit": "month"}, "invalid_amount"),
        ({"name": "P", "amount": 100, "period_unit": "week"}, "invalid_period_unit"),
        ({"name": "P", "amount": 100}, "invalid_period_unit"),
        ({"name": "P", "amount": 100, "period_unit": "month", "currency": "x"}, "invalid_currency"),
    ],
)
def test_plan_validation(accepton_sandbox, data, error_type):
    answer = Api(accepton_sandbox).post("/v1/recurring/plans", data)

    assert error_of(answer) == (400, error_type)


def test_unknown_plan_is_400_invalid_plan_id(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/recurring/plans/pln_0000000000000000")

    assert error_of(answer) == (400, "invalid_plan_id")


def test_recurring_token_is_minted_for_a_plan(accepton_sandbox):
    api = Api(accepton_sandbox)
    plan = api.plan("Gold", 1500)

    answer = api.control("recurring_tokens", {"plan_id": plan["id"]})

    assert answer.status_code == 201
    token = answer.json()
    assert re.fullmatch(r"rtx_[0-9a-f]{32}", token["id"])
    assert token["plan_id"] == plan["id"]
    assert api.get(f"/v1/tokens/{token['id']}").json() == token
    assert (token["type"], token["amount"], token["description"]) == ("transaction", 1500, "Gold")


def test_recurring_token_for_unknown_plan_is_refused(accepton_sandbox):
    answer = Api(accepton_sandbox).control("recurring_tokens", {"plan_id": "pln_nope"})

    assert error_of(answer) == (400, "invalid_plan_id")


def test_form_configure_for_a_recurring_token_names_the_plan(accepton_sandbox):
    api = Api(accepton_sandbox)
    plan = api.plan("Gold", 1500, "year")
    token = api.control("recurring_tokens", {"plan_id": plan["id"]}).json()

    config = api.get("/v1/form/configure", token_id=token["id"]).json()["config"]

    assert config["token"]["amount"] == 1500
    assert config["token"]["plan"] == plan


def test_paying_a_recurring_token_subscribes_the_payer(accepton_sandbox):
    api = Api(accepton_sandbox)
    plan = api.plan("Gold", 1500)
    token = api.control("recurring_tokens", {"plan_id": plan["id"]}).json()

    first = api.pay(token["id"], email="ann@example.com")
    second = api.pay(token["id"], email="bob@example.com")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["amount"] == 1500
    subscriptions = api.get("/v1/recurring/subscriptions").json()
    assert subscriptions["total"] == 2
    newest = subscriptions["data"][0]
    assert re.fullmatch(r"sub_[0-9a-f]{16}", newest["id"])
    assert newest["email"] == "bob@example.com"
    assert newest["active"] is True
    assert newest["plan"] == plan
    assert newest["last_billed_at"] == second.json()["created_at"]
    assert newest["object"] == "subscription"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_subscription_retrieve_and_cancel_on_both_prefixes(accepton_sandbox, prefix):
    api = Api(accepton_sandbox)
    plan = api.plan()
    sub = api.control("subscriptions", {"plan_id": plan["id"], "email": "c@example.com"}).json()

    fetched = api.get(f"{prefix}/subscriptions/{sub['id']}")
    cancelled = api.post(f"{prefix}/subscriptions/{sub['id']}/cancel")

    assert fetched.json() == sub
    assert sub["last_billed_at"] is None
    assert cancelled.status_code == 200
    assert cancelled.json()["active"] is False
    assert api.get(f"{prefix}/subscriptions/{sub['id']}").json()["active"] is False


def test_cancelling_twice_is_unable_to_cancel(accepton_sandbox):
    api = Api(accepton_sandbox)
    plan = api.plan()
    sub = api.control("subscriptions", {"plan_id": plan["id"]}).json()
    api.post(f"/v1/subscriptions/{sub['id']}/cancel")

    answer = api.post(f"/v1/subscriptions/{sub['id']}/cancel")

    assert error_of(answer) == (400, "unable_to_cancel_subscription")
    assert answer.json()["error"]["message"] == "Unable to cancel subscription with that ID."


def test_cancelling_an_unknown_subscription_is_unable_to_cancel(accepton_sandbox):
    answer = Api(accepton_sandbox).post("/v1/subscriptions/sub_0000000000000000/cancel")

    assert error_of(answer) == (400, "unable_to_cancel_subscription")


def test_unknown_subscription_is_404(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/recurring/subscriptions/sub_0000000000000000")

    assert error_of(answer) == (404, "invalid_subscription_id")


def test_billing_control_charges_the_plan_and_moves_last_billed_at(accepton_sandbox):
    api = Api(accepton_sandbox)
    plan = api.plan("Gold", 1500)
    sub = api.control("subscriptions", {"plan_id": plan["id"], "email": "d@example.com"}).json()

    answer = api.control(f"subscriptions/{sub['id']}/bill")

    assert answer.status_code == 200
    billed = answer.json()
    assert billed["charge"]["amount"] == 1500
    assert billed["charge"]["metadata"] == {"email": "d@example.com"}  # classic: the email
    assert billed["subscription"]["last_billed_at"] == billed["charge"]["created_at"]
    assert api.get(f"/v1/charges/{billed['charge']['id']}").status_code == 200


def test_server_side_cancel_control(accepton_sandbox):
    api = Api(accepton_sandbox)
    plan = api.plan()
    sub = api.control("subscriptions", {"plan_id": plan["id"]}).json()

    answer = api.control(f"subscriptions/{sub['id']}/cancel")

    assert answer.json()["active"] is False
    assert error_of(api.control(f"subscriptions/{sub['id']}/bill")) == (
        400,
        "unable_to_bill_subscription",
    )


@pytest.mark.parametrize(
    ("value", "expected_active"),
    [("true", True), ("True", True), ("1", True), ("false", False), ("False", False), ("0", False)],
)
def test_subscriptions_filter_on_active(accepton_sandbox, value, expected_active):
    api = Api(accepton_sandbox)
    plan = api.plan()
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        api.control("subscriptions", {"plan_id": plan["id"], "email": email})
    cancelled = api.control("subscriptions", {"plan_id": plan["id"], "active": False}).json()

    answer = api.get("/v1/recurring/subscriptions", active=value).json()

    assert answer["total"] == (3 if expected_active else 1)
    assert {sub["active"] for sub in answer["data"]} == {expected_active}
    if not expected_active:
        assert answer["data"][0]["id"] == cancelled["id"]


def test_subscriptions_filter_on_active_rejects_other_values(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/recurring/subscriptions", active="maybe")

    assert error_of(answer) == (400, "invalid_active")


@pytest.mark.parametrize("key", ["plan.token", "plan_token", "plan[token]"])
def test_subscriptions_filter_on_plan(accepton_sandbox, key):
    api = Api(accepton_sandbox)
    gold, silver = api.plan("Gold"), api.plan("Silver")
    api.control("subscriptions", {"plan_id": gold["id"]})
    api.control("subscriptions", {"plan_id": silver["id"]})
    api.control("subscriptions", {"plan_id": silver["id"]})

    answer = api.get("/v1/recurring/subscriptions", **{key: silver["id"]}).json()

    assert answer["total"] == 2
    assert {sub["plan"]["id"] for sub in answer["data"]} == {silver["id"]}


def test_subscriptions_filters_combine(accepton_sandbox):
    api = Api(accepton_sandbox)
    gold, silver = api.plan("Gold"), api.plan("Silver")
    api.control("subscriptions", {"plan_id": gold["id"], "active": False})
    api.control("subscriptions", {"plan_id": silver["id"], "active": False})
    api.control("subscriptions", {"plan_id": silver["id"]})

    answer = api.get("/v1/subscriptions", **{"plan.token": silver["id"], "active": "false"}).json()

    assert answer["total"] == 1
