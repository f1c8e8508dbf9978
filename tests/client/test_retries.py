"""Timeouts, and retries only where a retry cannot charge or refund twice."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
import responses
import urllib3.exceptions

from django_accepton.client import (
    AcceptOn,
    APIConnectionError,
    APIError,
    InvalidRequestError,
    ServiceUnavailableError,
)

from . import payloads
from .payloads import BASE_URL, SECRET_KEY


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens on the port (through urllib3's MaxRetryError)."""
    reason = urllib3.exceptions.NewConnectionError(
        None,  # type: ignore[arg-type]
        "Failed to establish a new connection: [Errno 111] Connection refused",
    )
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/v1/refunds", reason)  # type: ignore[arg-type]
    )


def reset() -> requests.exceptions.ConnectionError:
    """The connection dropped after the request went out."""
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
        )
    )


def test_get_is_retried_on_503_then_succeeds(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    url = f"{BASE_URL}/v1/charges/chg_1"
    mocked.get(url, status=503, json=payloads.error("maintenance", "Back soon"))
    mocked.get(url, json=payloads.CHARGE)
    assert client.charges.retrieve("chg_1").amount == 1000
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1
    assert 0.25 <= sleeps[0] <= 0.5


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_gives_up_after_max_retries(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float], status: int
) -> None:
    for _ in range(3):
        mocked.get(f"{BASE_URL}/v1/charges", status=status, body="busy")
    with pytest.raises(APIError) as info:
        client.charges.list()
    assert info.value.http_status == status
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2
    # Exponential: the second wait is drawn from a range twice as high as the first.
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_backoff_grows_and_is_capped(client: AcceptOn) -> None:
    transport = client.transport
    ranges = {1: (0.25, 0.5), 2: (0.5, 1.0), 3: (1.0, 2.0), 9: (4.0, 8.0)}
    for attempt, (low, high) in ranges.items():
        delays = {transport.backoff(attempt) for _ in range(50)}
        assert all(low <= delay <= high for delay in delays)
        assert len(delays) > 1  # jittered


@pytest.mark.parametrize(
    "failure",
    [
        reset(),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        refused(),
    ],
)
def test_get_is_retried_on_connection_failures(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float], failure: Exception
) -> None:
    mocked.get(f"{BASE_URL}/v1/tokens/txn_1", body=failure)
    mocked.get(f"{BASE_URL}/v1/tokens/txn_1", json=payloads.TOKEN)
    assert client.tokens.retrieve("txn_1").amount == 1000
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_get_is_not_retried_on_other_statuses(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float], status: int
) -> None:
    mocked.get(f"{BASE_URL}/v1/charges/chg_1", status=status, json=payloads.error("x", "y"))
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is checked below
        client.charges.retrieve("chg_1")
    assert getattr(info.value, "http_status", None) == status
    assert len(mocked.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_is_not_retried_on_server_errors(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float], status: int
) -> None:
    mocked.post(f"{BASE_URL}/v1/refunds", status=status, json=payloads.error("server", "Oops"))
    with pytest.raises(APIError) as info:
        client.refunds.create("chg_1", 500)
    assert info.value.http_status == status
    assert len(mocked.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize("failure", [requests.exceptions.ReadTimeout("read timed out"), reset()])
def test_post_is_not_retried_once_it_may_have_been_sent(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float], failure: Exception
) -> None:
    mocked.post(f"{BASE_URL}/v1/refunds", body=failure)
    with pytest.raises(APIConnectionError) as info:
        client.refunds.create("chg_1", 500)
    assert info.value.request_sent is True
    assert info.value.request_method == "POST"
    assert info.value.request_path == "/v1/refunds"
    assert "may have been processed" in info.value.message
    assert len(mocked.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        refused(),
        # The shape named in the contract discussion: the cause given directly.
        requests.exceptions.ConnectionError(
            urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
        ),
        requests.exceptions.ConnectTimeout("connect timed out"),
    ],
)
def test_post_is_retried_when_nothing_was_sent(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float], failure: Exception
) -> None:
    mocked.post(f"{BASE_URL}/v1/refunds", body=failure)
    mocked.post(f"{BASE_URL}/v1/refunds", status=201, json=payloads.REFUND)
    assert client.refunds.create("chg_1", 1000).id == "ref_123"
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1


