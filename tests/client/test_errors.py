"""HTTP answers become the exceptions of docs/api-calls.md, with readable text."""

from __future__ import annotations

import json

import pytest
import responses

from django_accepton.client import (
    AcceptOn,
    AcceptOnError,
    APIConnectionError,
    APIError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
)
from django_accepton.client.errors import error_for_response

from . import payloads
from .payloads import BASE_URL, error


def test_str_names_status_type_call_and_message() -> None:
    exc = InvalidRequestError(
        "The amount is not a postive integer.",
        http_status=400,
        error_type="invalid_amount",
        request_method="POST",
        request_path="/v1/refunds",
    )
    assert (
        str(exc) == "400 invalid_amount on POST /v1/refunds: The amount is not a postive integer."
    )
    assert exc.message == "The amount is not a postive integer."


def test_str_without_status_or_type() -> None:
    exc = APIConnectionError(
        "Could not connect", request_sent=False, request_method="GET", request_path="/ping"
    )
    assert str(exc) == "GET /ping: Could not connect"
    assert str(AcceptOnError("bare")) == "bare"
    assert "request_sent=False" in repr(exc)


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (400, "invalid_amount", InvalidRequestError),
        (400, "invalid_name", InvalidRequestError),
        (400, "unable_to_cancel_subscription", InvalidRequestError),
        (400, "invalid_charge_id", NotFoundError),
        (400, "invalid_plan_id", NotFoundError),
        (400, "invalid_token", NotFoundError),
        (401, "unable_to_cancel_subscription", AuthenticationError),
        (401, "unauthorized", AuthenticationError),
        (404, "invalid_token", NotFoundError),
        (404, "not_found", NotFoundError),
        (500, "server_error", APIError),
        (502, "bad_gateway", APIError),
        (503, "maintenance", ServiceUnavailableError),
        (504, "gateway_timeout", APIError),
        (403, "forbidden", APIError),
        (409, "conflict", APIError),
        (422, "unprocessable", APIError),
        (302, "moved", APIError),
    ],
)
def test_status_mapping(status: int, error_type: str, expected: type[AcceptOnError]) -> None:
    exc = error_for_response(status, json.dumps(payloads.error(error_type, "m")))
    assert type(exc) is expected
    assert exc.http_status == status
    assert exc.error_type == error_type
    assert exc.message == "m"


def test_hierarchy() -> None:
    assert issubclass(NotFoundError, InvalidRequestError)
    assert issubclass(ServiceUnavailableError, APIError)
    for cls in (AuthenticationError, InvalidRequestError, APIError, APIConnectionError):
        assert issubclass(cls, AcceptOnError)
    assert not issubclass(APIConnectionError, APIError)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body>Bad Gateway</body></html>", "HTTP 502 Bad Gateway"),
        ("", "HTTP 502 Bad Gateway"),
        ('["not", "an", "object"]', "HTTP 502 Bad Gateway"),
        ('{"error": "upstream down"}', "upstream down"),
        ('{"message": "upstream down"}', "upstream down"),
        ('{"error": {"type": "bad_gateway"}}', "HTTP 502 Bad Gateway"),
        ("[" * 20_000 + "]" * 20_000, "HTTP 502 Bad Gateway"),
        ('{"error": ' * 20_000 + "1" + "}" * 20_000, "HTTP 502 Bad Gateway"),
    ],
)
def test_bodies_that_are_not_the_error_envelope(body: str, message: str) -> None:
    exc = error_for_response(502, body, reason="Bad Gateway")
    assert type(exc) is APIError
    assert exc.message == message
    assert exc.http_body == body


def test_non_json_404_is_still_not_found() -> None:
    exc = error_for_response(404, "Not Found", reason="Not Found")
    assert type(exc) is NotFoundError
    assert exc.error_type is None
    assert str(exc) == "404: HTTP 404 Not Found"


def test_client_raises_with_call_context(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.post(
        f"{BASE_URL}/v1/refunds",
        status=400,
        json=error("invalid_amount", "The amount is not a postive integer."),
    )
    with pytest.raises(InvalidRequestError) as info:
        client.refunds.create("chg_ff6024ab78980de7", 5000)
    assert type(info.value) is InvalidRequestError
    assert info.value.request_method == "POST"
    assert info.value.request_path == "/v1/refunds"
    assert str(info.value) == (
        "400 invalid_amount on POST /v1/refunds: The amount is not a postive integer."
    )


def test_unknown_charge_is_not_found(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{BASE_URL}/v1/charges/chg_nope",
        status=400,
        json=error("invalid_charge_id", "There is no charge with that ID."),
    )
    with pytest.raises(NotFoundError) as info:
        client.charges.retrieve("chg_nope")
    assert info.value.http_status == 400
    assert info.value.error_type == "invalid_charge_id"
    assert info.value.request_path == "/v1/charges/chg_nope"


def test_unknown_token_is_not_found(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{BASE_URL}/v1/tokens/txn_nope",
        status=404,
        json=error("invalid_token", "The transaction token is invalid."),
    )
    with pytest.raises(NotFoundError, match=r"^404 invalid_token on GET /v1/tokens/txn_nope: "):
        client.tokens.retrieve("txn_nope")


def test_bad_key(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/ping", status=401, body="Unauthorized")
    with pytest.raises(AuthenticationError) as info:
        client.ping()
    assert info.value.http_status == 401
    assert info.value.http_body == "Unauthorized"


@pytest.mark.parametrize("body", ["not json", "", "{truncated"])
def test_malformed_json_in_a_2xx_is_an_api_error(
    client: AcceptOn, mocked: responses.RequestsMock, body: str
) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", status=201, body=body)
    with pytest.raises(APIError) as info:
        client.tokens.create(1000, "usd")
    assert type(info.value) is APIError
    assert info.value.http_status == 201
    assert info.value.request_method == "POST"
    assert "not JSON" in info.value.message


def test_2xx_json_of_the_wrong_shape_is_an_api_error(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE_URL}/v1/charges/chg_1", json={"id": "chg_1", "amount": 10.5})
    with pytest.raises(APIError, match="not a whole number") as info:
        client.charges.retrieve("chg_1")
    assert info.value.http_status == 200
    assert info.value.request_path == "/v1/charges/chg_1"


def test_redirects_are_errors_not_followed(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        f"{BASE_URL}/v1/refunds",
        status=301,
        headers={"Location": f"{BASE_URL}/elsewhere"},
    )
    with pytest.raises(APIError) as info:
        client.refunds.create("chg_1", 100)
    assert info.value.http_status == 301
    assert len(mocked.calls) == 1
