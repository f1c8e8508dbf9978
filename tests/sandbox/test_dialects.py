"""The sandbox's dialects: choosing one everywhere it can be chosen, and each switch's readings
on the wire (``django_accepton.sandbox.dialects``)."""

from __future__ import annotations

import pytest

from django_accepton.sandbox import PRESETS, Dialect, SandboxServer, SandboxState
from django_accepton.sandbox.__main__ import build_parser
from django_accepton.sandbox.dialects import CHOICES

from . import Api


def test_presets_differ_and_every_switch_has_its_readings():
    assert set(PRESETS) == {"strict-docs", "classic", "hostile"}
    assert len(set(PRESETS.values())) == 3
    for name, preset in PRESETS.items():
        assert preset.name == name
        for switch, value in preset.to_json().items():
            assert value in CHOICES[switch]
    # The default is strict-docs, and a default state speaks it.
    assert SandboxState().dialect == PRESETS["strict-docs"]


def test_a_dialect_is_checked_switch_by_switch():
    with pytest.raises(ValueError, match="total must be one of"):
        Dialect.preset("classic").replace(total="everything")
    with pytest.raises(ValueError, match="Unknown dialect switch"):
        Dialect.preset("classic").replace(colour="red")
    with pytest.raises(ValueError, match="Unknown dialect"):
        Dialect.preset("friendly")
    assert Dialect.preset("classic").replace(total="page").name == "custom"


def test_the_command_line_takes_a_preset():
    assert build_parser().parse_args(["--dialect", "hostile"]).dialect == "hostile"
    assert build_parser().parse_args([]).dialect == "strict-docs"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--dialect", "friendly"])


def test_a_server_starts_in_the_dialect_it_is_given():
    with SandboxServer(dialect="hostile") as server:
        assert server.state.dialect == PRESETS["hostile"]


@pytest.mark.accepton_dialect("classic")
def test_the_test_control_reads_and_sets_the_dialect(accepton_sandbox):
    api = Api(accepton_sandbox)
    assert api.control("dialect", method="GET").json()["name"] == "classic"

    answer = api.control("dialect", {"preset": "hostile", "total": "list"}, method="PUT")

    assert answer.status_code == 200
    assert answer.json()["name"] == "custom"
    assert answer.json()["switches"]["total"] == "list"
    assert accepton_sandbox.state.dialect == PRESETS["hostile"].replace(total="list")
    for bad in ({"preset": "friendly"}, {"preset": "classic", "total": "all"}, {"colour": 1}):
        refused = api.control("dialect", bad, method="PUT")
        assert refused.status_code == 400
        assert refused.json()["error"]["type"] == "invalid_dialect"
    # reset keeps the dialect, like the keys
    api.control("reset")
    assert accepton_sandbox.state.dialect == PRESETS["hostile"].replace(total="list")


@pytest.mark.accepton_dialects
def test_the_fixture_speaks_each_preset(accepton_sandbox, accepton_dialect):
    assert accepton_sandbox.state.dialect == accepton_dialect
    assert accepton_dialect.name in PRESETS


def _speak(server: SandboxServer, **switches: str) -> Api:
    server.state.set_dialect(PRESETS["classic"].replace(**switches))
    return Api(server)


@pytest.mark.parametrize(("reading", "named"), [("metadata", True), ("absent", False)])
def test_promo_on_charge(accepton_sandbox, reading, named):
    api = _speak(accepton_sandbox, promo_on_charge=reading)
    api.post("/v1/promo_codes", {"name": "TEN", "promo_type": "amount", "value": 1000})
    charge = api.pay(api.token(5000)["id"], promo_code="TEN").json()
    assert charge["amount"] == 4000
    assert ("promo_code" in charge["metadata"]) is named


@pytest.mark.parametrize(
    ("scale", "value", "charged"),
    [
        ("fraction", "0.15", 8500),
        ("fraction", "15", 0),  # 1500 % off: everything
        ("percent", "15", 8500),
        ("percent", "0.15", 9985),
        ("mixed", "0.15", 8500),
        ("mixed", "15", 8500),
    ],
)
def test_percent_scale(accepton_sandbox, scale, value, charged):
    api = _speak(accepton_sandbox, percent_scale=scale)
    api.post("/v1/promo_codes", {"name": "OFF", "promo_type": "percentage", "value": value})
    assert api.pay(api.token(10000)["id"], promo_code="OFF").json()["amount"] == charged


@pytest.mark.parametrize(("reading", "total"), [("list", 25), ("page", 5)])
def test_total(accepton_sandbox, reading, total):
    api = _speak(accepton_sandbox, total=reading)
    accepton_sandbox.state.seed("promo_codes", 25)
    page = api.get("/v1/promo_codes", page=3, per_page=10).json()
    assert (len(page["data"]), page["total"]) == (5, total)


