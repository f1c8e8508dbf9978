"""The secret key never reaches Django's DEBUG error page, nor the variables an error tracker
captures, whatever the settings mistake or the network failure behind the error."""

from __future__ import annotations

import re
import socket
import types
from typing import Any

import pytest
import responses
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from store.models import Product

from django_accepton.api import get_client
from django_accepton.client import APIConnectionError
from django_accepton.conf import get_settings

KEY = "skey_" + "7" * 28 + "c0de"
PUBLIC = "pkey_" + "8" * 16


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MISTAKES: dict[str, dict[str, Any]] = {
    "base url without scheme": {"BASE_URL": "staging-checkout.accepton.com"},
    "timeout 0": {"TIMEOUT": 0},
    "negative retries": {"MAX_RETRIES": -1},
    "prefix without slash": {"RECURRING_PREFIX": "v1/recurring"},
    "non-numeric timeout": {"TIMEOUT": "thirty"},
    "non-numeric cache ttl": {"TOKEN_CACHE_TTL": "soon"},
    "key with a space": {"SECRET_KEY": KEY[:10] + " " + KEY[10:]},
    "empty host label": {"BASE_URL": "https://staging-checkout..accepton.com"},
    "infinite timeout": {"TIMEOUT": float("inf")},
}


def every_variable(exc: BaseException) -> str:
    """What an error tracker that captures locals would keep: every frame's variables, for
    the exception and the ones it was raised from."""
    seen: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        tb: types.TracebackType | None = current.__traceback__
        while tb is not None:
            if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("tests."):
                tb = tb.tb_next  # this test's own frame holds the key it configured
                continue
            for name, value in tb.tb_frame.f_locals.items():
                try:
                    seen.append(f"{name}={value!r}")
                except Exception:  # noqa: BLE001 - a repr that fails shows nothing
                    seen.append(name)
            tb = tb.tb_next
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n".join(seen)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_settings_mistake_shows_no_key_on_the_debug_page(settings, db, mistake):
    settings.DEBUG = True
    settings.ACCEPTON = {
        "ENVIRONMENT": "staging",
        "SECRET_KEY": KEY,
        "PUBLIC_KEY": PUBLIC,
        **MISTAKES[mistake],
    }
    product = Product.objects.create(slug="pen", name="Pen", price=4500)
    client = Client(raise_request_exception=False)
    client.post(reverse("store:buy", args=[product.slug]))
    from store.models import Order

    order = Order.objects.get()

    page = client.get(order.get_absolute_url())

    assert page.status_code == 500
    text = page.content.decode()
    assert "ImproperlyConfigured" in text or "SettingsError" in text  # the technical page
    assert KEY[5:] not in text
    assert KEY[5:20] not in text
    with pytest.raises(ImproperlyConfigured) as info:
        get_client()
    assert KEY[5:] not in every_variable(info.value)


def test_an_unreachable_acceptOn_shows_no_key_on_the_debug_page(settings, db):
    settings.DEBUG = True
    settings.ACCEPTON = {
        "ENVIRONMENT": "staging",
        "SECRET_KEY": KEY,
        "PUBLIC_KEY": PUBLIC,
        "BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "ALLOW_INSECURE_BASE_URL": True,
        "MAX_RETRIES": 0,
    }
    product = Product.objects.create(slug="pen", name="Pen", price=4500)
    client = Client(raise_request_exception=False)
    client.post(reverse("store:buy", args=[product.slug]))
    from store.models import Order

    page = client.get(Order.objects.get().get_absolute_url())

    text = page.content.decode()
    assert KEY[5:] not in text
    with pytest.raises(APIConnectionError) as info:
        get_client().tokens.create(amount=100, currency="usd", description="x")
    assert KEY[5:] not in every_variable(info.value)
    assert repr(get_settings().secret_key) == "Secret('skey_…c0de')"  # masked, recognisable


def test_an_unexpected_error_inside_requests_shows_no_key(settings, db):
    settings.ACCEPTON = {"ENVIRONMENT": "staging", "SECRET_KEY": KEY, "PUBLIC_KEY": PUBLIC}
    with responses.RequestsMock() as mock:
        # Not a RequestException: requests lets such errors through as they are.
        mock.post(re.compile(r".*/v1/tokens"), body=ValueError("label empty or too long"))
        with pytest.raises(APIConnectionError) as info:
            get_client().tokens.create(amount=100, currency="usd", description="x")
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert KEY[5:] not in every_variable(info.value)
