"""``iter_all`` walks pages of 100, one page in memory at a time, and knows when to stop."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from django_accepton.client import AcceptOn, PagingIgnored

from . import payloads
from .payloads import BASE_URL


def charges(start: int, count: int) -> list[dict[str, Any]]:
    return [{**payloads.CHARGE, "id": f"chg_{n:016x}"} for n in range(start, start + count)]


def pages_asked(mocked: responses.RequestsMock) -> list[tuple[str, str]]:
    asked = []
    for call in mocked.calls:
        query = dict(parse_qsl(urlsplit(call.request.url).query))
        asked.append((query["page"], query["per_page"]))
    return asked


def test_walks_list_objects_until_a_short_page(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE_URL}/v1/charges"
    mocked.get(url, json=payloads.listing(charges(0, 100), total=200))
    mocked.get(url, json=payloads.listing(charges(100, 100), total=200))
    mocked.get(url, json=payloads.listing([], total=200))
    ids = [charge.id for charge in client.charges.iter_all(order="asc")]
    assert ids == [f"chg_{n:016x}" for n in range(200)]
    # page 2 is full: what total counts is undocumented, so only an empty page ends the list
    assert pages_asked(mocked) == [("1", "100"), ("2", "100"), ("3", "100")]
    assert all(("order", "asc") in parse_qsl(urlsplit(c.request.url).query) for c in mocked.calls)


def test_walks_bare_arrays_until_a_short_page(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE_URL}/v1/recurring/plans"
    plans = [{**payloads.PLAN, "id": f"pln_{n}"} for n in range(250)]
    mocked.get(url, json=plans[:100])
    mocked.get(url, json=plans[100:200])
    mocked.get(url, json=plans[200:])
    assert [plan.id for plan in client.plans.iter_all()] == [f"pln_{n}" for n in range(250)]
    assert pages_asked(mocked) == [("1", "100"), ("2", "100"), ("3", "100")]


def test_bare_arrays_end_on_an_empty_page(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    url = f"{BASE_URL}/v1/promo_codes"
    codes = [{**payloads.PROMO_CODE, "name": f"CODE{n}"} for n in range(100)]
    mocked.get(url, json=codes)
    mocked.get(url, json=[])
    assert len(list(client.promo_codes.iter_all(promo_type="percentage"))) == 100
    assert len(mocked.calls) == 2


def test_mixed_shapes_and_a_short_last_page(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE_URL}/v1/recurring/subscriptions"
    subs = [{**payloads.SUBSCRIPTION, "id": f"sub_{n}"} for n in range(130)]
    mocked.get(url, json=payloads.listing(subs[:100], total=130))
    mocked.get(url, json=subs[100:])
    result = list(client.subscriptions.iter_all(active=True, plan_token="pln_1"))
    assert [sub.id for sub in result] == [f"sub_{n}" for n in range(130)]
    for call in mocked.calls:
        query = dict(parse_qsl(urlsplit(call.request.url).query))
        assert (query["active"], query["plan.token"]) == ("true", "pln_1")


def test_yields_before_fetching_the_next_page(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE_URL}/v1/charges"
    mocked.get(url, json=payloads.listing(charges(0, 100), total=150))
    mocked.get(url, json=payloads.listing(charges(100, 50), total=150))
    walker = client.charges.iter_all()
    assert len(mocked.calls) == 0  # nothing fetched until asked for
    for _ in range(100):
        next(walker)
    assert len(mocked.calls) == 1
    next(walker)
    assert len(mocked.calls) == 2
    assert len(list(walker)) == 49


def test_a_server_that_ignores_paging_is_read_once(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE_URL}/v1/charges", json=payloads.listing(charges(0, 150), total=150))
    assert len(list(client.charges.iter_all())) == 150
    assert len(mocked.calls) == 1


def test_empty_listing(client: AcceptOn, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE_URL}/v1/charges", json=payloads.listing([]))
    assert list(client.charges.iter_all()) == []


def test_iter_all_checks_filters_when_called(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="order"):
        client.charges.iter_all(order="sideways")
    with pytest.raises(ValueError, match="start_date"):
        client.charges.iter_all(start_date="July 1st")
    with pytest.raises(ValueError, match="promo_type"):
        client.promo_codes.iter_all(promo_type="bogo")
    with pytest.raises(ValueError, match="active"):
        client.subscriptions.iter_all(active="yes")  # type: ignore[arg-type]
    assert len(mocked.calls) == 0


def test_a_total_that_counts_only_the_page_does_not_end_the_list(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    # Every documented example has total == len(data): read as "this page", 1,050
    # subscriptions answer total=100 on each full page.
    url = f"{BASE_URL}/v1/recurring/subscriptions"
    subs = [{**payloads.SUBSCRIPTION, "id": f"sub_{n:016x}"} for n in range(250)]
    for start in (0, 100, 200):
        chunk = subs[start : start + 100]
        mocked.get(url, json=payloads.listing(chunk, total=len(chunk)))
    assert len(list(client.subscriptions.iter_all())) == 250
    assert pages_asked(mocked) == [("1", "100"), ("2", "100"), ("3", "100")]


def test_a_server_that_ignores_page_is_told_not_walked_forever(
    client: AcceptOn, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE_URL}/v1/charges"
    for _ in range(2):
        mocked.get(url, json=payloads.listing(charges(0, 100), total=100))
    walked = client.charges.iter_all()
    with pytest.raises(PagingIgnored, match="Page 2 repeats page 1"):
        list(walked)
    assert len(mocked.calls) == 2