@pytest.mark.parametrize("reading", CHOICES["charge_paging"])
def test_charge_paging(accepton_sandbox, reading):
    api = _speak(accepton_sandbox, charge_paging=reading)
    accepton_sandbox.state.seed("charges", 30)
    first = api.get("/v1/charges", page=1, per_page=10).json()["data"]
    second = api.get("/v1/charges", page=2, per_page=10).json()["data"]
    assert (first == second) is (reading == "ignored")


@pytest.mark.parametrize("reading", CHOICES["token_payments"])
def test_token_payments(accepton_sandbox, reading):
    api = _speak(accepton_sandbox, token_payments=reading)
    token = api.token(1000)["id"]
    assert api.pay(token).status_code == 201
    again = api.pay(token)
    if reading == "once":
        assert (again.status_code, again.json()["error"]["type"]) == (400, "token_already_used")
    else:
        assert again.status_code == 201


@pytest.mark.parametrize(
    ("reading", "status", "kind"),
    [("404", 404, "invalid_promo_code"), ("400", 400, "invalid_name")],
)
def test_missing_promo(accepton_sandbox, reading, status, kind):
    api = _speak(accepton_sandbox, missing_promo=reading)
    for answer in (api.get("/v1/promo_codes/NOPE"), api.delete("/v1/promo_codes/NOPE")):
        assert (answer.status_code, answer.json()["error"]["type"]) == (status, kind)


@pytest.mark.parametrize(("reading", "status"), [("404", 404), ("400", 400)])
def test_missing_subscription(accepton_sandbox, reading, status):
    api = _speak(accepton_sandbox, missing_subscription=reading)
    answer = api.get("/v1/recurring/subscriptions/sub_0000000000000000")
    assert (answer.status_code, answer.json()["error"]["type"]) == (
        status,
        "invalid_subscription_id",
    )


@pytest.mark.parametrize("reading", CHOICES["rtx_retrieve"])
def test_rtx_retrieve(accepton_sandbox, reading):
    api = _speak(accepton_sandbox, rtx_retrieve=reading)
    made = accepton_sandbox.state.create_recurring_token(api.plan()["id"])["id"]
    assert api.get(f"/v1/tokens/{made}").status_code == (200 if reading == "yes" else 404)


@pytest.mark.parametrize(
    ("reading", "served"),
    [
        ("both", {"/v1/recurring", "/v1"}),
        ("recurring", {"/v1/recurring"}),
        ("plain", {"/v1"}),
    ],
)
def test_recurring_paths(accepton_sandbox, reading, served):
    api = _speak(accepton_sandbox, recurring_paths=reading)
    for prefix in ("/v1/recurring", "/v1"):
        answer = api.get(f"{prefix}/plans")
        assert (answer.status_code == 200) is (prefix in served)
        if answer.status_code != 200:
            assert answer.json()["error"]["type"] == "not_found"
    # Cancel is /v1/subscriptions/{id}/cancel in every source.
    assert api.post("/v1/subscriptions/sub_0000000000000000/cancel").status_code == 400


@pytest.mark.parametrize("reading", CHOICES["write_503"])
def test_write_503(accepton_sandbox, reading):
    api = _speak(accepton_sandbox, write_503=reading)
    api.control("faults", {"status": 503, "method": "POST", "path_prefix": "/v1/tokens"})
    assert api.post("/v1/tokens", {"amount": 100, "currency": "usd"}).status_code == 503
    made = accepton_sandbox.state.summary()["tokens"]
    assert made == (1 if reading == "after" else 0)


@pytest.mark.parametrize("reading", CHOICES["subscription_order"])
def test_subscription_order(accepton_sandbox, reading):
    api = _speak(accepton_sandbox, subscription_order=reading)
    accepton_sandbox.state.seed("subscriptions", 3)
    listed = api.get("/v1/recurring/subscriptions", order_by="created_at")
    if reading == "refused":
        assert listed.status_code == 400
        data = api.get("/v1/recurring/subscriptions").json()["data"]
        assert all("created_at" not in item for item in data)
    else:
        assert listed.status_code == 200
        assert all("created_at" in item for item in listed.json()["data"])


@pytest.mark.parametrize(("reading", "after_partial"), [("full", False), ("any", True)])
def test_refunded_flag(accepton_sandbox, reading, after_partial):
    api = _speak(accepton_sandbox, refunded_flag=reading)
    charge = api.pay(api.token(1000)["id"]).json()
    api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 400})
    assert api.get(f"/v1/charges/{charge['id']}").json()["refunded"] is after_partial
    api.post("/v1/refunds", {"charge_id": charge["id"], "amount": 600})
    assert api.get(f"/v1/charges/{charge['id']}").json()["refunded"] is True


@pytest.mark.parametrize("key", CHOICES["charge_timestamp"])
@pytest.mark.parametrize("status", CHOICES["charge_status"])
def test_charge_timestamp_and_status(accepton_sandbox, key, status):
    api = _speak(accepton_sandbox, charge_timestamp=key, charge_status=status)
    charge = api.pay(api.token(1000)["id"]).json()
    assert charge["status"] == status
    other = "created" if key == "created_at" else "created_at"
    assert key in charge
    assert other not in charge
