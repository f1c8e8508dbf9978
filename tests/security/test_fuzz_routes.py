"""Property tests of the two routes a browser can reach: no 500, no state change on bad input."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_accepton.models import Charge, TransactionToken
from tests.checkout.conftest import render_form, token_in

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ids = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"\Achg_[A-Za-z0-9]{1,70}\Z"),
    st.from_regex(r"\A(txn|rtx)_[A-Za-z0-9]{1,70}\Z"),
    st.integers(),
    st.none(),
    st.booleans(),
)
# What a hostile browser adds: NUL bytes, lone surrogates (as JSON escapes) and nesting deeper
# than Python's decoder goes.
nasty_text = st.sampled_from(["\x00", "chg_\x00", "\\ud800", '"\\udfff"', "%00", "\u202e"])
deep_json = st.integers(min_value=1, max_value=20_000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture
def token_id(accepton):
    return token_in(render_form({"amount": 700, "currency": "usd", "description": "Fuzz"}))


def assert_nothing_changed(token_id: str) -> None:
    assert not Charge.objects.exists()
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None


@FUZZ
@given(
    response=st.one_of(
        st.text(max_size=300),
        json_values.map(json.dumps),
        st.fixed_dictionaries({"id": ids}).map(json.dumps),
        st.fixed_dictionaries({"charge": st.fixed_dictionaries({"id": ids})}).map(json.dumps),
        deep_json,
        nasty_text,
        st.builds(lambda n: '{"id": "chg_' + n + '"}', nasty_text),
    ),
    token=st.one_of(st.just("valid"), st.text(max_size=80)),
)
def test_redirect_route_never_fails_and_changes_nothing(token_id, response, token):
    # Each example from a fresh address: past ten unknown charge ids, an address's submissions
    # are recorded as pending claims for later (tested in tests/checkout/test_bad_input.py).
    cache.clear()
    client = Client(raise_request_exception=False)
    query_token = token_id if token == "valid" else token
    url = f"{reverse('accepton:return')}?{urlencode({'token': query_token})}"
    answer = client.post(url, {"response": response})
    assert answer.status_code in (302, 400)
    assert_nothing_changed(token_id)


@FUZZ
@given(
    body=st.one_of(
        json_values.map(json.dumps),
        st.fixed_dictionaries({"charge_id": ids, "token": ids}).map(json.dumps),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        deep_json,
        st.builds(lambda n: '{"charge_id": "chg_' + n + '", "token": "txn_a"}', nasty_text),
    )
)
def test_json_route_never_fails_and_changes_nothing(token_id, body):
    cache.clear()  # as above
    client = Client(raise_request_exception=False)
    answer = client.post(reverse("accepton:verify"), body, content_type="application/json")
    assert answer.status_code in (400, 422)
    assert_nothing_changed(token_id)


@FUZZ
@given(charge_id=st.from_regex(r"\Achg_[A-Za-z0-9]{1,60}\Z"))
def test_well_formed_but_unknown_charges_leave_no_claim(token_id, charge_id):
    cache.clear()  # each example from a fresh address: past ten unknown ids the route says 429
    client = Client(raise_request_exception=False)
    answer = client.post(
        reverse("accepton:verify"),
        {"charge_id": charge_id, "token": token_id},
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert answer.json()["reason"] == "unknown_charge"
    assert_nothing_changed(token_id)
