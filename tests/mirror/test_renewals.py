"""Renewals: the charges AcceptOn makes billing a subscription again, found by the charge sync
and linked to their subscription (services.renewals), never sold by a checkout claim."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from django_accepton.models import Charge, Subscription, Verification
from django_accepton.services.plans import create_plan
from django_accepton.services.recurring import recurring_token_for
from django_accepton.services.sync import sync_charges, sync_subscriptions
from django_accepton.services.verification import Reason, verify_charge
from tests.checkout.conftest import SUCCESS_CARD, render_form, token_in

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]


def subscribed(sandbox: Any, plan: Any, email: str) -> Subscription:
    """A first payment through the checkout, verified: the subscription it started."""
    token_id = recurring_token_for(plan).pk
    charge = sandbox.state.create_form_charge(
        token_id, SUCCESS_CARD, 12, date.today().year + 2, "123", email
    )
    assert verify_charge(charge["id"], token_id).ok
    subscription = Charge.objects.get(pk=charge["id"]).subscription
    assert subscription is not None
    return subscription


def renew(sandbox: Any, subscription_id: str) -> str:
    time.sleep(0.01)  # the sandbox dates to the millisecond
    return str(sandbox.state.bill_subscription(subscription_id)["charge"]["id"])


def test_a_renewal_is_linked_to_its_subscription_and_cannot_be_claimed(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    subscription = subscribed(accepton, plan, "ann@example.com")
    renewal = renew(accepton, subscription.pk)

    sync_charges(full=True)  # before the subscription sync sees it billed: order is free
    sync_subscriptions()

    row = Charge.objects.get(pk=renewal)
    assert (row.verification, row.renewal_of_id) == (Verification.RENEWAL, subscription.pk)
    assert list(subscription.renewals.values_list("pk", flat=True)) == [renewal]
    # Posted against the plan's token afterwards, it sells nothing.
    token_id = recurring_token_for(plan).pk
    assert verify_charge(renewal, token_id).reason is Reason.ALREADY_CLAIMED
    assert Charge.objects.filter(verification=Verification.VERIFIED).count() == 1


def test_each_renewal_goes_to_the_subscription_it_billed(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    first = subscribed(accepton, plan, "ann@example.com")
    second = subscribed(accepton, plan, "ann@example.com")  # Ann subscribed twice
    of_first = renew(accepton, first.pk)
    sync_subscriptions()
    sync_charges(full=True)
    of_second = renew(accepton, second.pk)
    sync_charges(full=True)
    sync_subscriptions()

    linked = dict(Charge.objects.filter(verification="renewal").values_list("pk", "renewal_of"))
    assert linked == {of_first: first.pk, of_second: second.pk}


def test_a_first_payment_nobody_claimed_is_not_taken_for_a_renewal(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    token_id = recurring_token_for(plan).pk
    accepton.state.create_form_charge(
        token_id, SUCCESS_CARD, 12, date.today().year + 2, "123", "ann@example.com"
    )  # the customer closed the tab: no claim, no linked first payment
    subscription_id = accepton.state.list_subscriptions()["data"][0]["id"]
    renew(accepton, subscription_id)

    sync_subscriptions()
    sync_charges(full=True)

    assert not Charge.objects.filter(verification=Verification.RENEWAL).exists()
    assert Charge.objects.filter(verification=Verification.UNCLAIMED).count() == 2


def test_a_one_off_charge_is_never_a_renewal(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    subscribed(accepton, plan, "ann@example.com")
    other = token_in(render_form({"amount": 1500, "currency": "usd", "description": "Ink pot"}))
    time.sleep(0.01)
    paid = accepton.state.create_form_charge(
        other, SUCCESS_CARD, 12, date.today().year + 2, "123", "ann@example.com"
    )["id"]

    sync_charges(full=True)

    assert Charge.objects.get(pk=paid).verification == Verification.UNCLAIMED


def test_a_payers_new_subscription_is_not_taken_for_a_renewal_of_their_old_one(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    old = subscribed(accepton, plan, "ann@example.com")
    token_id = recurring_token_for(plan).pk
    time.sleep(0.01)
    # Ann subscribes again and closes the tab before the redirect: the sync finds it first.
    again = accepton.state.create_form_charge(
        token_id, SUCCESS_CARD, 12, date.today().year + 2, "123", "ann@example.com"
    )["id"]
    sync_subscriptions()
    sync_charges(full=True)
    sync_subscriptions()

    assert Charge.objects.get(pk=again).verification == Verification.UNCLAIMED
    assert not old.renewals.exists()
    # Her browser comes back after all: the payment starts its own subscription.
    assert verify_charge(again, token_id).ok
    assert Charge.objects.get(pk=again).subscription_id not in (None, old.pk)


def test_a_billing_of_a_subscription_started_elsewhere_is_nobodys_renewal(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    ann = subscribed(accepton, plan, "ann@example.com")
    bob = accepton.state.create_subscription(plan.pk, "bob@example.com")  # no first payment here
    sync_subscriptions()
    of_bob = renew(accepton, bob["id"])
    of_ann = renew(accepton, ann.pk)

    sync_charges(full=True)
    sync_subscriptions()
    sync_charges(full=True)

    renewals = dict(Charge.objects.filter(verification="renewal").values_list("pk", "renewal_of"))
    assert renewals == {of_ann: ann.pk}
    assert Charge.objects.get(pk=of_bob).verification == Verification.UNCLAIMED