def test_post_that_never_connects_says_it_was_not_sent(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    for _ in range(3):
        mocked.post(f"{BASE_URL}/v1/tokens", body=refused())
    with pytest.raises(APIConnectionError) as info:
        client.tokens.create(1000, "usd")
    assert info.value.request_sent is False
    assert info.value.http_status is None
    assert info.value.message.startswith("Could not connect to AcceptOn")
    assert len(mocked.calls) == 3
    assert len(sleeps) == 2


def test_token_creation_is_retried_on_503(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    # A second token for one price is harmless: it is simply never paid.
    mocked.post(f"{BASE_URL}/v1/tokens", status=503, json=payloads.error("maintenance", "Soon"))
    mocked.post(f"{BASE_URL}/v1/tokens", status=201, json=payloads.TOKEN)
    assert client.tokens.create(1000, "usd").id == payloads.TOKEN["id"]
    assert len(mocked.calls) == 2
    assert len(sleeps) == 1


def test_token_creation_is_retried_after_a_read_timeout(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", body=requests.exceptions.ReadTimeout("slow"))
    mocked.post(f"{BASE_URL}/v1/tokens", status=201, json=payloads.TOKEN)
    assert client.tokens.create(1000, "usd").id == payloads.TOKEN["id"]
    assert len(mocked.calls) == 2


def test_a_refund_answered_503_is_never_sent_again(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    # Nothing documented says a 503 came before the refund was processed.
    mocked.post(f"{BASE_URL}/v1/refunds", status=503, json=payloads.error("maint", "Soon"))
    with pytest.raises(ServiceUnavailableError):
        client.refunds.create("chg_1", 500)
    assert len(mocked.calls) == 1
    assert sleeps == []


def test_post_gives_up_on_503_after_max_retries(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    for _ in range(3):
        mocked.post(f"{BASE_URL}/v1/tokens", status=503, json=payloads.error("maint", "Soon"))
    with pytest.raises(ServiceUnavailableError):
        client.tokens.create(1000, "usd")
    assert len(mocked.calls) == 3


def test_put_and_delete_follow_the_post_rules(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    mocked.put(f"{BASE_URL}/v1/promo_codes/A", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(APIConnectionError):
        client.promo_codes.update("A", "B", "amount", 100)
    mocked.delete(f"{BASE_URL}/v1/promo_codes/A", status=500)
    with pytest.raises(APIError):
        client.promo_codes.delete("A")
    mocked.delete(f"{BASE_URL}/v1/promo_codes/B", status=503)
    with pytest.raises(ServiceUnavailableError):
        client.promo_codes.delete("B")
    mocked.delete(f"{BASE_URL}/v1/promo_codes/C", body=refused())
    mocked.delete(f"{BASE_URL}/v1/promo_codes/C", json=payloads.PROMO_CODE)
    client.promo_codes.delete("C")
    methods = [call.request.method for call in mocked.calls]
    assert methods == ["PUT", "DELETE", "DELETE", "DELETE", "DELETE"]
    assert len(sleeps) == 1


def test_max_retries_zero(mocked: responses.RequestsMock) -> None:
    sleeps: list[float] = []
    client = AcceptOn(
        SECRET_KEY, environment="sandbox", base_url=BASE_URL, max_retries=0, sleep=sleeps.append
    )
    mocked.get(f"{BASE_URL}/ping", status=503)
    with pytest.raises(ServiceUnavailableError):
        client.ping()
    assert len(mocked.calls) == 1
    assert sleeps == []


def test_max_retries_five(mocked: responses.RequestsMock) -> None:
    sleeps: list[float] = []
    client = AcceptOn(
        SECRET_KEY, environment="sandbox", base_url=BASE_URL, max_retries=5, sleep=sleeps.append
    )
    for _ in range(5):
        mocked.get(f"{BASE_URL}/ping", status=502)
    mocked.get(f"{BASE_URL}/ping")
    assert client.ping() is True
    assert len(mocked.calls) == 6
    assert len(sleeps) == 5


def test_invalid_request_is_never_retried(
    client: AcceptOn, mocked: responses.RequestsMock, sleeps: list[float]
) -> None:
    mocked.post(f"{BASE_URL}/v1/tokens", status=400, json=payloads.error("invalid_amount", "No"))
    with pytest.raises(InvalidRequestError):
        client.tokens.create(1000, "usd")
    assert len(mocked.calls) == 1


def test_default_timeout_is_passed_to_requests(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE_URL}/ping")
    client.ping()
    assert mocked.calls[0].request.req_kwargs["timeout"] == (5, 30)
    assert client.timeout == (5, 30)


@pytest.mark.parametrize("timeout", [(1.5, 60), 12])
def test_timeout_is_settable(
    mocked: responses.RequestsMock, timeout: float | tuple[float, float]
) -> None:
    client = AcceptOn(SECRET_KEY, environment="sandbox", base_url=BASE_URL, timeout=timeout)
    mocked.post(f"{BASE_URL}/v1/refunds", status=201, json=payloads.REFUND)
    client.refunds.create("chg_1", 100)
    assert mocked.calls[0].request.req_kwargs["timeout"] == timeout


def test_each_attempt_is_logged_at_debug(
    client: AcceptOn, mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(f"{BASE_URL}/v1/charges/chg_1", status=503)
    mocked.get(f"{BASE_URL}/v1/charges/chg_1", json=payloads.CHARGE)
    with caplog.at_level(logging.DEBUG, logger="django_accepton.client"):
        client.charges.retrieve("chg_1")
    records = [r for r in caplog.records if r.name == "django_accepton.client"]
    assert [r.levelno for r in records] == [logging.DEBUG, logging.DEBUG]
    first, second = (r.getMessage() for r in records)
    assert first.startswith("AcceptOn GET /v1/charges/chg_1 -> 503 in ")
    assert first.endswith(" ms (attempt 1 of 3)")
    assert second.startswith("AcceptOn GET /v1/charges/chg_1 -> 200 in ")
    assert second.endswith(" ms (attempt 2 of 3)")


# The same rules against real sockets, so that the detection of "nothing was sent" is checked
# against the exceptions requests and urllib3 actually raise.


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[bytes]]]:
    """Accepts connections, reads the request, never answers."""
    received: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            conn.settimeout(1)
            try:
                received.append(conn.recv(65536))
            except OSError:
                received.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_real_refused_connection_is_retried_for_post(closed_port: int) -> None:
    sleeps: list[float] = []
    client = AcceptOn(
        SECRET_KEY,
        environment="sandbox",
        base_url=f"http://127.0.0.1:{closed_port}",
        sleep=sleeps.append,
    )
    with pytest.raises(APIConnectionError) as info:
        client.refunds.create("chg_1", 100)
    assert info.value.request_sent is False
    assert len(sleeps) == 2
    # Unchained: the frames of requests and urllib3 hold the headers, key included.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_real_read_timeout_is_not_retried_for_post(
    silent_server: tuple[int, list[bytes]],
) -> None:
    port, received = silent_server
    sleeps: list[float] = []
    client = AcceptOn(
        SECRET_KEY,
        environment="sandbox",
        base_url=f"http://127.0.0.1:{port}",
        timeout=(2, 0.3),
        sleep=sleeps.append,
    )
    with pytest.raises(APIConnectionError) as info:
        client.refunds.create("chg_1", 100)
    assert info.value.request_sent is True
    assert "Timed out waiting" in info.value.message
    assert sleeps == []
    assert len(received) == 1
    assert received[0].startswith(b"POST /v1/refunds HTTP/1.1")


def test_real_read_timeout_is_retried_for_get(silent_server: tuple[int, list[bytes]]) -> None:
    port, received = silent_server
    sleeps: list[float] = []
    client = AcceptOn(
        SECRET_KEY,
        environment="sandbox",
        base_url=f"http://127.0.0.1:{port}",
        timeout=(2, 0.2),
        max_retries=1,
        sleep=sleeps.append,
    )
    with pytest.raises(APIConnectionError) as info:
        client.charges.retrieve("chg_1")
    assert info.value.request_sent is True
    assert len(sleeps) == 1
    assert len(received) == 2
