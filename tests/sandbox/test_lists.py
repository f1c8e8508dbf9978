"""Lists: paging, ordering, filters, and staying fast with 100k objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from django_accepton.sandbox import TEST_CARDS, SandboxServer, SandboxState

from . import Api, error_of


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_list_shape_and_paging(accepton_sandbox):
    api = Api(accepton_sandbox)
    ids = [api.charge(100 + n)["id"] for n in range(5)]

    first = api.get("/v1/charges", per_page=2).json()
    third = api.get("/v1/charges", per_page=2, page=3).json()
    beyond = api.get("/v1/charges", per_page=2, page=4).json()

    assert first["object"] == "list"
    assert first["total"] == 5
    assert [c["id"] for c in first["data"]] == [ids[4], ids[3]]
    assert [c["id"] for c in third["data"]] == [ids[0]]
    assert beyond == {"object": "list", "total": 5, "data": []}


def test_default_page_size_is_20(accepton_sandbox):
    accepton_sandbox.state.seed("plans", 25)

    answer = Api(accepton_sandbox).get("/v1/recurring/plans").json()

    assert (answer["total"], len(answer["data"])) == (25, 20)


@pytest.mark.parametrize("per_page", [0, 101, -1, "x"])
def test_per_page_out_of_range_is_invalid_per_page(accepton_sandbox, per_page):
    for path in ("/v1/charges", "/v1/recurring/plans", "/v1/subscriptions", "/v1/promo_codes"):
        answer = Api(accepton_sandbox).get(path, per_page=per_page)

        assert error_of(answer) == (400, "invalid_per_page")


def test_per_page_100_is_allowed(accepton_sandbox):
    accepton_sandbox.state.seed("charges", 150)

    answer = Api(accepton_sandbox).get("/v1/charges", per_page=100, page=2).json()

    assert (answer["total"], len(answer["data"])) == (150, 50)


@pytest.mark.parametrize("page", [0, -2, "first"])
def test_bad_page_is_invalid_page(accepton_sandbox, page):
    assert error_of(Api(accepton_sandbox).get("/v1/charges", page=page)) == (400, "invalid_page")


def test_plans_default_oldest_first_others_newest_first(accepton_sandbox):
    api = Api(accepton_sandbox)
    plans = [api.plan(f"P{n}")["id"] for n in range(3)]
    codes = []
    for n in range(3):
        api.post("/v1/promo_codes", {"name": f"C{n}", "promo_type": "amount", "value": 10})
        codes.append(f"C{n}")
    subs = [api.control("subscriptions", {"plan_id": plans[0]}).json()["id"] for _ in range(3)]

    assert [p["id"] for p in api.get("/v1/recurring/plans").json()["data"]] == plans
    assert [c["name"] for c in api.get("/v1/promo_codes").json()["data"]] == codes[::-1]
    assert [s["id"] for s in api.get("/v1/subscriptions").json()["data"]] == subs[::-1]
    assert [p["id"] for p in api.get("/v1/plans", order="desc").json()["data"]] == plans[::-1]
    assert [s["id"] for s in api.get("/v1/subscriptions", order="asc").json()["data"]] == subs


def test_charges_order_by_amount(accepton_sandbox):
    api = Api(accepton_sandbox)
    for amount in (300, 100, 200):
        api.charge(amount)

    ascending = api.get("/v1/charges", order_by="amount", order="asc").json()["data"]
    descending = api.get("/v1/charges", order_by="amount").json()["data"]

    assert [c["amount"] for c in ascending] == [100, 200, 300]
    assert [c["amount"] for c in descending] == [300, 200, 100]


def test_unknown_order_or_order_by_is_refused(accepton_sandbox):
    api = Api(accepton_sandbox)

    assert error_of(api.get("/v1/charges", order="sideways")) == (400, "invalid_order")
    assert error_of(api.get("/v1/charges", order_by="color")) == (400, "invalid_order_by")


def test_charges_filter_on_amount(accepton_sandbox):
    api = Api(accepton_sandbox)
    for amount in (500, 700, 500):
        api.charge(amount)

    answer = api.get("/v1/charges", amount=500).json()

    assert answer["total"] == 2
    assert {c["amount"] for c in answer["data"]} == {500}


@pytest.mark.parametrize("charge_dates", ["days", "exclusive"])
def test_charges_filter_on_dates_in_both_formats(charge_dates):
    clock = Clock(datetime(2024, 3, 1, 10, 0, tzinfo=UTC))
    state = SandboxState(clock=clock)
    state.set_dialect({"preset": "strict-docs", "charge_dates": charge_dates})
    made = {}
    for name, moment in [
        ("a", datetime(2024, 3, 1, 10, 0, tzinfo=UTC)),
        ("b", datetime(2024, 3, 2, 23, 59, 59, 999000, tzinfo=UTC)),
        ("c", datetime(2024, 3, 3, 0, 0, tzinfo=UTC)),
    ]:
        clock.now = moment
        token = state.create_token(100, currency="usd")
        made[name] = state.create_form_charge(
            token["id"], TEST_CARDS["success"], 12, 2040, "123", "d@example.com"
        )["id"]
    names = {charge_id: name for name, charge_id in made.items()}

    with SandboxServer(state) as server:
        api = Api(server)

        def found(**params):
            answer = api.get("/v1/charges", order="asc", **params)
            assert answer.status_code == 200, answer.text
            return "".join(names[c["id"]] for c in answer.json()["data"])

        if charge_dates == "days":  # each bare date's day is in
            assert found(end_date="2024-03-02") == "ab"
            assert found(start_date="2024-03-02") == "bc"
            assert found(start_date="2024-03-02", end_date="2024-03-02") == "b"
        else:  # "created before" and "created after" the day, as the references word them
            assert found(end_date="2024-03-02") == "a"
            assert found(start_date="2024-03-02") == "c"
            assert found(start_date="2024-03-01", end_date="2024-03-03") == "b"
        assert found(start_date="2024-03-02T12:00:00Z") == "bc"
        assert found(end_date="2024-03-02T23:59:59.999Z") == "ab"
        assert found(end_date="2024-03-02T23:59:59.998+00:00") == "a"
        assert found(start_date="2024-03-04") == ""
        assert error_of(api.get("/v1/charges", start_date="March")) == (400, "invalid_start_date")
        assert error_of(api.get("/v1/charges", end_date="2024-13-01")) == (400, "invalid_end_date")


def test_promo_codes_filter_on_type(accepton_sandbox):
    api = Api(accepton_sandbox)
    api.post("/v1/promo_codes", {"name": "A", "promo_type": "amount", "value": 10})
    api.post("/v1/promo_codes", {"name": "P", "promo_type": "percentage", "value": 0.1})

    answer = api.get("/v1/promo_codes", promo_type="percentage").json()

    assert [c["name"] for c in answer["data"]] == ["P"]
    assert error_of(api.get("/v1/promo_codes", promo_type="x")) == (400, "invalid_promo_type")


def test_seed_control_creates_objects(accepton_sandbox):
    api = Api(accepton_sandbox)

    for resource, count in [("plans", 4), ("promo_codes", 6), ("charges", 7), ("subscriptions", 9)]:
        answer = api.control("seed", {"resource": resource, "count": count})
        assert answer.status_code == 201
        assert answer.json()["created"] == count

    state = api.control("state", method="GET").json()
    assert (state["plans"], state["promo_codes"], state["charges"], state["subscriptions"]) == (
        4,
        6,
        7,
        9,
    )
    assert api.get("/v1/promo_codes", per_page=100).json()["total"] == 6


def test_seed_control_validates(accepton_sandbox):
    api = Api(accepton_sandbox)

    assert error_of(api.control("seed", {"resource": "refunds", "count": 1})) == (
        400,
        "invalid_resource",
    )
    assert error_of(api.control("seed", {"resource": "plans", "count": 0})) == (
        400,
        "invalid_count",
    )


def test_seeded_subscriptions_create_plans_when_none_exist(accepton_sandbox):
    accepton_sandbox.state.seed("subscriptions", 10)

    plans = Api(accepton_sandbox).get("/v1/recurring/plans").json()

    assert plans["total"] == 3


def test_seeded_objects_are_older_than_new_ones(accepton_sandbox):
    api = Api(accepton_sandbox)
    fresh = api.charge(123)
    accepton_sandbox.state.seed("charges", 50)

    newest = api.get("/v1/charges", per_page=1).json()["data"][0]

    assert newest["id"] == fresh["id"]


def test_100k_subscriptions_seed_and_list(accepton_sandbox):
    api = Api(accepton_sandbox)
    answer = api.control("seed", {"resource": "subscriptions", "count": 100_000})
    assert answer.status_code == 201

    everything = api.get("/v1/recurring/subscriptions", per_page=100, page=1000).json()
    active = api.get("/v1/recurring/subscriptions", per_page=100, active="true").json()
    plan_id = everything["data"][0]["plan"]["id"]
    on_plan = api.get("/v1/recurring/subscriptions", **{"plan.token": plan_id}).json()

    assert everything["total"] == 100_000
    assert len(everything["data"]) == 100
    # Every fifth seeded subscription is cancelled.
    assert active["total"] == 80_000
    # Spread round-robin over the three plans made for them.
    assert on_plan["total"] in (33_333, 33_334)
    assert api.control("state", method="GET").json()["subscriptions"] == 100_000


def test_state_methods_return_copies(accepton_sandbox):
    charge = Api(accepton_sandbox).charge(100, **{"metadata[k]": "v"})
    state = accepton_sandbox.state

    state.retrieve_charge(charge["id"])["metadata"]["k"] = "changed"
    state.list_charges()["data"][0]["metadata"]["k"] = "changed"

    assert state.retrieve_charge(charge["id"])["metadata"]["k"] == "v"


def test_clock_is_used_for_timestamps():
    clock = Clock(datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    state = SandboxState(clock=clock)

    token = state.create_token(100)
    clock.now += timedelta(days=1)
    plan = state.create_plan("P", 100, "usd", "month")

    assert token["created"] == "2030-01-02T03:04:05.678Z"
    assert plan["created_at"] == "2030-01-03T03:04:05.678Z"
