"""Refunds: partial refunds add up to the charge, never beyond it."""

from __future__ import annotations

import re

import pytest

from . import Api, error_of


def refund(api: Api, charge_id: str, amount: object):
    return api.post("/v1/refunds", {"charge_id": charge_id, "amount": amount})


def test_refund_has_acceptons_shape(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(5000)

    answer = refund(api, charge["id"], 1200)

    assert answer.status_code == 201
    body = answer.json()
    assert re.fullmatch(r"ref_[0-9a-f]{16}", body["id"])
    assert body["created"] == body["created_at"]
    assert {key: body[key] for key in ("amount", "currency", "metadata", "reason")} == {
        "amount": 1200,
        "currency": "usd",
        "metadata": None,
        "reason": "requested_by_customer",
    }


def test_partial_refunds_add_up_and_flag_the_charge_when_complete(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(5000)

    assert refund(api, charge["id"], 2000).status_code == 201
    assert api.get(f"/v1/charges/{charge['id']}").json()["refunded"] is False
    assert refund(api, charge["id"], 2999).status_code == 201
    assert api.get(f"/v1/charges/{charge['id']}").json()["refunded"] is False
    assert refund(api, charge["id"], 1).status_code == 201

    after = api.get(f"/v1/charges/{charge['id']}").json()
    assert after["refunded"] is True
    assert after["amount"] == 5000
    assert [r["amount"] for r in accepton_sandbox.state.refunds_for_charge(charge["id"])] == [
        2000,
        2999,
        1,
    ]


def test_refund_beyond_the_remainder_is_invalid_amount(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(5000)
    refund(api, charge["id"], 4000)

    answer = refund(api, charge["id"], 1001)

    assert error_of(answer) == (400, "invalid_amount")
    assert "1000" in answer.json()["error"]["message"]
    assert len(accepton_sandbox.state.refunds_for_charge(charge["id"])) == 1
    assert refund(api, charge["id"], 1000).status_code == 201


def test_a_fully_refunded_charge_takes_no_more_refunds(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(300)
    refund(api, charge["id"], 300)

    assert error_of(refund(api, charge["id"], 1)) == (400, "invalid_amount")


@pytest.mark.parametrize("amount", [0, -100, "1.5", "", "abc"])
def test_non_positive_or_non_integer_refund_is_invalid_amount(accepton_sandbox, amount):
    api = Api(accepton_sandbox)
    charge = api.charge(300)

    answer = refund(api, charge["id"], amount)

    assert error_of(answer) == (400, "invalid_amount")
    assert answer.json()["error"]["message"] == "The amount is not a postive integer."


def test_refund_of_unknown_charge_is_invalid_charge_id(accepton_sandbox):
    answer = refund(Api(accepton_sandbox), "chg_ffffffffffffffff", 100)

    assert error_of(answer) == (400, "invalid_charge_id")


def test_refund_with_no_parameters_is_invalid_amount(accepton_sandbox):
    # AcceptOn's own fixture for an empty refund request.
    answer = Api(accepton_sandbox).post("/v1/refunds")

    assert error_of(answer) == (400, "invalid_amount")


def test_refund_reason_is_kept_and_json_works(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(1000)

    answer = api.post(
        "/v1/refunds", json={"charge_id": charge["id"], "amount": 250, "reason": "duplicate"}
    )

    assert answer.status_code == 201
    assert answer.json()["reason"] == "duplicate"
