"""Keys: the secret key opens everything, the public key only the browser-form routes."""

from __future__ import annotations

import re

import pytest
import requests

from django_accepton.sandbox import SandboxServer, SandboxState

from . import TIMEOUT, Api, error_of

SECRET_ONLY = [
    ("GET", "/ping"),
    ("GET", "/v1/ping"),
    ("GET", "/v1/tokens/txn_00000000000000000000000000000000"),
    ("GET", "/v1/charges"),
    ("GET", "/v1/charges/chg_0000000000000000"),
    ("POST", "/v1/refunds"),
    ("POST", "/v1/plans"),
    ("GET", "/v1/recurring/plans"),
    ("GET", "/v1/recurring/plans/pln_0000000000000000"),
    ("GET", "/v1/subscriptions"),
    ("GET", "/v1/recurring/subscriptions/sub_0000000000000000"),
    ("POST", "/v1/subscriptions/sub_0000000000000000/cancel"),
    ("POST", "/v1/promo_codes"),
    ("GET", "/v1/promo_codes"),
    ("GET", "/v1/promo_codes/TEST10"),
    ("PUT", "/v1/promo_codes/TEST10"),
    ("DELETE", "/v1/promo_codes/TEST10"),
]


def test_keys_have_acceptons_formats():
    state = SandboxState()

    assert re.fullmatch(r"pkey_[0-9a-f]{16}", state.public_key)
    assert re.fullmatch(r"skey_[0-9a-f]{32}", state.secret_key)
    assert SandboxState().secret_key != state.secret_key


def test_given_keys_are_used():
    state = SandboxState(public_key="pkey_given", secret_key="skey_given")

    assert (state.public_key, state.secret_key) == ("pkey_given", "skey_given")
    assert state.key_role("skey_given") == "secret"
    assert state.key_role("pkey_given") == "public"
    assert state.key_role("skey_other") is None


def test_server_passes_its_keys_to_a_new_state():
    server = SandboxServer(public_key="pkey_a", secret_key="skey_b")

    assert (server.public_key, server.secret_key) == ("pkey_a", "skey_b")


@pytest.mark.parametrize(("method", "path"), SECRET_ONLY)
def test_missing_key_is_401(accepton_sandbox, method, path):
    answer = requests.request(method, accepton_sandbox.url + path, timeout=TIMEOUT)

    assert answer.status_code == 401
    assert answer.json() == {"error": {"type": "unauthorized", "message": "Invalid API key."}}


@pytest.mark.parametrize(("method", "path"), SECRET_ONLY)
def test_public_key_is_refused_on_secret_routes(accepton_sandbox, method, path):
    answer = requests.request(
        method,
        accepton_sandbox.url + path,
        headers={"Authorization": f"Bearer {accepton_sandbox.public_key}"},
        timeout=TIMEOUT,
    )

    assert error_of(answer) == (401, "unauthorized")


def test_wrong_key_is_401_and_never_echoed(accepton_sandbox):
    wrong = "skey_" + "f" * 32
    answer = Api(accepton_sandbox, key=wrong).get("/v1/charges")

    assert error_of(answer) == (401, "unauthorized")
    assert wrong not in answer.text
    assert accepton_sandbox.secret_key not in answer.text


def test_authorization_without_bearer_is_refused(accepton_sandbox):
    answer = requests.get(
        accepton_sandbox.url + "/ping",
        headers={"Authorization": accepton_sandbox.secret_key},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 401


def test_access_token_in_the_query_works(accepton_sandbox):
    answer = Api(accepton_sandbox, key="").get("/ping", access_token=accepton_sandbox.secret_key)

    assert answer.status_code == 200


def test_access_token_in_a_form_body_works(accepton_sandbox):
    answer = Api(accepton_sandbox, key="").post(
        "/v1/tokens", {"amount": 500, "access_token": accepton_sandbox.secret_key}
    )

    assert answer.status_code == 201


def test_access_token_in_a_json_body_works(accepton_sandbox):
    answer = Api(accepton_sandbox, key="").post(
        "/v1/recurring/plans",
        json={
            "name": "Silver",
            "amount": 900,
            "period_unit": "month",
            "access_token": accepton_sandbox.secret_key,
        },
    )

    assert answer.status_code == 201


def test_public_key_creates_tokens(accepton_sandbox):
    # AcceptOn's iOS SDK creates tokens with the public key; its tests expect that to work.
    answer = Api(accepton_sandbox, key=accepton_sandbox.public_key).post(
        "/v1/tokens", {"amount": 700}
    )

    assert answer.status_code == 201
    assert answer.json()["id"].startswith("txn_")


def test_public_key_configures_the_form_and_pays(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(800)
    public = Api(accepton_sandbox, key=accepton_sandbox.public_key)

    config = public.get("/v1/form/configure", token_id=token["id"])
    paid = api.pay(token["id"])

    assert config.status_code == 200
    assert paid.status_code == 201


def test_public_key_cannot_read_the_charge_it_paid(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(800)

    answer = Api(accepton_sandbox, key=accepton_sandbox.public_key).get(
        f"/v1/charges/{charge['id']}"
    )

    assert error_of(answer) == (401, "unauthorized")


def test_controls_need_no_key(accepton_sandbox):
    answer = requests.get(f"{accepton_sandbox.url}/__sandbox__/state", timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.json()["public_key"] == accepton_sandbox.public_key
    assert accepton_sandbox.secret_key not in answer.text
