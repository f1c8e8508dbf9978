"""Wire-level behaviour: ping, content types, CORS, body encodings, static files, request log."""

from __future__ import annotations

import json

import pytest
import requests

from django_accepton.sandbox.static import STATIC_DIR

from . import TIMEOUT, Api, error_of


@pytest.mark.parametrize("path", ["/ping", "/v1/ping"])
def test_ping_answers_on_both_paths(accepton_sandbox, path):
    answer = Api(accepton_sandbox).get(path)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"object": "ping", "ok": True}


def test_unknown_route_is_a_json_404(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/v1/customers")

    assert error_of(answer) == (404, "not_found")
    assert answer.headers["Content-Type"] == "application/json"


def test_wrong_method_on_a_known_path_is_a_404(accepton_sandbox):
    assert error_of(Api(accepton_sandbox).delete("/v1/tokens")) == (404, "not_found")


def test_every_api_answer_allows_any_origin(accepton_sandbox):
    answer = Api(accepton_sandbox).get("/ping")

    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_is_answered_without_a_key(accepton_sandbox):
    answer = requests.options(
        f"{accepton_sandbox.url}/v1/charges",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=TIMEOUT,
    )

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type"


def test_form_encoded_body_is_read(accepton_sandbox):
    answer = Api(accepton_sandbox).post("/v1/tokens", {"amount": "1250", "currency": "usd"})

    assert answer.status_code == 201
    assert answer.json()["amount"] == 1250


def test_json_body_is_read(accepton_sandbox):
    answer = Api(accepton_sandbox).post("/v1/tokens", json={"amount": 1300, "currency": "cad"})

    assert answer.status_code == 201
    assert (answer.json()["amount"], answer.json()["currency"]) == (1300, "cad")


def test_json_body_without_content_type_is_sniffed(accepton_sandbox):
    # PHP's official client sends JSON and no Content-Type header at all.
    answer = Api(accepton_sandbox).post(
        "/v1/tokens",
        data=json.dumps({"amount": 1400, "description": "PHP order"}).encode(),
        headers={"Content-Type": ""},
    )

    assert answer.status_code == 201
    assert answer.json()["description"] == "PHP order"


def test_json_body_with_another_content_type_is_sniffed(accepton_sandbox):
    answer = Api(accepton_sandbox).post(
        "/v1/tokens",
        data=b' {"amount": 1500}',
        headers={"Content-Type": "text/plain"},
    )

    assert answer.status_code == 201
    assert answer.json()["amount"] == 1500


def test_broken_json_body_is_a_400(accepton_sandbox):
    answer = Api(accepton_sandbox).post(
        "/v1/tokens", data=b'{"amount": ', headers={"Content-Type": "application/json"}
    )

    assert error_of(answer) == (400, "invalid_request")


def test_deeply_nested_json_body_is_a_400(accepton_sandbox):
    answer = Api(accepton_sandbox).post(
        "/v1/tokens",
        data=b'{"amount": ' * 20_000 + b"1" + b"}" * 20_000,
        headers={"Content-Type": "application/json"},
    )

    assert error_of(answer) == (400, "invalid_request")


def test_json_array_body_is_a_400(accepton_sandbox):
    answer = Api(accepton_sandbox).post("/v1/tokens", json=[1, 2])

    assert error_of(answer) == (400, "invalid_request")


def test_nested_form_keys_become_objects(accepton_sandbox):
    api = Api(accepton_sandbox)
    token = api.token(900)

    answer = api.pay(
        token["id"],
        **{
            "metadata[billing_address][line1]": "1 Main St",
            "metadata[billing_address][city]": "Springfield",
            "metadata[tags][]": "a",
        },
    )

    assert answer.status_code == 201
    assert answer.json()["metadata"]["billing_address"] == {
        "line1": "1 Main St",
        "city": "Springfield",
    }
    assert answer.json()["metadata"]["tags"] == ["a"]


@pytest.mark.parametrize(
    ("path", "file_name", "content_type"),
    [
        ("/scripts/accepton.js", "accepton.js", "text/javascript; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/form.js", "form.js", "text/javascript; charset=utf-8"),
        ("/form.css", "form.css", "text/css; charset=utf-8"),
    ],
)
def test_static_files_are_served_with_their_type(accepton_sandbox, path, file_name, content_type):
    file = STATIC_DIR / file_name
    if not file.is_file():
        pytest.fail(f"{file} is missing from the sandbox's static files")

    answer = requests.get(accepton_sandbox.url + path + "?instanceId=x", timeout=TIMEOUT)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    assert answer.content == file.read_bytes()


@pytest.mark.parametrize("path", ["/missing.js", "/../pyproject.toml", "/.hidden.js", "/state.py"])
def test_unknown_or_unsafe_static_paths_are_404(accepton_sandbox, path):
    answer = requests.get(accepton_sandbox.url + path, timeout=TIMEOUT)

    assert answer.status_code == 404


def test_request_log_counts_api_requests_but_not_controls(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.token()
    api.token()
    api.get("/v1/charges")
    api.control("state", method="GET")

    state = accepton_sandbox.state
    assert state.request_count() == 3
    assert state.request_count(method="POST", path_prefix="/v1/tokens") == 2
    assert state.request_count(method="get") == 1
    assert [(r.method, r.path, r.status) for r in state.request_log] == [
        ("POST", "/v1/tokens", 201),
        ("POST", "/v1/tokens", 201),
        ("GET", "/v1/charges", 200),
    ]


def test_request_log_never_keeps_an_access_token(accepton_sandbox):
    api = Api(accepton_sandbox, key="")
    api.get("/v1/charges", access_token=accepton_sandbox.secret_key, page=1)

    (record,) = accepton_sandbox.state.request_log
    assert accepton_sandbox.secret_key not in record.query
    assert record.query == "access_token=[redacted]&page=1"


def test_requests_control_lists_the_log(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.get("/ping")

    answer = api.control("requests", method="GET")

    assert answer.json() == {
        "requests": [{"method": "GET", "path": "/ping", "status": 200, "query": ""}]
    }


def test_trailing_slash_is_tolerated(accepton_sandbox):
    assert Api(accepton_sandbox).get("/v1/charges/").status_code == 200
