"""The outcome pages' settings: checked at start-up, and never a server error for a customer
who has just paid."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from django_accepton.checks import check_outcome_urls
from django_accepton.models import Charge, Verification
from tests.checkout.conftest import pay, render_form, token_in

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

PRODUCT = {"amount": 1200, "currency": "usd", "description": "Order 5005"}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SUCCESS_URL", "shop:nope", ["accepton.W002"]),
        ("FAILURE_URL", "accepton:nope", ["accepton.W002"]),
        ("PENDING_URL", "nowhere", ["accepton.W002"]),
        ("SUCCESS_URL", "store:order.status", ["accepton.W002"]),  # not a URL of scheme store
        ("SUCCESS_URL", "order/done", ["accepton.W002"]),
        ("SUCCESS_URL", "/orders/done/", []),
        ("SUCCESS_URL", "https://shop.example/done", []),
        ("SUCCESS_URL", "accepton:success", []),
    ],
)
def test_an_outcome_setting_is_a_url_or_a_name_that_reverses(
    accepton, settings, name, value, expected
):
    settings.ACCEPTON = {**settings.ACCEPTON, name: value}

    assert [message.id for message in check_outcome_urls()] == expected


def test_without_a_root_urlconf_there_is_nothing_to_check(accepton, settings):
    del settings.ROOT_URLCONF  # a worker's or a script's settings

    assert check_outcome_urls() == []


@pytest.mark.parametrize("value", ["shop:nope", "store:order.status"])
def test_a_success_url_that_is_no_url_sends_the_paying_customer_to_the_packages_page(
    accepton, client, settings, caplog, value
):
    settings.ACCEPTON = {**settings.ACCEPTON, "SUCCESS_URL": value}
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()

    with caplog.at_level(logging.ERROR, logger="django_accepton.outcomes"):
        answer = client.post(
            f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
        )

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("accepton:success") + "?")
    assert Charge.objects.get(pk=charge["id"]).verification == Verification.VERIFIED
    assert f"ACCEPTON['SUCCESS_URL'] {value!r} is no URL" in caplog.text
