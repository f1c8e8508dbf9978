"""Plans are created on AcceptOn, then mirrored; subscriptions are cancelled there first."""

from __future__ import annotations

import pytest

from django_accepton.client import InvalidRequestError
from django_accepton.models import Plan, Subscription
from django_accepton.services.plans import create_plan
from django_accepton.services.subscriptions import cancel_subscription
from django_accepton.services.sync import sync_subscriptions
from tests.mirror.helpers import fault

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]


def test_create_plan_mirrors_acceptons_plan(accepton):
    plan = create_plan("Gold", 1500, "usd", "month")

    remote = accepton.state.retrieve_plan(plan.pk)
    assert (remote["name"], remote["amount"], remote["period_unit"]) == ("Gold", 1500, "month")
    plan.refresh_from_db()
    assert (plan.environment, plan.name, plan.amount, plan.currency) == (
        "sandbox",
        "Gold",
        1500,
        "usd",
    )
    assert plan.raw == remote


def test_a_refused_plan_is_not_stored(accepton):
    fault(accepton, status=400, error_type="invalid_name", message="Name taken.")

    with pytest.raises(InvalidRequestError, match="Name taken"):
        create_plan("Gold", 1500, "usd", "month")
    with pytest.raises(ValueError, match="period_unit"):
        create_plan("Gold", 1500, "usd", "week")

    assert not Plan.objects.exists()


def test_cancel_reaches_acceptOn_then_the_row(accepton):
    plan = create_plan("Gold", 1500, "usd", "month")
    remote = accepton.state.create_subscription(plan.pk, "ann@example.com")
    sync_subscriptions()

    cancelled = cancel_subscription(remote["id"])

    assert accepton.state.retrieve_subscription(remote["id"])["active"] is False
    assert cancelled.active is False
    row = Subscription.objects.select_related("plan").get(pk=remote["id"])
    assert (row.active, row.plan, row.email) == (False, plan, "ann@example.com")


def test_cancelling_twice_is_refused_and_changes_nothing(accepton):
    plan = create_plan("Gold", 1500, "usd", "month")
    remote = accepton.state.create_subscription(plan.pk, "ann@example.com")
    sync_subscriptions()
    cancel_subscription(remote["id"])
    before = Subscription.objects.values().get(pk=remote["id"])

    with pytest.raises(InvalidRequestError, match="Unable to cancel"):
        cancel_subscription(remote["id"])

    assert Subscription.objects.values().get(pk=remote["id"]) == before


def test_a_subscription_whose_plan_is_not_synced_still_syncs(accepton):
    remote_plan = accepton.state.create_plan("Silver", 900, "usd", "year")
    remote = accepton.state.create_subscription(remote_plan["id"], "bob@example.com")

    sync_subscriptions()

    row = Subscription.objects.select_related("plan").get(pk=remote["id"])
    assert (row.plan_id, row.plan) == (remote_plan["id"], None)
