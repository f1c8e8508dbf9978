"""A customer subscribes to a plan with its recurring token, then cancels."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from store.catalogue import ensure_remote_catalogue
from store.models import Membership

from .conftest import SUCCESS_CARD, fill_card, open_modal, shoot

pytestmark = pytest.mark.browser


def test_subscribe_with_the_plans_recurring_token_then_cancel(store, page):
    ensure_remote_catalogue()
    state = store.sandbox.state
    page.goto(store.url("/subscriptions/"))
    plan = page.locator(".plan", has_text="Ink club")
    expect(plan.locator(".price")).to_have_text("$15.00 / month")
    shoot(page, "subscriptions")

    frame = open_modal(page, plan)
    expect(frame.locator("#billing-period")).to_have_text("Billed every month until cancelled.")
    fill_card(frame, SUCCESS_CARD, email="bea@example.com")
    frame.locator("#pay-button").click()
    page.wait_for_url(re.compile(r"/store/memberships/[0-9a-f-]{36}/$"))
    expect(page.locator("#membership-status")).to_have_text("Active")
    expect(page.locator(".messages")).to_contain_text("Welcome to Ink club!")

    membership = Membership.objects.get()
    remote = state.retrieve_subscription(membership.subscription_id)
    assert remote["active"] is True
    assert remote["email"] == "bea@example.com"
    assert (membership.amount_paid, membership.plan_name) == (1500, "Ink club")

    page.locator("#cancel-subscription").click()
    expect(page.locator("#cancel-question")).to_contain_text("will not be billed $15.00 again")
    assert state.retrieve_subscription(membership.subscription_id)["active"] is True
    page.locator("#confirm-cancel").click()
    expect(page.locator("#membership-status")).to_have_text("Cancelled")
    assert state.retrieve_subscription(membership.subscription_id)["active"] is False
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED

    page.goto(store.url("/subscriptions/"))
    expect(page.locator("#memberships")).to_contain_text("Ink club")
    expect(page.locator("#memberships")).to_contain_text("Cancelled")
