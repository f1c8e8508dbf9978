"""Support reads charges and refunds part of one from the Django admin, on AcceptOn first.

With ``ACCEPTON_SCREENSHOTS`` set, these tests also take the admin's pictures in docs/admin.md,
at 1280 px, the width the lists are built for.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.utils import quote
from playwright.sync_api import expect
from store.models import Order

from django_accepton.models import Charge, PromoCode, RefundRequest, RefundState
from django_accepton.services.promo_codes import create_promo_code, percent_of
from tests.mirror.helpers import verified_charge

from .conftest import SUCCESS_CARD, fill_card, open_modal, place_order, shoot

pytestmark = pytest.mark.browser

ADMIN_VIEWPORT = {"width": 1280, "height": 800}


def admin_login(page, store, django_user_model, path: str) -> None:
    """Sign a superuser in through the admin's login page, on its way to ``path``."""
    django_user_model.objects.create_superuser("support", "support@example.com", "paper-and-ink")
    page.set_viewport_size(ADMIN_VIEWPORT)
    page.goto(f"{store.root}{path}")
    page.locator("#id_username").fill("support")
    page.locator("#id_password").fill("paper-and-ink")
    page.locator("input[type=submit]").click()
    # The navigation sidebar folded (the admin remembers it for the session's pages): the
    # lists are built to fit 1280 px beside their filters, not beside the sidebar too.
    page.locator("#toggle-nav-sidebar").click()
    expect(page.locator("#main")).not_to_have_class(re.compile(r"\bshifted\b"))
    page.evaluate("window.scrollTo(0, 0)")  # the click scrolls the button into view


def charge_url(charge: Charge, view: str = "change") -> str:
    # quote(): a charge id such as chg_40… holds "_40", which the admin reads as "@" unquoted.
    return f"/admin/django_accepton/charge/{quote(charge.pk)}/{view}/"


def test_an_admin_refunds_part_of_a_charge_with_the_refund_button(store, page, django_user_model):
    # Two earlier charges, so the list has more than one row.
    earlier = [
        verified_charge(store.sandbox, amount, order=f"B-{amount}") for amount in (1250, 8990)
    ]
    place_order(page, store)
    frame = open_modal(page)
    fill_card(frame, SUCCESS_CARD)
    frame.locator("#pay-button").click()
    expect(page.locator("#order-status")).to_have_text("Paid")
    charge = Charge.objects.exclude(pk__in=[c.pk for c in earlier]).get()

    admin_login(page, store, django_user_model, "/admin/django_accepton/charge/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    paid = rows.filter(has_text=charge.pk)
    expect(paid.locator(".field-charged")).to_have_text("$45.00")
    expect(rows.locator(".field-charged")).to_have_text(["$45.00", "$89.90", "$12.50"])
    # Every column visible: the table is no wider than its box (no horizontal scrolling).
    assert page.evaluate(
        "() => { const table = document.querySelector('#result_list');"
        " return table.scrollWidth <= table.closest('.results').clientWidth; }"
    )
    shoot(page, "admin-charges", full_page=True)

    page.goto(store.root + charge_url(charge))
    expect(page.locator("#content h1")).to_contain_text("charge")
    expect(page.locator(".field-charged .readonly")).to_have_text("$45.00")
    expect(page.locator(".field-amount_refunded_money .readonly")).to_have_text("$0.00")
    shoot(page, "admin-charge", full_page=True)

    page.locator("a.accepton-refund").click()
    expect(page.locator(".accepton-refund-summary")).to_contain_text(
        "Charged $45.00; $0.00 refunded or in progress; $45.00 left to refund."
    )
    expect(page.locator("#id_amount")).to_have_value("45.00")
    expect(page.locator(".field-amount")).to_contain_text("In USD, as money: $45.00 is left")
    page.locator("#id_reason").fill("Scratched nib")
    shoot(page, "admin-refund-form")
    # Too much: Django's error note at the top, the error under the amount, nothing refunded.
    page.locator("#id_amount").fill("45.01")
    page.locator("input[type=submit][value=Continue]").click()
    expect(page.locator("p.errornote")).to_be_visible()
    expect(page.locator(".field-amount .errorlist")).to_have_text(
        "At most $45.00 is left to refund on this charge."
    )
    expect(page.locator("#id_reason")).to_have_value("Scratched nib")
    assert not RefundRequest.objects.exists()
    page.locator("#id_amount").fill("15.00")
    page.locator("input[type=submit][value=Continue]").click()
    expect(page.locator(".accepton-confirm")).to_contain_text(f"Refund $15.00 of {charge.pk}")
    page.locator("input[type=submit][value='Yes, refund']").click()

    expect(page.locator("ul.messagelist")).to_contain_text(f"Refunded $15.00 of {charge.pk}.")
    expect(page.locator(".field-amount_refunded_money .readonly")).to_have_text("$15.00")
    # AcceptOn's own flag, read back after the refund: on at a partial refund where AcceptOn
    # turns it on then (the session's dialect; its documents leave it open).
    flag = store.sandbox.state.dialect.refunded_flag == "any"
    expect(page.locator(".field-refunded img")).to_have_attribute("alt", str(flag))
    expect(page.locator(".field-refunded .help")).to_contain_text("AcceptOn's own flag")
    expect(page.locator("#refund_requests-group")).to_contain_text("Scratched nib")
    expect(page.locator("#refund_requests-group")).to_contain_text("Succeeded")
    expect(page.locator("#refund_requests-group .field-money")).to_have_text("$15.00")
    shoot(page, "admin-refund", full_page=True)

    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded, charge.refundable_amount) == (
        1500,
        flag,
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


def test_a_promo_code_page_reads_its_rule_in_words(store, page, django_user_model):
    code = create_promo_code("SPRING15", "percentage", 15)

    admin_login(
        page, store, django_user_model, f"/admin/django_accepton/promocode/{quote(code.pk)}/change/"
    )

    expect(page.locator("#id_name")).to_have_value("SPRING15")
    expect(page.locator("#id_value")).to_have_value("15")
    expect(page.locator(".field-effect .readonly")).to_have_text("15 % off: 100.00 becomes 85.00")
    shoot(page, "admin-promo-code", full_page=True)
    # Saved from the page, a new value goes to AcceptOn first, then shows here.
    page.locator("#id_value").fill("20")
    page.locator("input[name=_continue]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".field-effect .readonly")).to_have_text("20 % off: 100.00 becomes 80.00")
    assert percent_of(PromoCode.objects.get()) == 20
