"""Test controls: injected faults, charge overrides, reset, and the pytest fixture itself."""

from __future__ import annotations

import json
import time

import pytest
import requests

from . import TIMEOUT, Api, error_of


def test_503_fault_answers_before_any_state_change(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(1000)
    api.control("faults", {"status": 503, "count": 1, "path_prefix": "/v1/refunds"})

    failed = api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 400})
    retried = api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 400})

    assert error_of(failed) == (503, "service_unavailable")
    assert failed.headers["Content-Type"] == "application/json"
    assert retried.status_code == 201
    assert [r["amount"] for r in accepton_sandbox.state.refunds_for_charge(charge["id"])] == [400]


def test_fault_count_and_matching(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control(
        "faults", {"status": 500, "count": 2, "path_prefix": "/v1/charges", "method": "GET"}
    )

    token = api.post("/v1/tokens", {"amount": 100})
    first = api.get("/v1/charges")
    other_method = api.pay(token.json()["id"])
    second = api.get("/v1/charges/chg_0000000000000000")
    third = api.get("/v1/charges")

    assert token.status_code == 201
    assert error_of(first) == (500, "internal_server_error")
    assert other_method.status_code == 201
    assert error_of(second) == (500, "internal_server_error")
    assert third.status_code == 200
    assert api.control("faults", method="GET").json() == {"pending": []}


@pytest.mark.parametrize(("status", "error_type"), [(502, "bad_gateway"), (504, "gateway_timeout")])
def test_gateway_faults(accepton_sandbox, status, error_type):
    api = Api(accepton_sandbox)
    api.control("faults", {"status": status})

    assert error_of(api.get("/ping")) == (status, error_type)
    assert api.get("/ping").status_code == 200


def test_fault_with_custom_error(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("faults", {"status": 400, "error_type": "weird", "message": "Odd."})

    answer = api.get("/ping")

    assert answer.json() == {"error": {"type": "weird", "message": "Odd."}}


def test_fault_applies_even_to_a_request_with_a_bad_key(accepton_sandbox):
    api = Api(accepton_sandbox, key="skey_wrong")
    api.control("faults", {"status": 503})

    assert api.get("/ping").status_code == 503
    assert api.get("/ping").status_code == 401


def test_delay_fault_slows_the_answer_then_processes(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("faults", {"delay": 0.4, "path_prefix": "/v1/tokens"})

    started = time.monotonic()
    answer = api.post("/v1/tokens", {"amount": 100})
    elapsed = time.monotonic() - started

    assert answer.status_code == 201
    assert elapsed >= 0.4
    started = time.monotonic()
    api.post("/v1/tokens", {"amount": 100})
    assert time.monotonic() - started < 0.4


def test_client_that_times_out_on_a_delay_still_changed_state(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(1000)
    api.control("faults", {"delay": 0.5, "path_prefix": "/v1/refunds"})

    with pytest.raises(requests.ReadTimeout):
        # The API's session (its key), with a read timeout shorter than the delay.
        api.session.post(
            f"{api.url}/v1/refunds",
            data={"charge_id": charge["id"], "amount": 100},
            timeout=(TIMEOUT, 0.1),
        )

    deadline = time.monotonic() + 5
    while not accepton_sandbox.state.refunds_for_charge(charge["id"]):
        assert time.monotonic() < deadline, "the delayed refund never happened"
        time.sleep(0.05)


def test_a_request_a_delay_outlasts_a_reset_leaves_the_new_state_alone(accepton_sandbox):
    """A request still waiting out a delay when the state is reset (the next test started)
    neither changes the new state nor shows in its request log."""
    api = Api(accepton_sandbox)
    charge = api.charge(1000)
    api.control("faults", {"delay": 0.5, "path_prefix": "/v1/charges/"})

    with pytest.raises(requests.ReadTimeout):
        api.session.get(f"{api.url}/v1/charges/{charge['id']}", timeout=(TIMEOUT, 0.1))
    accepton_sandbox.state.reset()
    time.sleep(0.8)  # the delayed request wakes up and finishes meanwhile

    assert accepton_sandbox.state.request_log == []


def test_delay_and_status_combine(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("faults", {"delay": 0.2, "status": 503})

    started = time.monotonic()
    answer = api.get("/ping")

    assert answer.status_code == 503
    assert time.monotonic() - started >= 0.2


def test_malformed_json_fault_breaks_a_2xx_body(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("faults", {"malformed_json": True, "path_prefix": "/v1/tokens"})

    answer = api.post("/v1/tokens", {"amount": 100})

    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)
    assert accepton_sandbox.state.summary()["tokens"] == 1


def test_drop_connection_fault_closes_without_answer(accepton_sandbox):
    api = Api(accepton_sandbox)
    charge = api.charge(1000)
    api.control("faults", {"drop_connection": True, "path_prefix": "/v1/refunds"})

    with pytest.raises(requests.ConnectionError):
        api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 100})

    assert accepton_sandbox.state.refunds_for_charge(charge["id"]) == []
    assert api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 100}).status_code == 201
    statuses = [r.status for r in accepton_sandbox.state.request_log if r.path == "/v1/refunds"]
    assert statuses == [0, 201]


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"count": 2},
        {"status": 200},
        {"status": "abc"},
        {"status": 503, "count": 0},
        {"delay": -1},
        {"delay": "soon"},
        {"delay": 100000},
    ],
)
def test_bad_fault_specs_are_refused(accepton_sandbox, spec):
    answer = Api(accepton_sandbox).control("faults", spec)

    assert error_of(answer) == (400, "invalid_fault")


