"""The secret key appears in no exception text, repr, traceback or log record."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest
import requests
import responses
import urllib3.exceptions

from django_accepton.client import AcceptOn, AcceptOnError, APIConnectionError, APIError
from django_accepton.client.secret import mask_key

from . import payloads
from .payloads import BASE_URL, SECRET_KEY

# Long enough that any fragment of the key shorter than the masked tail is still caught.
KEY_FRAGMENTS = [SECRET_KEY, SECRET_KEY[5:], SECRET_KEY[5:20]]


def assert_no_key(text: str) -> None:
    for fragment in KEY_FRAGMENTS:
        assert fragment not in text


def everything_said_about(exc: BaseException) -> str:
    return "\n".join(
        [
            str(exc),
            repr(exc),
            "".join(traceback.format_exception(exc)),
            str(getattr(exc, "http_body", "")),
        ]
    )


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3 included
    return caplog


def assert_log_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "expected the client to log"
    for record in caplog.records:
        assert_no_key(record.getMessage())
        assert_no_key(repr(record.args))
        assert_no_key(repr(record.__dict__))


def test_repr_masks_the_key() -> None:
    client = AcceptOn(SECRET_KEY, environment="staging")
    assert repr(client) == (
        "AcceptOn(environment='staging', base_url='https://staging-checkout.accepton.com', "
        "secret_key='skey_…only')"
    )
    assert_no_key(repr(client))
    assert_no_key(repr(client.transport))
    assert_no_key(repr(client.tokens.__dict__))


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("skey_" + "testonly" * 4, "skey_…only"),
        ("skey_short", "skey_…"),
        ("abcdefghijklmnopqrstuvwxyz", "…wxyz"),
        ("tiny", "…"),
    ],
)
def test_mask_key(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_api_error_with_echoed_key(
    client: AcceptOn, mocked: responses.RequestsMock, debug_log: pytest.LogCaptureFixture
) -> None:
    mocked.post(
        f"{BASE_URL}/v1/refunds",
        status=401,
        json=payloads.error("unauthorized", f"No account has the key {SECRET_KEY}"),
    )
    with pytest.raises(AcceptOnError) as info:
        client.refunds.create("chg_1", 100)
    assert info.value.message == "No account has the key skey_[redacted]"
    assert_no_key(everything_said_about(info.value))
    assert_log_clean(debug_log)


def test_bad_json_with_echoed_key(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/charges/chg_1", body=f"<html>{SECRET_KEY}</html>")
    with pytest.raises(APIError) as info:
        client.charges.retrieve("chg_1")
    assert_no_key(everything_said_about(info.value))


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectionError(
            urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
        ),
        requests.exceptions.ReadTimeout("read timed out"),
        # A transport error whose own text quotes the header must not pass it on.
        requests.exceptions.InvalidHeader(f"Invalid header value b'Bearer {SECRET_KEY}'"),
    ],
)
def test_connection_errors(
    client: AcceptOn,
    mocked: responses.RequestsMock,
    debug_log: pytest.LogCaptureFixture,
    failure: Exception,
) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", body=failure)  # answers every attempt
    with pytest.raises(APIConnectionError) as info:
        client.tokens.create(1000, "usd")
    assert_no_key(str(info.value))
    assert_no_key(repr(info.value))
    assert_no_key(info.value.message)
    assert_log_clean(debug_log)


def test_real_connection_error_traceback(debug_log: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AcceptOn(
        SECRET_KEY,
        environment="sandbox",
        base_url=f"http://127.0.0.1:{port}",
        max_retries=1,
        sleep=lambda _: None,
    )
    with pytest.raises(APIConnectionError) as info:
        client.charges.retrieve("chg_1")
    assert_no_key(everything_said_about(info.value))
    assert_log_clean(debug_log)


def test_successful_calls_log_without_the_key(
    client: AcceptOn, mocked: responses.RequestsMock, debug_log: pytest.LogCaptureFixture
) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", status=201, json=payloads.TOKEN)
    client.tokens.create(1000, "usd")
    assert_log_clean(debug_log)
    assert any("POST /v1/tokens -> 201" in r.getMessage() for r in debug_log.records)
