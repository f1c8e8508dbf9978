"""Property tests of the pages a customer lands on: any query string, never a 500."""

from __future__ import annotations

import string
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from django_accepton.models import Charge, Verification
from tests.checkout.conftest import pay, render_form, token_in
from tests.security.test_fuzz_routes import FUZZ

pytestmark = pytest.mark.django_db

PAGES = ("accepton:success", "accepton:failure", "accepton:pending")
KEYS = st.sampled_from(["token", "charge", "reason"]) | st.text(max_size=12)


@pytest.fixture
def known(accepton, settings):
    """Ids that exist: a verified charge and its token, and a claim left pending."""
    paid_token = token_in(render_form({"amount": 900, "currency": "usd", "description": "P"}))
    paid = pay(accepton, paid_token).json()["id"]
    client = Client()
    client.post(
        f"{reverse('accepton:return')}?token={paid_token}", {"response": f'{{"id": "{paid}"}}'}
    )
    waiting_token = token_in(render_form({"amount": 800, "currency": "usd", "description": "W"}))
    waiting = pay(accepton, waiting_token).json()["id"]
    accepton.state.add_fault({"status": 503, "path_prefix": "/v1/charges/", "method": "GET"})
    client.post(
        f"{reverse('accepton:return')}?token={waiting_token}",
        {"response": f'{{"id": "{waiting}"}}'},
    )
    assert Charge.objects.get(pk=paid).verification == Verification.VERIFIED
    assert Charge.objects.get(pk=waiting).verification == Verification.PENDING
    return [paid_token, paid, waiting_token, waiting]


def test_outcome_pages_answer_any_query(known, proof):
    statuses: list[int] = []
    values = st.sampled_from(known) | st.text(max_size=80) | st.sampled_from(["ok", "", "\x00"])

    @FUZZ
    @given(
        page=st.sampled_from(PAGES),
        query=st.one_of(
            st.dictionaries(KEYS, values, max_size=5).map(urlencode),
            st.lists(st.tuples(KEYS, values), max_size=6).map(urlencode),
            st.text(alphabet=string.printable.replace("#", ""), max_size=120),
        ),
    )
    def run(page: str, query: str) -> None:
        answer = Client(raise_request_exception=False).get(f"{reverse(page)}?{query}")
        statuses.append(answer.status_code)
        assert answer.status_code in (200, 302), (page, query, answer.status_code)

    run()
    errors = sum(1 for status in statuses if status >= 500)
    proof("fuzz outcome pages: answers, server errors", f"{len(statuses)}, {errors}", "N, 0")