def test_faults_can_be_listed_and_cleared(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("faults", {"status": 503, "count": 3, "method": "post"})

    pending = api.control("faults", method="GET").json()["pending"]
    cleared = api.control("faults", method="DELETE")

    assert [(f["status"], f["count"], f["method"]) for f in pending] == [(503, 3, "POST")]
    assert cleared.json() == {"pending": []}
    assert api.post("/v1/tokens", {"amount": 1}).status_code == 201


def test_faults_never_hit_the_controls_or_static_files(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("faults", {"status": 503})

    assert api.control("state", method="GET").status_code == 200
    assert requests.get(f"{accepton_sandbox.url}/index.html", timeout=TIMEOUT).status_code == 200
    assert api.get("/ping").status_code == 503


def test_charge_override_changes_the_next_charge_only(accepton_sandbox):
    api = Api(accepton_sandbox)
    set_answer = api.control(
        "charge_overrides", {"amount": 1, "currency": "eur", "status": "completed"}
    )

    overridden = api.charge(5000)
    normal = api.charge(5000)

    assert set_answer.status_code == 201
    assert (overridden["amount"], overridden["currency"], overridden["status"]) == (
        1,
        "eur",
        "completed",
    )
    assert api.get(f"/v1/charges/{overridden['id']}").json()["amount"] == 1
    assert (normal["amount"], normal["currency"], normal["status"]) == (5000, "usd", "paid")


def test_charge_override_waits_for_a_successful_charge(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("charge_overrides", {"amount": 7})
    token = api.token(5000)

    declined = api.pay(token["id"], "4000000000000002")
    paid = api.pay(token["id"])

    assert declined.status_code == 400
    assert paid.json()["amount"] == 7


def test_charge_override_can_be_cleared_and_is_validated(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.control("charge_overrides", {"amount": 7})
    api.control("charge_overrides", method="DELETE")

    assert api.charge(5000)["amount"] == 5000
    assert error_of(api.control("charge_overrides", {})) == (400, "invalid_override")
    assert error_of(api.control("charge_overrides", {"amount": -1})) == (400, "invalid_amount")


def test_reset_control_empties_the_state_and_keeps_the_keys(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.charge(100)
    keys = (accepton_sandbox.public_key, accepton_sandbox.secret_key)

    answer = api.control("reset")

    assert answer.json() == {"ok": True}
    assert api.get("/v1/charges").json()["total"] == 0
    assert (accepton_sandbox.public_key, accepton_sandbox.secret_key) == keys


def test_unknown_control_is_404(accepton_sandbox):
    assert error_of(Api(accepton_sandbox).control("nothing")) == (404, "not_found")


@pytest.mark.parametrize("run", [1, 2])
def test_fixture_starts_every_test_empty(accepton_sandbox, run):
    summary = accepton_sandbox.state.summary()
    assert {key: summary[key] for key in summary if key != "public_key"} == {
        "tokens": 0,
        "charges": 0,
        "refunds": 0,
        "plans": 0,
        "subscriptions": 0,
        "active_subscriptions": 0,
        "promo_codes": 0,
        "requests": 0,
        "pending_faults": 0,
        "charge_override": False,
    }
    # Leave debris behind for the next run to not see.
    api = Api(accepton_sandbox)
    api.charge(100)
    api.control("faults", {"status": 503, "count": 5})
    api.control("charge_overrides", {"amount": 1})


# ----- only the developer's own tools reach the controls ------------------------------------


def _tokens(api: Api) -> int:
    return int(api.control("state", method="GET").json()["tokens"])


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, "x=1"),  # a page's form post
        ({"Content-Type": "text/plain"}, "{}"),  # a page's fetch without a preflight
        ({}, None),  # a body-less fetch
        ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--"),
    ],
)
def test_a_state_changing_control_takes_json_only(accepton_sandbox, headers, body):
    api = Api(accepton_sandbox)
    api.token()

    answer = requests.post(
        f"{api.url}/__sandbox__/reset", data=body, headers=headers, timeout=TIMEOUT
    )

    assert answer.status_code == 415
    assert _tokens(api) == 1


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_another_origin_is_refused(accepton_sandbox, origin):
    api = Api(accepton_sandbox)
    api.token()

    answer = requests.post(
        f"{api.url}/__sandbox__/reset", json={}, headers={"Origin": origin}, timeout=TIMEOUT
    )

    assert answer.status_code == 403
    assert _tokens(api) == 1


def test_the_controls_send_no_cors_headers_and_grant_no_preflight(accepton_sandbox):
    api = Api(accepton_sandbox)
    own = api.url.split("://", 1)[1]

    state = requests.get(f"{api.url}/__sandbox__/state", timeout=TIMEOUT)
    preflight = requests.options(
        f"{api.url}/__sandbox__/reset",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=TIMEOUT,
    )
    reset = requests.post(
        f"{api.url}/__sandbox__/reset",
        json={},
        headers={"Origin": f"http://{own}"},
        timeout=TIMEOUT,
    )

    assert "Access-Control-Allow-Origin" not in state.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert reset.status_code == 200  # the sandbox's own origin
    # The API keeps CORS: the hosted form on another origin needs it.
    assert api.get("/v1/charges").headers["Access-Control-Allow-Origin"] == "*"


def test_a_dns_name_pointing_at_the_sandbox_is_refused(accepton_sandbox):
    # DNS rebinding: a page on rebind.evil.example, resolved to 127.0.0.1, is same-origin.
    api = Api(accepton_sandbox)
    api.token()
    port = api.url.rsplit(":", 1)[1]
    named = f"rebind.evil.example:{port}"

    answer = requests.post(
        f"{api.url}/__sandbox__/reset",
        json={},
        headers={"Host": named, "Origin": f"http://{named}"},
        timeout=TIMEOUT,
    )
    state = requests.get(f"{api.url}/__sandbox__/state", headers={"Host": named}, timeout=TIMEOUT)

    assert answer.status_code == 403
    assert state.status_code == 403
    assert _tokens(api) == 1
