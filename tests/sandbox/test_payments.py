"""Tokens, the hosted form's configure call, and paying a token with the test cards."""

from __future__ import annotations

import re

import pytest

from django_accepton.sandbox import TEST_CARDS

from . import Api, error_of

ISO_MILLIS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_token_has_acceptons_shape(accepton_sandbox):
    api = Api(accepton_sandbox)

    token = api.token(
        2500, description="Order 42", application_fee=100, merchant_paypal_account="m@example.com"
    )

    assert re.fullmatch(r"txn_[0-9a-f]{32}", token["id"])
    assert ISO_MILLIS_Z.fullmatch(token["created"])
    assert {key: value for key, value in token.items() if key not in ("id", "created")} == {
        "type": "transaction",
        "amount": 2500,
        "application_fee": 100,
        "currency": "usd",
        "description": "Order 42",
        "merchant_paypal_account": "m@example.com",
    }


def test_token_currency_is_null_when_not_sent(accepton_sandbox):
    answer = Api(accepton_sandbox).post("/v1/tokens", {"amount": 100})

    assert answer.json()["currency"] is None


def test_token_currency_is_lower_cased(accepton_sandbox):
    assert Api(accepton_sandbox).token(100, currency="CAD")["currency"] == "cad"


def test_token_is_retrieved(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(1234, description="x")

    answer = api.get(f"/v1/tokens/{token['id']}")

    assert answer.status_code == 200
    assert answer.json() == token


def test_unknown_token_is_404_invalid_token(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/tokens/txn_" + "0" * 32)

    assert error_of(answer) == (404, "invalid_token")
    assert answer.json()["error"]["message"] == "The transaction token is invalid."


@pytest.mark.parametrize("amount", ["", "0", "-5", "12.5", "ten", None])
def test_token_amount_must_be_a_positive_integer(accepton_sandbox, amount):
    data = {"currency": "usd"} if amount is None else {"amount": amount}

    answer = Api(accepton_sandbox).post("/v1/tokens", data)

    assert error_of(answer) == (400, "invalid_amount")
    assert answer.json()["error"]["message"] == "The amount is not a postive integer."


@pytest.mark.parametrize("currency", ["us", "dollars", "12a"])
def test_token_currency_must_be_three_letters(accepton_sandbox, currency):
    answer = Api(accepton_sandbox).post("/v1/tokens", {"amount": 100, "currency": currency})

    assert error_of(answer) == (400, "invalid_currency")


def test_negative_application_fee_is_refused(accepton_sandbox):
    answer = Api(accepton_sandbox).post("/v1/tokens", {"amount": 100, "application_fee": -1})

    assert error_of(answer) == (400, "invalid_application_fee")


def test_form_configure_describes_the_token(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(4200, description="Blue mug")

    answer = Api(accepton_sandbox, key="").get(
        "/v1/form/configure", token_id=token["id"], access_token=accepton_sandbox.public_key
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "config": {
            "payment_methods": ["credit-card"],
            "token": {
                "id": token["id"],
                "amount": 4200,
                "currency": "usd",
                "description": "Blue mug",
            },
            "promo_codes_enabled": True,
        }
    }


def test_form_configure_for_unknown_token_is_404(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/form/configure", token_id="txn_nope")

    assert error_of(answer) == (404, "invalid_token")


def test_paying_with_the_success_card_creates_a_paid_charge(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(3100, description="Order 7", application_fee=50)

    answer = api.pay(token["id"], email="bob@example.com", **{"metadata[name]": "Bob"})

    assert answer.status_code == 201
    charge = answer.json()
    assert re.fullmatch(r"chg_[0-9a-f]{16}", charge["id"])
    assert re.fullmatch(r"ch_[A-Za-z0-9]{24}", charge["remote_id"])
    assert ISO_MILLIS_Z.fullmatch(charge["created_at"])
    assert {key: charge[key] for key in charge if key not in ("id", "remote_id", "created_at")} == {
        "amount": 3100,
        "application_fee": 50,
        "currency": "usd",
        "description": "Order 7",
        "metadata": {"name": "Bob", "email": "bob@example.com"},
        "refunded": False,
        "status": "paid",
    }
    assert api.get(f"/v1/charges/{charge['id']}").json() == charge


def test_paying_with_spaced_card_number_works(accepton_sandbox):
    api = Api(accepton_sandbox)

    answer = api.pay(api.token()["id"], "4242 4242 4242 4242", exp_year="40")

    assert answer.status_code == 201


def test_charge_from_json_body(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(600)

    answer = api.post(
        "/v1/charges",
        json={
            "token": token["id"],
            "card": {
                "number": TEST_CARDS["success"],
                "exp_month": 1,
                "exp_year": 2040,
                "security_code": "999",
            },
            "email": "json@example.com",
            "metadata": {"order": 12},
        },
    )

    assert answer.status_code == 201
    assert answer.json()["metadata"] == {"order": 12, "email": "json@example.com"}


@pytest.mark.parametrize(
    ("number", "error_type", "message"),
    [
        (TEST_CARDS["declined"], "card_declined", "Your card was declined."),
        (
            TEST_CARDS["insufficient_funds"],
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
    ],
)
def test_declining_cards_create_no_charge(accepton_sandbox, number, error_type, message):
    api = Api(accepton_sandbox)
    token = api.token()

    answer = api.pay(token["id"], number)

    assert error_of(answer) == (400, error_type)
    assert answer.json()["error"]["message"] == message
    assert api.get("/v1/charges").json()["total"] == 0
    # A declined attempt leaves the token payable with another card.
    assert api.pay(token["id"]).status_code == 201


@pytest.mark.parametrize("number", ["4111111111111111", "", "4242"])
def test_other_card_numbers_are_invalid(accepton_sandbox, number):
    api = Api(accepton_sandbox)

    assert error_of(api.pay(api.token()["id"], number)) == (400, "invalid_card")


@pytest.mark.parametrize(
    ("month", "year"), [("01", "2020"), ("13", "2040"), ("0", "2040"), ("x", "")]
)
def test_expired_or_impossible_dates_are_invalid_expiry(accepton_sandbox, month, year):
    api = Api(accepton_sandbox)

    answer = api.pay(api.token()["id"], exp_month=month, exp_year=year)

    assert error_of(answer) == (400, "invalid_expiry")


@pytest.mark.parametrize("cvc", ["", "12", "12345", "abc"])
def test_bad_security_code_is_refused(accepton_sandbox, cvc):
    api = Api(accepton_sandbox)

    assert error_of(api.pay(api.token()["id"], cvc=cvc)) == (400, "invalid_cvc")


def test_email_is_required(accepton_sandbox):
    api = Api(accepton_sandbox)

    assert error_of(api.pay(api.token()["id"], email="not-an-email")) == (400, "invalid_email")


def test_one_off_token_pays_only_once(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token()
    assert api.pay(token["id"]).status_code == 201

    again = api.pay(token["id"])

    assert error_of(again) == (400, "token_already_used")
    assert api.get("/v1/charges").json()["total"] == 1


def test_paying_an_unknown_token_is_404(accepton_sandbox):
    answer = Api(accepton_sandbox).pay("txn_" + "1" * 32)

    assert error_of(answer) == (404, "invalid_token")


def test_unknown_charge_is_400_invalid_charge_id(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/charges/chg_0000000000000000")

    assert error_of(answer) == (400, "invalid_charge_id")
    assert answer.json()["error"]["message"] == "There is no charge with that ID."


def test_control_route_pays_a_token_without_a_browser(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(1900)

    answer = api.control("charges", {"token": token["id"], "card": TEST_CARDS["success"]})

    assert answer.status_code == 201
    assert answer.json()["amount"] == 1900
    assert answer.json()["metadata"] == {"email": "customer@example.com"}
    assert error_of(api.control("charges", {"token": token["id"]})) == (400, "token_already_used")


def test_control_route_applies_the_card_rules(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token()

    answer = api.control("charges", {"token": token["id"], "card": TEST_CARDS["declined"]})

    assert error_of(answer) == (400, "card_declined")


def test_state_method_pays_a_token(accepton_sandbox):
    state = accepton_sandbox.state
    token = state.create_token(700, currency="usd")

    charge = state.create_form_charge(
        token["id"], TEST_CARDS["success"], 12, 2040, "123", "py@example.com", metadata={"a": 1}
    )

    assert (charge["amount"], charge["status"]) == (700, "paid")
    assert charge["metadata"] == {"a": 1, "email": "py@example.com"}
