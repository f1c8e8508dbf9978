"""Promo codes: the CRUD calls, and what each promo type takes off a payment."""

from __future__ import annotations

import pytest

from . import Api, error_of


def create(api: Api, name: str, promo_type: str, value: object):
    return api.post("/v1/promo_codes", {"name": name, "promo_type": promo_type, "value": value})


def test_create_and_retrieve(accepton_sandbox):
    api = Api(accepton_sandbox)

    created = create(api, "20OFF", "amount", 2000)
    fetched = api.get("/v1/promo_codes/20OFF")

    assert created.status_code == 201
    assert fetched.status_code == 200
    assert fetched.json() == created.json()
    assert {key: value for key, value in created.json().items() if key != "created_at"} == {
        "object": "promo_code",
        "name": "20OFF",
        "promo_type": "amount",
        "value": 2000,
    }


@pytest.mark.parametrize(
    ("sent", "echoed"), [("0.15", 0.15), (0.15, 0.15), ("10", 10), (10.0, 10.0), ("12.5", 12.5)]
)
def test_percentage_value_is_echoed_as_sent(accepton_sandbox, sent, echoed):
    api = Api(accepton_sandbox)

    answer = api.post(
        "/v1/promo_codes", json={"name": "PCT", "promo_type": "percentage", "value": sent}
    )

    assert answer.status_code == 201
    assert answer.json()["value"] == echoed
    assert type(answer.json()["value"]) is type(echoed)


def test_duplicate_name_is_invalid_name(accepton_sandbox):
    api = Api(accepton_sandbox)
    create(api, "TEST10", "percentage", 0.1)

    answer = create(api, "TEST10", "amount", 100)

    assert error_of(answer) == (400, "invalid_name")
    assert answer.json()["error"]["message"] == (
        "That name was already taken. Did you already create the promo code?"
    )


def test_blank_name_is_invalid_name(accepton_sandbox):
    assert error_of(create(Api(accepton_sandbox), "", "amount", 100)) == (400, "invalid_name")


def test_unknown_type_is_invalid_promo_type(accepton_sandbox):
    answer = create(Api(accepton_sandbox), "X", "bogo", 1)

    assert error_of(answer) == (400, "invalid_promo_type")


@pytest.mark.parametrize(
    ("promo_type", "value"),
    [
        ("amount", 0),
        ("amount", 12.5),
        ("amount", "abc"),
        ("fixed_price", -1),
        ("percentage", 0),
        ("percentage", 150),
        ("percentage", ""),
    ],
)
def test_impossible_values_are_invalid_value(accepton_sandbox, promo_type, value):
    answer = create(Api(accepton_sandbox), "X", promo_type, value)

    assert error_of(answer) == (400, "invalid_value")


def test_unknown_code_is_404(accepton_sandbox):
    api = Api(accepton_sandbox)

    assert error_of(api.get("/v1/promo_codes/NOPE")) == (404, "invalid_promo_code")
    assert error_of(api.put("/v1/promo_codes/NOPE", {"value": 1})) == (404, "invalid_promo_code")
    assert error_of(api.delete("/v1/promo_codes/NOPE")) == (404, "invalid_promo_code")


def test_update_can_rename(accepton_sandbox):
    api = Api(accepton_sandbox)
    create(api, "SPRING", "amount", 500)

    answer = api.put(
        "/v1/promo_codes/SPRING", {"name": "SUMMER", "promo_type": "fixed_price", "value": 900}
    )

    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["promo_type"], answer.json()["value"]) == (
        "SUMMER",
        "fixed_price",
        900,
    )
    assert api.get("/v1/promo_codes/SPRING").status_code == 404
    assert api.get("/v1/promo_codes/SUMMER").json()["value"] == 900


def test_rename_onto_another_code_is_invalid_name(accepton_sandbox):
    api = Api(accepton_sandbox)
    create(api, "A", "amount", 1)
    create(api, "B", "amount", 2)

    answer = api.put("/v1/promo_codes/A", {"name": "B", "promo_type": "amount", "value": 1})

    assert error_of(answer) == (400, "invalid_name")


def test_legacy_post_on_a_code_updates_it(accepton_sandbox):
    api = Api(accepton_sandbox)
    create(api, "OLD", "amount", 100)

    answer = api.post("/v1/promo_codes/OLD", {"name": "OLD", "promo_type": "amount", "value": 250})

    assert answer.status_code == 200
    assert api.get("/v1/promo_codes/OLD").json()["value"] == 250


def test_delete_returns_the_deleted_code(accepton_sandbox):
    api = Api(accepton_sandbox)
    created = create(api, "GONE", "amount", 100).json()

    answer = api.delete("/v1/promo_codes/GONE")

    assert answer.status_code == 200
    assert answer.json() == created
    assert api.get("/v1/promo_codes/GONE").status_code == 404
    assert api.get("/v1/promo_codes").json()["total"] == 0


def test_names_are_exact_and_case_sensitive(accepton_sandbox):
    api = Api(accepton_sandbox)
    create(api, "Save10", "amount", 10)

    assert api.get("/v1/promo_codes/SAVE10").status_code == 404
    assert api.get("/v1/promo_codes/Save10").status_code == 200


@pytest.mark.parametrize(
    ("promo_type", "value", "price", "charged"),
    [
        ("amount", 500, 2000, 1500),
        ("amount", 5000, 2000, 0),
        ("fixed_price", 1200, 2000, 1200),
        ("fixed_price", 3000, 2000, 2000),
        ("percentage", 0.15, 2000, 1700),
        ("percentage", 15, 2000, 1700),
        ("percentage", 1, 2000, 0),
        # 10% of 1005 is 100.5 cents off: half rounds up to 101.
        ("percentage", 0.1, 1005, 904),
        # 33% of 999 is 329.67 off: 330.
        ("percentage", 33, 999, 669),
        # 12.5% of 1004 is 125.5 off: 126.
        ("percentage", 12.5, 1004, 878),
    ],
)
def test_promo_code_lowers_the_charge(accepton_sandbox, promo_type, value, price, charged):
    api = Api(accepton_sandbox)
    create(api, "CODE", promo_type, value)
    token = api.token(price)

    answer = api.pay(token["id"], promo_code="CODE")

    assert answer.status_code == 201, answer.text
    assert answer.json()["amount"] == charged
    assert answer.json()["metadata"]["promo_code"] == "CODE"


def test_unknown_promo_code_on_payment_is_400_and_charges_nothing(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(2000)

    answer = api.pay(token["id"], promo_code="NOPE")

    assert error_of(answer) == (400, "invalid_promo_code")
    assert api.get("/v1/charges").json()["total"] == 0
    assert api.pay(token["id"]).json()["amount"] == 2000
