"""The token reuse hint (``TOKEN_CACHE``): a fresh token costs a render neither a query nor an
API call, and a claimed token never reaches another page, whichever process claimed it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_accepton.checks import check_settings
from django_accepton.services.verification import verify_charge
from tests.checkout.conftest import pay, render_form, token_in

# A claimed token must never be handed out again: under every sandbox dialect.
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

PRODUCT = {"amount": 2500, "currency": "usd", "description": "Order 77", "reference": "o-77"}


@pytest.fixture
def shared_cache(settings, accepton, tmp_path) -> Any:
    # A file cache: shared by every process on the machine, like Redis or Memcached.
    settings.CACHES = {
        **settings.CACHES,
        "tokens": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "tokens"),
        },
    }
    settings.ACCEPTON = {**settings.ACCEPTON, "TOKEN_CACHE": "tokens"}
    yield caches["tokens"]
    caches["tokens"].clear()


def token_calls(sandbox: Any) -> int:
    return int(sandbox.state.request_count("POST", "/v1/tokens"))


def test_a_fresh_token_costs_a_render_no_query_and_no_call(accepton, shared_cache):
    first = token_in(render_form(PRODUCT))
    calls = token_calls(accepton)

    with CaptureQueriesContext(connection) as queries:
        again = token_in(render_form(PRODUCT))

    assert again == first
    assert len(queries) == 0, [query["sql"] for query in queries]
    assert token_calls(accepton) == calls


def test_a_claimed_token_never_reaches_another_page(accepton, shared_cache):
    first = token_in(render_form(PRODUCT))
    charge = pay(accepton, first).json()
    assert verify_charge(charge["id"], first).ok

    after = token_in(render_form(PRODUCT))

    assert after != first


def test_a_hint_put_back_by_a_render_racing_the_claim_is_never_believed(accepton, shared_cache):
    from django_accepton.models import TransactionToken
    from django_accepton.services.tokens import _remember

    first = token_in(render_form(PRODUCT))
    charge = pay(accepton, first).json()
    token = TransactionToken.objects.get(pk=first)
    verify_charge(charge["id"], first)
    # A render in another process read the database just before the claim committed, and
    # writes its hint just after.
    _remember(token, 900)

    after = token_in(render_form(PRODUCT))

    assert after != first


def test_a_token_that_predates_the_hint_is_hinted_after_one_query(accepton, settings, tmp_path):
    first = token_in(render_form(PRODUCT))  # minted before TOKEN_CACHE was set
    settings.CACHES = {
        **settings.CACHES,
        "tokens": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "tokens"),
        },
    }
    settings.ACCEPTON = {**settings.ACCEPTON, "TOKEN_CACHE": "tokens"}
    with CaptureQueriesContext(connection) as first_render:
        assert token_in(render_form(PRODUCT)) == first
    with CaptureQueriesContext(connection) as second_render:
        assert token_in(render_form(PRODUCT)) == first
    assert len(first_render) >= 1
    assert len(second_render) == 0


def test_without_the_setting_renders_ask_the_database(accepton):
    first = token_in(render_form(PRODUCT))
    with CaptureQueriesContext(connection) as queries:
        again = token_in(render_form(PRODUCT))
    assert again == first
    assert len(queries) >= 1


def test_a_process_local_cache_is_refused(settings):
    settings.ACCEPTON = {"ENVIRONMENT": "sandbox", "TOKEN_CACHE": "default"}
    settings.DEBUG = True
    assert [message.id for message in check_settings()] == ["accepton.E021"]
