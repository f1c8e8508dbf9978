"""The server: threads, keep-alive, start/stop, the embedded singleton, and the command line."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from django_accepton.sandbox import SandboxApp, SandboxServer, SandboxState, embedded_sandbox

from . import TIMEOUT, Api

ROOT = Path(__file__).resolve().parents[2]


def test_concurrent_payments_from_many_threads(accepton_sandbox):
    def buy(n: int) -> int:
        api = Api(accepton_sandbox)
        token = api.token(100 + n)
        return api.pay(token["id"]).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(buy, range(80)))

    assert statuses == [201] * 80
    assert Api(accepton_sandbox).get("/v1/charges").json()["total"] == 80
    assert accepton_sandbox.state.request_count(method="POST", path_prefix="/v1/charges") == 80


def test_concurrent_refunds_never_exceed_the_charge(accepton_sandbox):
    charge = Api(accepton_sandbox).charge(2000)
    barrier = threading.Barrier(10)

    def refund(_: int) -> int:
        api = Api(accepton_sandbox)
        barrier.wait(timeout=TIMEOUT)
        statuses = []
        for _attempt in range(5):
            answer = api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 100})
            statuses.append(answer.status_code)
        return statuses.count(201)

    with ThreadPoolExecutor(max_workers=10) as pool:
        succeeded = sum(pool.map(refund, range(10)))

    assert succeeded == 20
    assert Api(accepton_sandbox).get(f"/v1/charges/{charge['id']}").json()["refunded"] is True
    assert Counter(r.status for r in accepton_sandbox.state.request_log)[400] == 30


def test_connection_is_kept_alive(accepton_sandbox):
    host, port = accepton_sandbox.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    headers = {"Authorization": f"Bearer {accepton_sandbox.secret_key}"}
    try:
        connection.request(
            "POST",
            "/v1/tokens",
            body="amount=100",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        connection.request("GET", "/ping", headers=headers)
        second = connection.getresponse()
        body = second.read()
    finally:
        connection.close()

    assert first.status == 201
    assert first.version == 11
    assert not first.will_close
    assert sock is not None
    assert connection.sock is None or connection.sock is sock
    assert second.status == 200
    assert body == b'{"object": "ping", "ok": true}'


def test_unread_body_never_desynchronises_a_kept_alive_connection(accepton_sandbox):
    # A 404 route never parses its body; the next request on the socket must still be understood.
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {accepton_sandbox.secret_key}"
    url = accepton_sandbox.url

    lost = session.post(url + "/v1/unknown", data="x" * 5000, timeout=TIMEOUT)
    ping = session.get(url + "/ping", timeout=TIMEOUT)

    assert (lost.status_code, ping.status_code) == (404, 200)


def test_http_1_0_client_gets_an_answer_and_a_close(accepton_sandbox):
    host, port = accepton_sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        key = accepton_sandbox.secret_key
        sock.sendall(f"GET /ping HTTP/1.0\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    raw = b"".join(chunks)

    assert raw.startswith(b"HTTP/1.1 200 OK")
    assert b"Connection: close" in raw
    assert raw.endswith(b'{"object": "ping", "ok": true}')


def test_server_start_stop_and_context_manager():
    server = SandboxServer(port=0)
    assert not server.running
    with pytest.raises(RuntimeError):
        _ = server.url

    with server as running:
        assert running is server
        assert server.start() is server
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/ping", params={"access_token": server.secret_key}, timeout=5).ok

    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/ping", timeout=2)
    server.stop()


def test_stop_closes_kept_alive_connections():
    server = SandboxServer().start()
    url = server.url
    session = requests.Session()
    assert session.get(url + "/ping", params={"access_token": server.secret_key}).ok
    started = time.monotonic()

    server.stop()

    assert time.monotonic() - started < 3
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/ping", timeout=2)


def test_server_on_a_given_state_serves_that_state():
    state = SandboxState(public_key="pkey_mine", secret_key="skey_mine")
    state.create_plan("Mine", 100, "usd", "month")

    with SandboxServer(state) as server:
        answer = Api(server).get("/v1/recurring/plans")

    assert server.secret_key == "skey_mine"
    assert answer.json()["data"][0]["name"] == "Mine"


def test_keys_for_both_state_and_server_are_refused():
    with pytest.raises(ValueError, match="not both"):
        SandboxServer(SandboxState(), secret_key="skey_other")


def test_embedded_sandbox_is_one_server_per_process():
    with ThreadPoolExecutor(max_workers=8) as pool:
        servers = list(pool.map(lambda _: embedded_sandbox(), range(8)))

    assert len({id(server) for server in servers}) == 1
    server = servers[0]
    assert server.running
    assert Api(server).get("/ping").status_code == 200


def test_app_without_the_server_answers_drop_connection_with_a_500():
    state = SandboxState()
    app = SandboxApp(state)
    state.add_fault({"drop_connection": True})
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/ping",
        "QUERY_STRING": f"access_token={state.secret_key}",
    }

    response = app.handle(environ)

    assert response.status == 500


def test_sandbox_imports_neither_django_nor_the_client():
    code = (
        "import sys, django_accepton.sandbox, django_accepton.sandbox.pytest_plugin\n"
        "loaded = [m for m in sys.modules if m == 'django' or m.startswith('django.')\n"
        "          or m.startswith('django_accepton.client')]\n"
        "print(loaded)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_command_line_serves_until_terminated():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_accepton.sandbox",
            "--port",
            "0",
            "--public-key",
            "pkey_cli",
            "--secret-key",
            "skey_cli",
            "--seed",
            "plans=3",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # If the sandbox never prints its banner, kill it so that readline() returns.
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        lines = []
        while not any("Ctrl-C" in line for line in lines):
            line = process.stdout.readline()
            assert line, (
                f"the sandbox exited early: {process.stderr.read() if process.stderr else ''}"
            )
            lines.append(line)
        url = lines[0].split()[-1]

        ping = requests.get(url + "/ping", headers={"Authorization": "Bearer skey_cli"}, timeout=5)
        plans = requests.get(
            url + "/v1/recurring/plans", params={"access_token": "skey_cli"}, timeout=5
        )

        assert url.startswith("http://127.0.0.1:")
        assert ping.json() == {"object": "ping", "ok": True}
        assert plans.json()["total"] == 3
        output = "".join(lines)
        assert output.count("skey_cli") == 1
        assert "pkey_cli" in output
        assert "4242424242424242" in output
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_command_line_refuses_a_bad_seed():
    result = subprocess.run(
        [sys.executable, "-m", "django_accepton.sandbox", "--seed", "refunds=3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "RESOURCE=N" in result.stderr


def test_head_request_has_no_body_and_keeps_the_connection_usable(accepton_sandbox):
    session = requests.Session()
    url = accepton_sandbox.url

    head = session.head(url + "/index.html", timeout=TIMEOUT)
    ping = session.get(url + "/ping", params={"access_token": accepton_sandbox.secret_key})

    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["Content-Length"]) > 0
    assert ping.json() == {"object": "ping", "ok": True}
