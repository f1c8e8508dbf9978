"""A customer buys from the example store in a real browser, through the sandbox's form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect
from store.models import Order

from django_accepton.models import Charge, Verification

from .conftest import (
    DECLINE_CARD,
    SUCCESS_CARD,
    fill_card,
    inline_frame,
    open_modal,
    place_order,
    shoot,
)

pytestmark = pytest.mark.browser


def _return_posts(page: Any) -> list[Any]:
    """The form's POSTs to the store's redirect route, as the browser sent them."""
    posts: list[Any] = []
    page.on(
        "request",
        lambda request: (
            posts.append(request)
            if request.method == "POST" and "/accepton/return/" in request.url
            else None
        ),
    )
    return posts


def _pay(page: Any, frame: Any) -> None:
    frame.locator("#pay-button").click()
    expect(page.locator("#order-status")).to_have_text("Paid")


@pytest.mark.parametrize("form", ["modal", "inline"])
def test_a_card_payment_pays_the_order_exactly_once(store, page, signal_log, form):
    posts = _return_posts(page)
    page.goto(store.url("/products/fountain-pen/"))
    expect(page.locator("#price")).to_have_text("$45.00")
    if form == "modal":
        shoot(page, "product")
    order_url = place_order(page, store, query="?form=inline" if form == "inline" else "")
    expect(page.locator("#order-amount")).to_have_text("$45.00")
    expect(page.locator("#order-status")).to_have_text("Awaiting payment")

    frame = open_modal(page) if form == "modal" else inline_frame(page)
    expect(frame.locator("#amount")).to_have_text("$45.00 USD")
    fill_card(frame, SUCCESS_CARD)
    shoot(page, f"order-{form}", full_page=form == "inline")
    _pay(page, frame)
    expect(page.locator(".messages")).to_contain_text("Thank you! Your payment was received.")
    expect(page.locator("#order-paid")).to_have_text("$45.00")
    assert page.url == order_url
    if form == "modal":
        shoot(page, "order-paid")

    order = Order.objects.get()
    charge = Charge.objects.get()
    assert charge.verification == Verification.VERIFIED
    assert (charge.amount, charge.currency) == (4500, "usd")
    assert (order.status, order.amount_paid, order.charge_id) == ("paid", 4500, charge.pk)
    assert signal_log == [("verified", charge.pk)]
    paid_at = order.paid_at

    # A reload shows the same paid order and changes nothing.
    page.reload()
    expect(page.locator("#order-status")).to_have_text("Paid")
    # The browser posting the form's answer again (back button, a retry, a replay) pays nothing.
    assert len(posts) == 1
    again = page.request.post(
        posts[0].url,
        data=posts[0].post_data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.ok
    assert again.url == order_url

    assert Charge.objects.get().verification == Verification.VERIFIED
    order.refresh_from_db()
    assert (order.status, order.charge_id, order.paid_at) == ("paid", charge.pk, paid_at)
    assert signal_log == [("verified", charge.pk)]
    assert store.sandbox.state.list_charges()["total"] == 1


def test_a_declined_card_pays_nothing_and_says_so_in_the_form(store, page, signal_log):
    place_order(page, store)
    frame = open_modal(page)
    fill_card(frame, DECLINE_CARD)
    frame.locator("#pay-button").click()

    expect(frame.locator("#form-error")).to_have_text("Your card was declined.")
    expect(frame.locator("#card-number")).to_have_attribute("aria-invalid", "true")
    shoot(page, "declined-card")
    assert Order.objects.get().status == Order.Status.AWAITING_PAYMENT
    assert not Charge.objects.exists()
    assert signal_log == []
    assert store.sandbox.state.list_charges()["total"] == 0

    # The order stays payable: the customer corrects the card in the same form.
    frame.locator("#card-number").fill(SUCCESS_CARD)
    _pay(page, frame)
    assert Order.objects.get().status == Order.Status.PAID
    assert [kind for kind, _ in signal_log] == ["verified"]


def test_a_promo_code_lowers_the_charge_and_the_order_records_it(store, page, signal_log):
    # 10 % off, as the account's (fraction) scale stores it.
    store.sandbox.state.create_promo_code("WELCOME10", "percentage", 0.1)
    place_order(page, store)
    frame = open_modal(page)
    fill_card(frame, SUCCESS_CARD, promo="WELCOME10")
    _pay(page, frame)

    expect(page.locator("#order-paid")).to_contain_text("$40.50")
    expect(page.locator("#order-paid")).to_contain_text("WELCOME10")
    charge = Charge.objects.get()
    assert (charge.verification, charge.amount, charge.promo_code) == (
        Verification.VERIFIED,
        4050,
        "WELCOME10",
    )
    order = Order.objects.get()
    assert (order.amount, order.amount_paid, order.promo_code) == (4500, 4050, "WELCOME10")
    assert signal_log == [("verified", charge.pk)]


@pytest.mark.parametrize("answer", ["verified", "server error"])
def test_in_page_verification_pays_the_order_even_when_its_route_fails(
    store, page, signal_log, answer
):
    posts = _return_posts(page)
    if answer == "server error":
        # The JSON route answers something unreadable: the page falls back to the form's own
        # POST of the charge to the redirect route (a GET there would be a 405).
        page.route(
            "**/accepton/api/charges/verify/",
            lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>"),
        )
    place_order(page, store, query="?form=in-page")
    frame = open_modal(page)
    fill_card(frame, SUCCESS_CARD)

    _pay(page, frame)

    assert len([entry for entry in signal_log if entry[0] == "verified"]) == 1
    assert len(posts) == (1 if answer == "server error" else 0)


@pytest.mark.parametrize("storing", ["keeps going", "returns false", "returns false, route fails"])
def test_in_page_verification_reads_a_charge_given_as_json_text(store, page, signal_log, storing):
    """The form's callback gets "a charge property: the charge as JSON", which may be the
    JSON text of the charge; and a store callback returning false (AcceptOn's own example
    does) keeps the customer on the page without keeping the charge from being verified."""
    posts = _return_posts(page)
    place_order(page, store, query="?form=in-page")
    script = page.locator("script.accepton-button")
    token_id = script.get_attribute("data-token")
    charge = store.sandbox.state.create_form_charge(
        token_id, SUCCESS_CARD, 12, 2040, "123", "ann@example.com"
    )
    config_id = f"accepton-in-page-{token_id}"
    failures: list[str] = []
    if storing == "returns false, route fails":
        # The customer stays, and the first two verification requests get no readable answer:
        # the page sends it again until one does.
        def fail_twice(route: Any) -> None:
            if len(failures) < 2:
                failures.append(route.request.url)
                route.fulfill(status=502, body="<html>Bad gateway</html>")
            else:
                route.continue_()

        page.route("**/accepton/api/charges/verify/", fail_twice)
    if storing != "keeps going":
        # The store's callback, named in the page's configuration as the tag would name it.
        page.evaluate(
            """id => {
                window.storeSaysStay = function () { return false; };
                var element = document.getElementById(id);
                var config = JSON.parse(element.textContent);
                config.storeCallback = "storeSaysStay";
                element.textContent = JSON.stringify(config);
            }""",
            config_id,
        )
        page.evaluate(
            """id => {
                var script = document.getElementById(id).nextElementSibling;
                var copy = document.createElement("script");
                copy.textContent = script.textContent;
                document.body.appendChild(copy);
            }""",
            config_id,
        )
    before = page.url

    page.evaluate(
        "([name, text]) => window[name]({charge: text})",
        [f"acceptonVerify_{token_id}", json.dumps(charge)],
    )

    if storing != "keeps going":
        for _ in range(100):
            if signal_log:
                break
            page.wait_for_timeout(100)
        assert page.url == before
    else:
        expect(page.locator("#order-status")).to_have_text("Paid")
    assert signal_log == [("verified", charge["id"])]
    assert Charge.objects.get(pk=charge["id"]).verification == Verification.VERIFIED
    assert posts == []  # verified by the JSON route, not by the fallback's POST
    assert len(failures) == (2 if storing == "returns false, route fails" else 0)
