"""Plans are added on AcceptOn from the admin; subscriptions are cancelled there."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from django_accepton.models import Plan, Subscription, TransactionToken
from django_accepton.services.plans import create_plan
from django_accepton.services.recurring import set_recurring_token
from django_accepton.services.sync import sync_plans, sync_subscriptions
from tests.admin.conftest import messages_of
from tests.dialects import RTX_RETRIEVABLE, RTX_UNRETRIEVABLE
from tests.mirror.helpers import fault

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = reverse("admin:django_accepton_subscription_changelist")
ADD_PLAN = reverse("admin:django_accepton_plan_add")


@pytest.fixture
def subscriptions(accepton):
    plan = accepton.state.create_plan("Gold", 1500, "usd", "month")
    ids = [
        accepton.state.create_subscription(plan["id"], f"s{n}@example.com")["id"] for n in range(3)
    ]
    sync_plans()
    sync_subscriptions()
    return ids


def test_cancel_action_confirms_then_cancels_on_acceptOn(accepton, staff_client, subscriptions):
    canceller = staff_client("view_subscription", "cancel_subscription")
    chosen = {"action": "cancel_on_accepton", "_selected_action": subscriptions[:2]}

    confirm = canceller.post(SUBSCRIPTIONS, chosen)

    assert confirm.status_code == 200
    assert "s0@example.com" in confirm.content.decode()
    assert accepton.state.retrieve_subscription(subscriptions[0])["active"] is True

    done = canceller.post(SUBSCRIPTIONS, {**chosen, "confirmed": "yes"})

    assert done.status_code == 302
    remote = [accepton.state.retrieve_subscription(sub)["active"] for sub in subscriptions]
    assert remote == [False, False, True]
    local = dict(Subscription.objects.values_list("id", "active"))
    assert [local[sub] for sub in subscriptions] == [False, False, True]


def test_cancel_action_reports_acceptons_refusal(accepton, staff_client, subscriptions):
    accepton.state.cancel_subscription(subscriptions[0])  # cancelled elsewhere, not yet synced
    canceller = staff_client("view_subscription", "cancel_subscription")

    done = canceller.post(
        SUBSCRIPTIONS,
        {"action": "cancel_on_accepton", "_selected_action": subscriptions, "confirmed": "yes"},
    )

    assert messages_of(done) == [
        f"{subscriptions[0]}: Unable to cancel subscription with that ID.",
        "Cancelled 2 subscriptions.",
    ]


def test_cancel_action_needs_its_permission(accepton, staff_client, subscriptions):
    viewer = staff_client("view_subscription", "change_subscription")

    viewer.post(
        SUBSCRIPTIONS,
        {"action": "cancel_on_accepton", "_selected_action": subscriptions, "confirmed": "yes"},
    )

    assert all(accepton.state.retrieve_subscription(sub)["active"] for sub in subscriptions)
    assert "cancel_on_accepton" not in viewer.get(SUBSCRIPTIONS).content.decode()


def test_subscription_list_joins_plans(
    accepton, staff_client, subscriptions, django_assert_max_num_queries
):
    viewer = staff_client("view_subscription")

    with django_assert_max_num_queries(8):
        page = viewer.get(SUBSCRIPTIONS)

    assert page.status_code == 200
    assert "Gold" in page.content.decode()


def test_plan_add_form_creates_it_on_acceptOn(accepton, staff_client):
    planner = staff_client("add_plan", "view_plan")

    answer = planner.post(
        ADD_PLAN, {"name": "Platinum", "amount": "4900", "currency": "USD", "period_unit": "year"}
    )

    assert answer.status_code == 302
    plan = Plan.objects.get()
    remote = accepton.state.retrieve_plan(plan.pk)
    assert (remote["name"], remote["amount"], remote["currency"], remote["period_unit"]) == (
        "Platinum",
        4900,
        "usd",
        "year",
    )
    page = planner.get(reverse("admin:django_accepton_plan_change", args=[quote(plan.pk)]))
    assert 'name="_save"' not in page.content.decode()  # AcceptOn cannot change a plan


def test_a_refused_plan_is_shown_and_not_stored(accepton, staff_client):
    fault(accepton, status=400, error_type="invalid_name", message="That name is taken.")

    answer = staff_client("add_plan").post(
        ADD_PLAN, {"name": "Gold", "amount": "1500", "currency": "usd", "period_unit": "month"}
    )

    assert answer.status_code == 200
    assert "That name is taken." in answer.content.decode()
    assert not Plan.objects.exists()


def _plan_url(plan: Plan) -> str:
    return reverse("admin:django_accepton_plan_change", args=[quote(plan.pk)])


def test_the_plan_change_form_sets_only_the_recurring_token(accepton, staff_client):
    plan = create_plan("Gold", 1500, "usd", "month")
    made = accepton.state.create_recurring_token(plan.pk)["id"]
    editor = staff_client("view_plan", "change_plan")

    page = editor.get(_plan_url(plan)).content.decode()
    assert 'name="recurring_token"' in page
    assert 'name="name"' not in page
    assert 'name="amount"' not in page

    answer = editor.post(_plan_url(plan), {"recurring_token": made, "name": "X", "amount": "1"})

    assert answer.status_code == 302
    plan.refresh_from_db()
    assert (plan.recurring_token, plan.name, plan.amount) == (made, "Gold", 1500)
    token = TransactionToken.objects.get(pk=made)
    assert (token.target, token.amount, token.description) == (plan, 1500, "Gold")

    # Cleared again: the plan is no longer sold (outside the sandbox).
    assert editor.post(_plan_url(plan), {"recurring_token": ""}).status_code == 302
    plan.refresh_from_db()
    assert plan.recurring_token is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("silver", "is the token of plan"),
        ("rtx_nope", "AcceptOn has no such token on this account."),
        ("txn_abc", "A recurring token looks like rtx_"),
        ("taken", "Plan with this Recurring token already exists."),
    ],
)
@pytest.mark.accepton_dialect(RTX_RETRIEVABLE)
def test_a_token_acceptOn_does_not_confirm_is_refused(accepton, staff_client, value, message):
    gold = create_plan("Gold", 1500, "usd", "month")
    silver = create_plan("Silver", 900, "usd", "month")
    silver_token = accepton.state.create_recurring_token(silver.pk)["id"]
    if value == "rtx_nope":
        # "Not found" is believed once AcceptOn has described a recurring token here.
        set_recurring_token(silver, silver_token)
    if value == "silver":
        value = silver_token
    elif value == "taken":
        value = accepton.state.create_recurring_token(gold.pk)["id"]
        Plan.objects.filter(pk=silver.pk).update(recurring_token=value)

    answer = staff_client("view_plan", "change_plan").post(
        _plan_url(gold), {"recurring_token": value}
    )

    assert answer.status_code == 200
    assert message in answer.content.decode()
    gold.refresh_from_db()
    assert gold.recurring_token is None


@pytest.mark.accepton_dialect(RTX_UNRETRIEVABLE)
def test_a_token_acceptOn_cannot_describe_is_set_with_a_warning(accepton, staff_client):
    gold = create_plan("Gold", 1500, "usd", "month")
    made = accepton.state.create_recurring_token(gold.pk)["id"]

    answer = staff_client("view_plan", "change_plan").post(
        _plan_url(gold), {"recurring_token": made}, follow=True
    )

    assert answer.status_code == 200
    gold.refresh_from_db()
    assert gold.recurring_token == made
    assert "could not be checked" in answer.content.decode()


def test_without_change_plan_the_token_is_only_shown(accepton, staff_client):
    plan = create_plan("Gold", 1500, "usd", "month")
    Plan.objects.filter(pk=plan.pk).update(recurring_token="rtx_shown")
    viewer = staff_client("view_plan")
    page = viewer.get(_plan_url(plan)).content.decode()
    assert "rtx_shown" in page
    assert 'name="recurring_token"' not in page
    assert viewer.post(_plan_url(plan), {"recurring_token": ""}).status_code == 403
