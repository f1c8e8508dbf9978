"""The money path end to end: mint, pay in the sandbox, come back, verified exactly once."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.services.promo_codes import create_promo_code
from django_accepton.services.sync import sync_promo_codes
from django_accepton.services.verification import Reason, reverify_pending_charges, verify_charge
from tests.checkout.conftest import pay, render_form, token_in
from tests.concurrency import in_threads

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

PRODUCT = {"amount": 2500, "currency": "usd", "description": "Order 1001", "reference": "1001"}


def test_redirect_post_verifies_the_charge_and_signals_once(
    accepton, client, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    assert charge["amount"] == 2500

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
        )

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("accepton:success"))
    row = Charge.objects.get(pk=charge["id"])
    assert row.verification == Verification.VERIFIED
    paid = accepton.state.dialect.charge_status  # paid (card) or completed (PayPal)
    assert (row.amount, row.currency, row.status) == (2500, "usd", paid)
    assert row.token_id == token_id
    assert TransactionToken.objects.get(pk=token_id).consumed_at is not None
    assert signal_log == [("verified", charge["id"], token_id)]


def test_callback_then_redirect_fulfils_once_and_both_show_success(
    accepton, client, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            reverse("accepton:verify"),
            {"charge_id": charge["id"], "token": token_id},
            content_type="application/json",
        )
        second = client.post(
            f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
        )

    assert first.status_code == 200
    assert first.json()["reason"] == "ok"
    assert first.json()["paid"] is True
    assert second.status_code == 302
    assert "reason=already_claimed" in second["Location"]
    assert second["Location"].startswith(reverse("accepton:success"))
    assert signal_log == [("verified", charge["id"], token_id)]
    assert Charge.objects.filter(verification=Verification.VERIFIED).count() == 1


@pytest.mark.parametrize("escape", ["quote", "quote_plus"])
def test_uri_escaped_response_is_read(accepton, client, escape):
    """ "URI-escaped JSON", with spaces as %20 or as + (as HTML forms and quote_plus write
    them): the charge is read either way."""
    import urllib.parse

    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    escaped = getattr(urllib.parse, escape)(json.dumps(charge))
    assert "+" in escaped or escape == "quote"
    answer = client.post(f"{reverse('accepton:return')}?token={token_id}", {"response": escaped})
    assert answer.status_code == 302
    assert Charge.objects.get(pk=charge["id"]).verification == Verification.VERIFIED


@pytest.mark.parametrize(
    "shape",
    ["charge as JSON text", "callback with the charge as JSON text", "the text escaped"],
)
def test_a_charge_given_as_json_text_is_read(accepton, client, shape):
    """The callback's argument has "a charge property: the charge as JSON", an object or the
    JSON text of one; a loader that posts it on writes that text as JSON once more."""
    from urllib.parse import quote

    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    text = json.dumps(charge)
    sent = {
        "charge as JSON text": json.dumps(text),
        "callback with the charge as JSON text": json.dumps({"charge": text}),
        "the text escaped": quote(json.dumps({"charge": text})),
    }[shape]

    answer = client.post(f"{reverse('accepton:return')}?token={token_id}", {"response": sent})

    assert answer.status_code == 302
    assert Charge.objects.get(pk=charge["id"]).verification == Verification.VERIFIED


def test_promo_code_lowers_the_price_by_its_own_rule(accepton, client):
    create_promo_code("TENOFF", "percentage", 10)  # sent in the account's scale
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id, promo_code="TENOFF").json()
    assert charge["amount"] == 2250

    answer = client.post(
        f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
    )

    assert answer["Location"].startswith(reverse("accepton:success"))
    row = Charge.objects.get(pk=charge["id"])
    assert (row.verification, row.amount, row.promo_code) == (Verification.VERIFIED, 2250, "TENOFF")


def test_a_code_with_a_long_name_explains_a_discount_and_is_recorded(accepton):
    name = "SPRING" + "X" * 150  # the admin and AcceptOn's codes allow 255 characters
    create_promo_code(name, "percentage", 10)
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id, promo_code=name).json()

    result = verify_charge(charge["id"], token_id)

    assert result.ok
    assert Charge.objects.get(pk=charge["id"]).promo_code == name


def test_a_code_deleted_after_the_payment_still_explains_it(accepton):
    create_promo_code("FLASH10", "percentage", 10)
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id, promo_code="FLASH10").json()
    # The flash sale ends in AcceptOn's dashboard before the claim is judged; the sync sees it.
    accepton.state.delete_promo_code("FLASH10")
    assert sync_promo_codes().deleted == 1

    result = verify_charge(charge["id"], token_id)

    assert result.ok
    assert Charge.objects.get(pk=charge["id"]).promo_code == "FLASH10"


def test_a_discount_that_cannot_be_judged_yet_keeps_the_claim_pending(accepton):
    accepton.state.create_promo_code("QUIET", "amount", 500)  # not mirrored here
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id, promo_code="QUIET").json()
    accepton.state.add_fault({"status": 404, "path_prefix": "/v1/promo_codes", "count": 3})

    result = verify_charge(charge["id"], token_id)

    # The promo list answered 404: the charge itself exists, so the claim is kept.
    assert result.reason is Reason.API_UNAVAILABLE
    assert Charge.objects.get(pk=charge["id"]).verification == Verification.PENDING
    accepton.state.clear_faults()
    (again,) = reverify_pending_charges(older_than=0)
    assert again.ok
    assert Charge.objects.get(pk=charge["id"]).promo_code == "QUIET"


def test_success_page_shows_the_charge(accepton, client):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    answer = client.post(
        f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
    )
    page = client.get(answer["Location"])
    assert page.status_code == 200
    assert charge["id"] in page.content.decode()
    assert "Order 1001" in page.content.decode()


def test_the_paid_page_thanks_only_for_a_verified_charge_of_its_token(accepton, client):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    before = client.get(f"{reverse('accepton:success')}?token={token_id}&charge={charge['id']}")
    assert "We have no confirmed payment" in before.content.decode()
    verify_charge(charge["id"], token_id)

    after = client.get(f"{reverse('accepton:success')}?token={token_id}&charge={charge['id']}")

    assert "Thank you, your payment was received." in after.content.decode()
    other = token_in(render_form({**PRODUCT, "description": "Order 1002"}))
    elsewhere = client.get(f"{reverse('accepton:success')}?token={other}&charge={charge['id']}")
    assert "We have no confirmed payment" in elsewhere.content.decode()


@pytest.mark.django_db(transaction=True)
def test_many_visits_of_the_confirming_page_at_once_ask_acceptOn_once(accepton, monkeypatch):
    from datetime import timedelta

    from django_accepton.services import verification

    # "At once" must not depend on the machine's speed: on a loaded machine the burst below can
    # outlast the real 5 s interval, and a later visit then rightly asks again.
    monkeypatch.setattr(verification, "RECHECK_INTERVAL", timedelta(minutes=10))
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    accepton.state.add_fault({"status": 503, "path_prefix": "/v1/charges", "count": 1})
    assert verify_charge(charge["id"], token_id).pending
    Charge.objects.update(last_attempt_at=None)
    accepton.state.add_fault({"status": 503, "path_prefix": "/v1/charges", "count": 50})
    accepton.state.clear_request_log()
    url = f"{reverse('accepton:pending')}?token={token_id}&charge={charge['id']}"

    # Customers' tabs, refreshing together: the throttle is one conditional update, not a read
    # then a write that all of them pass at once.
    _, errors = in_threads(20, lambda n: Client().get(url).status_code)

    assert errors == []
    assert accepton.state.request_count("GET", "/v1/charges/") == 1


def test_the_confirming_page_says_why_the_customer_waits(accepton, client):
    token_id = token_in(render_form(PRODUCT))
    accepton.state.set_charge_override(status="submitted_for_settlement")
    charge = pay(accepton, token_id).json()
    answer = client.post(
        f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
    )
    assert reverse("accepton:pending") in answer["Location"]
    Charge.objects.update(last_attempt_at=timezone.now())  # no look from the page itself

    page = client.get(answer["Location"]).content.decode()

    assert "has not confirmed it yet" in page
    assert "not answering" not in page


@pytest.mark.django_db(transaction=True)
def test_a_sale_costs_a_bounded_number_of_statements(accepton):
    # As in production (autocommit): read the token, insert the claim; in one transaction
    # consume the token and write the verdict, each a conditional update; then deliver (the
    # lease, and once the receivers returned, fulfilled). Six statements and one transaction.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = {"amount": 900, "currency": "usd", "description": "Order 5", "reference": "o-5"}
    token_id = token_in(render_form(order))
    charge = pay(accepton, token_id).json()

    with CaptureQueriesContext(connection) as statements:
        assert verify_charge(charge["id"], token_id).ok

    shown = [query["sql"][:60] for query in statements]
    assert [query["sql"] for query in statements if query["sql"].startswith("BEGIN")] == [
        "BEGIN" if connection.vendor == "postgresql" else "BEGIN IMMEDIATE"
    ] or connection.vendor not in ("postgresql", "sqlite"), shown
    assert len(statements) <= 8, shown
    assert Charge.objects.get(pk=charge["id"]).fulfilled_at is not None
