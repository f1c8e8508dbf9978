"""Bad input gets a clear 400 and changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from django_accepton.models import Charge, TransactionToken
from django_accepton.services.verification import reverify_pending_charges
from tests.checkout.conftest import pay, render_form, token_in

pytestmark = pytest.mark.django_db

PRODUCT = {"amount": 1200, "currency": "usd", "description": "Order 3003"}


@pytest.fixture
def paid(accepton):
    token_id = token_in(render_form(PRODUCT))
    return token_id, pay(accepton, token_id).json()


def return_url(token_id: str) -> str:
    return f"{reverse('accepton:return')}?token={token_id}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "no &#x27;response&#x27; field"),
        ({"response": ""}, "no &#x27;response&#x27; field"),
        ({"response": "{not json"}, "not valid JSON"),
        ({"response": "[1, 2]"}, "not a JSON object"),
        ({"response": '{"id": 12}'}, "names no charge id"),
        ({"response": '{"amount": 1200}'}, "names no charge id"),
        ({"response": '{"id": "chg_../../etc"}'}, "charge_id must look like"),
        ({"response": '{"id": "' + "chg_" + "a" * 100 + '"}'}, "charge_id must look like"),
        ({"response": json.dumps({"id": "chg_" + "a" * 16, "pad": "x" * 70000})}, "larger than"),
        ({"response": "[" * 20_000 + "]" * 20_000}, "not valid JSON"),
        ({"response": '{"id": "chg_a\\u0000"}'}, "charge_id must look like"),
        ({"response": '{"id": "chg_\\ud800"}'}, "charge_id must look like"),
    ],
)
def test_redirect_route_rejects_malformed_bodies(client, paid, body, message):
    token_id, _ = paid
    answer = client.post(return_url(token_id), body)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not Charge.objects.exists()


def test_redirect_route_rejects_unknown_and_malformed_tokens(client, paid):
    _, charge = paid
    body = {"response": json.dumps(charge)}
    assert client.post(return_url("txn_" + "0" * 32), body).status_code == 400
    assert client.post(return_url("nonsense"), body).status_code == 400
    assert client.post(reverse("accepton:return"), body).status_code == 400
    assert not Charge.objects.exists()


def test_redirect_route_only_accepts_post(client):
    assert client.get(reverse("accepton:return")).status_code == 405


def test_redirect_route_needs_no_csrf_token(paid):
    token_id, charge = paid
    answer = Client(enforce_csrf_checks=True).post(
        return_url(token_id), {"response": json.dumps(charge)}
    )
    assert answer.status_code == 302


@pytest.mark.parametrize(
    "payload",
    [
        "{}",
        "[]",
        '"chg_x"',
        "{not json",
        '{"charge_id": 5, "token": "txn_a"}',
        '{"charge_id": "chg_aaaa", "token": null}',
        '{"charge_id": "chg_aaaa", "token": "tok_1234"}',
        '{"charge_id": ["chg_aaaa"], "token": "txn_abcd"}',
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        '{"charge_id": "chg_a\\u0000", "token": "txn_abcd"}',
    ],
)
def test_json_route_rejects_malformed_bodies(client, paid, payload):
    answer = client.post(reverse("accepton:verify"), payload, content_type="application/json")
    assert answer.status_code == 400
    assert not Charge.objects.exists()


@pytest.mark.parametrize("charset", ["rot13", "base64_codec", "utf-32"])
def test_json_route_rejects_a_charset_it_cannot_read_the_body_in(client, paid, charset):
    _, charge = paid
    body = json.dumps({"charge_id": charge["id"], "token": paid[0]}).encode()

    # generic(): post() would encode the body in the charset itself. UTF-8 labelled utf-32.
    answer = client.generic(
        "POST", reverse("accepton:verify"), body, f"application/json; charset={charset}"
    )

    assert answer.status_code == 400
    assert not Charge.objects.exists()


def test_json_route_rejects_unknown_token(client, paid):
    _, charge = paid
    answer = client.post(
        reverse("accepton:verify"),
        {"charge_id": charge["id"], "token": "txn_" + "0" * 32},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == "unknown_token"
    assert not Charge.objects.exists()


def test_json_route_refuses_posts_without_csrf_token(paid):
    token_id, charge = paid
    strict = Client(enforce_csrf_checks=True)
    answer = strict.post(
        reverse("accepton:verify"),
        {"charge_id": charge["id"], "token": token_id},
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]
    assert not Charge.objects.exists()


def test_json_route_accepts_posts_with_csrf_token(paid):
    token_id, charge = paid
    strict = Client(enforce_csrf_checks=True)
    strict.get(reverse("accepton:success"))  # any page; the token comes from the cookie below
    from django.middleware.csrf import _get_new_csrf_string

    csrf = _get_new_csrf_string()
    strict.cookies["csrftoken"] = csrf
    answer = strict.post(
        reverse("accepton:verify"),
        {"charge_id": charge["id"], "token": token_id},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert answer.status_code == 200
    assert answer.json()["paid"] is True


def test_json_route_rejects_huge_bodies(client, paid, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    token_id, charge = paid
    payload = json.dumps({"charge_id": charge["id"], "token": token_id, "pad": "x" * 20_000})
    answer = client.post(reverse("accepton:verify"), payload, content_type="application/json")
    assert answer.status_code == 400
    assert not Charge.objects.exists()
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None


def test_openapi_schema_documents_the_json_route():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    operation = schema["paths"]["/accepton/api/charges/verify/"]["post"]
    assert operation["operationId"] == "accepton_verify_charge"
    assert set(operation["responses"]) >= {"200", "202", "400", "403", "409", "422"}


@pytest.mark.parametrize("page", ["accepton:success", "accepton:failure", "accepton:pending"])
def test_outcome_pages_ignore_ids_that_are_not_ids(client, paid, page):
    token_id, charge = paid
    # PostgreSQL refuses a NUL byte in any query: looked up, it was a 500.
    for query in (f"token={token_id}%00&charge={charge['id']}", "token=txn_a&charge=chg_%00"):
        assert client.get(f"{reverse(page)}?{query}").status_code == 200


def test_an_id_with_a_trailing_newline_is_not_an_id(client, paid):
    token_id, charge = paid
    # "$" matches before a final newline: such an id would be a second claim key for the charge.
    answer = client.post(
        return_url(token_id), {"response": json.dumps({"id": charge["id"] + "\n"})}
    )
    assert answer.status_code == 400
    assert (
        client.post(return_url(token_id + "%0A"), {"response": json.dumps(charge)}).status_code
        == 400
    )
    assert not Charge.objects.exists()


def test_made_up_charge_ids_stop_costing_api_calls_at_once_but_no_payment_is_lost(accepton, client):
    token_id = token_in(render_form({"amount": 1000, "currency": "usd", "description": "Guess"}))
    url = f"{reverse('accepton:return')}?token={token_id}"
    for number in range(12):
        made_up = json.dumps({"id": f"chg_{number:016x}"})
        assert client.post(url, {"response": made_up}).status_code == 302
    assert accepton.state.request_count("GET", "/v1/charges/") == 10

    # A real payment from the same address now waits, recorded, instead of being refused.
    paid = pay(accepton, token_id).json()
    answer = client.post(url, {"response": json.dumps(paid)})

    assert reverse("accepton:pending") in answer["Location"]
    assert accepton.state.request_count("GET", "/v1/charges/") == 10
    assert Charge.objects.get(pk=paid["id"]).verification == "pending"
    (result,) = [r for r in reverify_pending_charges(older_than=0) if r.charge_id == paid["id"]]
    assert result.ok
    # The made-up ones the reconciliation found unknown are gone.
    assert list(Charge.objects.values_list("pk", flat=True)) == [paid["id"]]
