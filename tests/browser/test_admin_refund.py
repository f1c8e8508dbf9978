"""Support refunds part of a charge from the Django admin, on AcceptOn first."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from playwright.sync_api import expect
from store.models import Order

from django_accepton.models import Charge, RefundRequest, RefundState

from .conftest import SUCCESS_CARD, fill_card, open_modal, place_order, shoot

pytestmark = pytest.mark.browser


def test_an_admin_refunds_part_of_a_charge_with_the_refund_button(store, page, django_user_model):
    place_order(page, store)
    frame = open_modal(page)
    fill_card(frame, SUCCESS_CARD)
    frame.locator("#pay-button").click()
    expect(page.locator("#order-status")).to_have_text("Paid")
    charge = Charge.objects.get()

    django_user_model.objects.create_superuser("support", "support@example.com", "paper-and-ink")
    # quote(): a charge id such as chg_40… holds "_40", which the admin reads as "@" unquoted.
    page.goto(f"{store.root}/admin/django_accepton/charge/{quote(charge.pk)}/change/")
    page.locator("#id_username").fill("support")
    page.locator("#id_password").fill("paper-and-ink")
    page.locator("input[type=submit]").click()
    expect(page.locator("#content h1")).to_contain_text("charge")

    page.locator("a.accepton-refund").click()
    expect(page.locator("#id_amount")).to_have_value("4500")
    page.locator("#id_amount").fill("1500")
    page.locator("#id_reason").fill("Scratched nib")
    page.locator("input[type=submit][value=Continue]").click()
    expect(page.locator(".accepton-confirm")).to_contain_text(f"Refund $15.00 of {charge.pk}")
    page.locator("input[type=submit][value='Yes, refund']").click()

    expect(page.locator("ul.messagelist")).to_contain_text(f"Refunded $15.00 of {charge.pk}.")
    expect(page.locator(".field-amount_refunded .readonly")).to_have_text("1500")
    expect(page.locator(".field-refunded img")).to_have_attribute("alt", "False")
    expect(page.locator("#refund_requests-group")).to_contain_text("Scratched nib")
    expect(page.locator("#refund_requests-group")).to_contain_text("Succeeded")
    shoot(page, "admin-refund", full_page=True)

    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded, charge.refundable_amount) == (
        1500,
        False,
        3000,
    )
    request = RefundRequest.objects.get()
    assert (request.amount, request.state, request.reason) == (
        1500,
        RefundState.SUCCEEDED,
        "Scratched nib",
    )
    assert request.requested_by.username == "support"
    assert [r["amount"] for r in store.sandbox.state.refunds_for_charge(charge.pk)] == [1500]
    # The store hears of it: the order says Partly refunded, with the amount.
    order = Order.objects.get()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTLY_REFUNDED, 1500)
    page.goto(store.root + order.get_absolute_url())
    expect(page.locator("#order-status")).to_have_text("Partly refunded")
    expect(page.locator("#order-refunded")).to_contain_text("$15.00")
