"""Customer linkage: the signed-in user who checked out, on tokens, charges and subscriptions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from django_accepton.models import Charge, Subscription, TransactionToken
from django_accepton.services.plans import create_plan
from django_accepton.services.recurring import recurring_token_for
from django_accepton.services.verification import verify_charge
from tests.checkout.conftest import SUCCESS_CARD, pay, token_in

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

ORDER = {"amount": 4500, "currency": "usd", "description": "Order 8", "reference": "order-8"}


def render_as(user: Any, product: Any) -> str:
    request = RequestFactory().get("/orders/8/")
    request.user = user
    template = Template("{% load accepton %}{% accepton_form product %}")
    return template.render(Context({"product": product, "request": request}))


@pytest.fixture
def ann(db):
    return get_user_model().objects.create_user("ann")


def test_a_signed_in_customers_payment_is_theirs(accepton, ann):
    token_id = token_in(render_as(ann, ORDER))
    charge_id = pay(accepton, token_id).json()["id"]

    assert verify_charge(charge_id, token_id).ok

    assert TransactionToken.objects.get(pk=token_id).user == ann
    assert list(Charge.objects.for_user(ann).values_list("pk", flat=True)) == [charge_id]
    assert not Charge.objects.for_user(AnonymousUser()).exists()
    assert not Charge.objects.for_user(None).exists()


def test_two_users_never_share_a_token_and_anonymous_pays_as_nobody(accepton, ann):
    bob = get_user_model().objects.create_user("bob")
    tokens = {token_in(render_as(user, ORDER)) for user in (ann, bob, AnonymousUser())}
    assert len(tokens) == 3
    anonymous = token_in(render_as(AnonymousUser(), ORDER))
    charge_id = pay(accepton, anonymous).json()["id"]

    assert verify_charge(charge_id, anonymous).ok

    assert Charge.objects.get(pk=charge_id).user is None


def test_a_subscriber_is_linked_to_their_subscription(accepton, ann):
    plan = create_plan("Ink club", 1500, "usd", "month")
    token_id = recurring_token_for(plan).pk  # one token for every subscriber
    charge = accepton.state.create_form_charge(
        token_id, SUCCESS_CARD, 12, date.today().year + 2, "123", "ann@example.com"
    )

    assert verify_charge(charge["id"], token_id, user=ann).ok

    (subscription,) = Subscription.objects.for_user(ann)
    assert subscription.pk == Charge.objects.get(pk=charge["id"]).subscription_id
    assert Charge.objects.for_user(ann).get().pk == charge["id"]
