"""The example store without a browser: money, outcomes, subscriptions, seeding."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from store import catalogue
from store.models import Membership, Order, Product
from store.money import format_money

from django_accepton.models import Charge, Plan, Subscription, Verification
from django_accepton.services.recurring import set_recurring_token
from django_accepton.services.refunds import refund
from django_accepton.services.sync import sync_charges, sync_subscriptions

CARD = "4242424242424242"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (4500, "usd", "$45.00"),
        (5, "usd", "$0.05"),
        (123456789, "eur", "€1,234,567.89"),
        (1250, "jpy", "¥1,250"),
        (990, "chf", "9.90 CHF"),
        (1500, "kwd", "1.500 KWD"),
        (-250, "gbp", "-£2.50"),
        (None, "usd", ""),
    ],
)
def test_money(amount, currency, text):
    assert format_money(amount, currency) == text


def test_money_filter():
    template = Template("{% load store_tags %}{{ amount|money:currency }}")
    assert template.render(Context({"amount": 4500, "currency": "usd"})) == "$45.00"


@pytest.fixture
def outcomes(accepton, settings, transactional_db):
    # Orders and memberships come from charge_verified receivers, sent when the transaction
    # commits; every outcome of a payment leads to the store's status view.
    settings.ACCEPTON = {
        **settings.ACCEPTON,
        "SUCCESS_URL": "store:order_status",
        "FAILURE_URL": "store:order_status",
        "PENDING_URL": "store:order_status",
    }


@pytest.fixture
def shop(outcomes):
    return Product.objects.create(slug="pen", name="Pen", price=4500)


def _order_with_token(client: Any, product: Product) -> tuple[Order, str]:
    answer = client.post(reverse("store:buy", args=[product.slug]))
    order = Order.objects.get()
    assert answer["Location"] == order.get_absolute_url()
    page = client.get(order.get_absolute_url()).content.decode()
    token = page.split('data-token="')[1].split('"')[0]
    return order, token


def _return(client: Any, token: str, charge_id: str) -> Any:
    return client.post(
        f"{reverse('accepton:return')}?token={token}",
        {"response": json.dumps({"id": charge_id})},
        follow=True,
    )


def test_the_order_page_sells_the_order_and_shows_money(client, shop):
    order, token = _order_with_token(client, shop)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "$45.00" in page
    assert token.startswith("txn_")
    assert 'data-target="payment-form"' not in page
    inline = client.get(order.get_absolute_url() + "?form=inline").content.decode()
    assert 'data-target="payment-form"' in inline
    # The same order at the same price keeps its token.
    assert f'data-token="{token}"' in inline


def test_a_paid_order_says_thank_you(client, shop, accepton):
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    answer = _return(client, token, charge["id"])
    assert answer.redirect_chain[-1][0] == order.get_absolute_url()
    assert "Thank you! Your payment was received." in answer.content.decode()
    order.refresh_from_db()
    assert (order.status, order.amount_paid, order.charge_id) == ("paid", 4500, charge["id"])


def test_a_refused_charge_leaves_the_order_payable_with_a_reason(client, shop, accepton):
    order, token = _order_with_token(client, shop)
    accepton.state.set_charge_override(amount=100)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    answer = _return(client, token, charge["id"])
    page = answer.content.decode()
    assert "The payment did not match the order&#x27;s price." in page
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


def test_an_unreachable_acceptOn_means_confirming_then_paid(client, shop, accepton):
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    accepton.state.add_fault({"status": 503, "count": 1, "path_prefix": "/v1/charges"})
    answer = _return(client, token, charge["id"])
    assert "We are confirming your payment" in answer.content.decode()
    assert '<meta http-equiv="refresh" content="5">' in answer.content.decode()
    claim = Charge.objects.get()
    assert claim.verification == Verification.PENDING
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT

    # The page refreshes itself; once AcceptOn answers again, the order is paid.
    Charge.objects.filter(pk=claim.pk).update(last_attempt_at=timezone.now() - timedelta(minutes=1))
    status_url = answer.redirect_chain[-1][0]
    again = client.get(status_url, follow=True)
    assert "Thank you! Your payment was received." in again.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_unknown_token_is_not_an_order(client, shop):
    assert client.get(reverse("store:order_status") + "?token=txn_nope").status_code == 404


@pytest.mark.postgres
def test_the_status_page_ignores_ids_that_are_not_ids(client, shop, accepton):
    assert connection.vendor == "postgresql"
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    _return(client, token, charge["id"])
    status_url = reverse("store:order_status")
    # PostgreSQL refuses a NUL byte in any query: looked up, it was a 500.
    assert client.get(f"{status_url}?token={token}%00").status_code == 404
    answer = client.get(f"{status_url}?token={token}&charge=chg_%00")
    assert answer["Location"] == order.get_absolute_url()


# ----- subscriptions --------------------------------------------------------------------------


@pytest.fixture
def plans(outcomes):
    catalogue.ensure_remote_catalogue()
    return {offer.plan.name: offer for offer in catalogue.offers()}


def _subscribe(client: Any, accepton: Any, offer: Any, email: str = "bea@example.com") -> Any:
    charge = accepton.state.create_form_charge(offer.token, CARD, 12, 2040, "123", email)
    return charge, _return(client, offer.token, charge["id"])


def test_seeding_is_idempotent_on_both_sides(accepton, db):
    call_command("seed_store", verbosity=0)
    call_command("seed_store", verbosity=0)
    assert Product.objects.count() == 4
    assert accepton.state.list_plans()["total"] == len(catalogue.PLANS)
    assert accepton.state.list_promo_codes()["total"] == 1
    assert Plan.objects.filter(deleted_at__isnull=True).count() == len(catalogue.PLANS)


def test_subscribing_records_one_membership_per_payment(client, accepton, plans):
    offer = plans["Ink club"]
    assert offer.token.startswith("rtx_")
    charge, answer = _subscribe(client, accepton, offer)
    membership = Membership.objects.get()
    assert answer.redirect_chain[-1][0] == membership.get_absolute_url()
    assert "Welcome to Ink club!" in answer.content.decode()
    remote = accepton.state.retrieve_subscription(membership.subscription_id)
    assert (remote["email"], remote["active"]) == ("bea@example.com", True)
    # Mirrored at once, so the admin shows it before the next sync.
    assert Subscription.objects.get(pk=membership.subscription_id).active is True

    # The form's answer arriving again subscribes nobody twice.
    _return(client, offer.token, charge["id"])
    assert Membership.objects.count() == 1
    # Nor can that payment be presented for another plan.
    other = plans["Letter of the month"]
    answer = _return(client, other.token, charge["id"])
    assert "already used for another plan" in answer.content.decode()
    assert Membership.objects.count() == 1


def test_a_payment_for_another_plan_subscribes_to_nothing(client, accepton, plans):
    ink, letters = plans["Ink club"], plans["Letter of the month"]
    charge = accepton.state.create_form_charge(ink.token, CARD, 12, 2040, "123", "c@example.com")
    answer = _return(client, letters.token, charge["id"])
    assert "did not match the plan&#x27;s price" in answer.content.decode()
    assert not Membership.objects.exists()


def test_a_promo_code_may_lower_the_first_payment(client, accepton, plans):
    offer = plans["Ink club"]
    charge = accepton.state.create_form_charge(
        offer.token, CARD, 12, 2040, "123", "d@example.com", promo_code="WELCOME10"
    )
    _return(client, offer.token, charge["id"])
    membership = Membership.objects.get()
    assert (membership.amount_paid, membership.promo_code) == (1350, "WELCOME10")


def test_cancelling_goes_to_acceptOn_first_then_the_mirror(client, accepton, plans):
    _subscribe(client, accepton, plans["Ink club"])
    membership = Membership.objects.get()
    accepton.state.add_fault({"status": 503, "path_prefix": "/v1/subscriptions", "method": "POST"})
    asked = client.post(reverse("store:membership_cancel", args=[membership.public_id]))
    assert "this cannot be undone" in asked.content.decode()  # the button asks first
    answer = client.post(
        reverse("store:membership_cancel", args=[membership.public_id]),
        {"confirm": "yes"},
        follow=True,
    )
    assert "could not reach the payment service" in answer.content.decode()
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE

    client.post(reverse("store:membership_cancel", args=[membership.public_id]), {"confirm": "yes"})
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert accepton.state.retrieve_subscription(membership.subscription_id)["active"] is False
    assert Subscription.objects.get(pk=membership.subscription_id).active is False


def test_the_subscriptions_page_offers_the_mirrored_plans(client, accepton, plans):
    page = client.get(reverse("store:subscriptions")).content.decode()
    assert page.count('class="accepton-button"') == 3
    assert "$15.00" in page
    assert "/ year" in page
    # A plan a full sync found gone from AcceptOn is no longer offered.
    Plan.objects.filter(name="Ink club").update(deleted_at=timezone.now())
    page = client.get(reverse("store:subscriptions")).content.decode()
    assert page.count('class="accepton-button"') == 2
    assert "Ink club" not in page


def test_cancelling_reaches_acceptOn_and_survives_a_dashboard_cancel(client, accepton, plans):
    _subscribe(client, accepton, plans["Ink club"])
    membership = Membership.objects.get()
    # Cancelled in AcceptOn's dashboard first: cancelling here still ends in "cancelled".
    accepton.state.cancel_subscription(membership.subscription_id)
    client.post(reverse("store:membership_cancel", args=[membership.public_id]), {"confirm": "yes"})
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED


def test_a_malformed_answer_is_a_bad_request(client, accepton, plans):
    offer = plans["Ink club"]
    url = f"{reverse('accepton:return')}?token={offer.token}"
    assert client.post(url, {"response": "{not json"}).status_code == 400


def test_configured_recurring_tokens_win(accepton, plans):
    offer = plans["Ink club"]
    from_the_dashboard = accepton.state.create_recurring_token(offer.plan.id)["id"]
    set_recurring_token(offer.plan, from_the_dashboard)
    offered = {offer.plan.name: offer for offer in catalogue.offers()}
    assert offered["Ink club"].token == from_the_dashboard


def test_the_store_migrations_are_complete(db):
    call_command("makemigrations", "store", "--check", "--dry-run", verbosity=0)


def test_an_unreachable_acceptOn_means_confirming_then_a_membership(client, accepton, plans):
    offer = plans["Ink club"]
    charge = accepton.state.create_form_charge(offer.token, CARD, 12, 2040, "123", "e@example.com")
    accepton.state.add_fault({"status": 503, "count": 1, "path_prefix": "/v1/charges"})
    answer = _return(client, offer.token, charge["id"])
    assert "We are confirming your payment" in answer.content.decode()
    assert "Ink club ($15.00)" in answer.content.decode()
    assert not Membership.objects.exists()

    Charge.objects.filter(pk=charge["id"]).update(
        last_attempt_at=timezone.now() - timedelta(minutes=1)
    )
    again = client.get(answer.redirect_chain[-1][0], follow=True)
    membership = Membership.objects.get()
    assert again.redirect_chain[-1][0] == membership.get_absolute_url()
    assert "Welcome to Ink club!" in again.content.decode()
    assert membership.subscription_id == Charge.objects.get(pk=charge["id"]).subscription_id


@pytest.fixture
def atomic_requests():
    """ATOMIC_REQUESTS on, as many projects have it."""
    before = connection.settings_dict.get("ATOMIC_REQUESTS", False)
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    yield
    connection.settings_dict["ATOMIC_REQUESTS"] = before


def test_with_atomic_requests_a_paid_order_says_thank_you(client, shop, accepton, atomic_requests):
    # The verdict and its announcement are committed before the customer is sent on to the
    # page that reads the order.
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")

    answer = _return(client, token, charge["id"])

    assert "Thank you! Your payment was received." in answer.content.decode()
    order.refresh_from_db()
    assert (order.status, order.charge_id) == ("paid", charge["id"])
    assert Charge.objects.get().fulfilled_at is not None


def test_with_atomic_requests_the_in_page_route_pays_the_order(
    client, shop, accepton, atomic_requests
):
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")

    answer = client.post(
        reverse("accepton:verify"),
        {"charge_id": charge["id"], "token": token},
        content_type="application/json",
    )

    assert answer.status_code == 200, answer.content
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_with_atomic_requests_a_payment_confirmed_late_pays_the_order(
    client, shop, accepton, atomic_requests
):
    # The status page that confirms a pending payment reads the order right after: the
    # verdict must be committed, and announced, by then.
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    accepton.state.add_fault({"status": 503, "count": 1, "path_prefix": "/v1/charges"})
    answer = _return(client, token, charge["id"])
    assert "We are confirming your payment" in answer.content.decode()
    Charge.objects.update(last_attempt_at=timezone.now() - timedelta(minutes=1))

    again = client.get(answer.redirect_chain[-1][0], follow=True)

    assert "Thank you! Your payment was received." in again.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_order_says_how_much_was_refunded(client, shop, accepton):
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    _return(client, token, charge["id"])

    refund(charge["id"], 1500)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTLY_REFUNDED, 1500)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Partly refunded" in page
    assert "$15.00" in page

    refund(charge["id"], 3000)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 4500)


def test_a_refund_made_in_acceptOns_dashboard_reaches_the_order(client, shop, accepton):
    order, token = _order_with_token(client, shop)
    charge = accepton.state.create_form_charge(token, CARD, 12, 2040, "123", "a@example.com")
    _return(client, token, charge["id"])
    accepton.state.create_refund(charge["id"], 4500)

    sync_charges(full=True)

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_a_membership_cancelled_in_acceptOns_dashboard_says_cancelled(client, accepton, plans):
    _subscribe(client, accepton, plans["Ink club"])
    membership = Membership.objects.get()
    accepton.state.cancel_subscription(membership.subscription_id)

    sync_subscriptions()

    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED


def test_a_membership_page_follows_the_mirrored_subscription(client, accepton, plans):
    _subscribe(client, accepton, plans["Ink club"])
    membership = Membership.objects.get()
    # The mirror says cancelled (a sync wrote it while no receiver listened, say).
    Subscription.objects.filter(pk=membership.subscription_id).update(active=False)

    page = client.get(membership.get_absolute_url()).content.decode()

    assert 'id="membership-status">Cancelled' in page
    assert "cancel-subscription" not in page
