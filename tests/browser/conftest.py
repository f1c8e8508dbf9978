"""Chromium, driven by Playwright, buying from the example store served by ``live_server``.

The store runs in the test process (its app is installed in tests/settings.py and its URLs are
under /store/); the AcceptOn side is the session's sandbox server, so the browser loads the
real ``accepton.js`` and the hosted form from the sandbox's own address, as it would from
AcceptOn's.

One browser for the session, a fresh context (cookies, storage) per test. Set
``ACCEPTON_SCREENSHOTS`` to a folder (``make screenshots`` uses docs/screenshots) to save
pictures of the key pages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from django_accepton.signals import charge_rejected, charge_verified

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = os.environ.get("ACCEPTON_SCREENSHOTS", "")

SUCCESS_CARD = "4242 4242 4242 4242"
DECLINE_CARD = "4000 0000 0000 0002"

ORDER_PAGE = re.compile(r"/store/orders/[0-9a-f-]{36}/$")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"No Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    from playwright.sync_api import expect, sync_playwright

    # expect() has its own 5 s default; a 2-core machine running the store, the sandbox and
    # Chromium at once can need longer for a page that does arrive.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def store(accepton: Any, settings: Any, live_server: Any, transactional_db: None) -> Any:
    """The example store on the live server, paid through the session's sandbox.

    Answers an object with ``url(path)``, the sandbox (``.sandbox``) and the store's models.
    """
    from store.management.commands.seed_store import PRODUCTS
    from store.models import Product

    settings.ACCEPTON = {
        **settings.ACCEPTON,
        "SUCCESS_URL": "store:order_status",
        "FAILURE_URL": "store:order_status",
        "PENDING_URL": "store:order_status",
    }
    for slug, name, blurb, price in PRODUCTS:
        Product.objects.create(slug=slug, name=name, blurb=blurb, price=price)

    class Store:
        sandbox = accepton
        root = live_server.url

        @staticmethod
        def url(path: str = "/") -> str:
            return f"{live_server.url}/store{path}"

    return Store()


@pytest.fixture
def signal_log() -> Iterator[list[tuple[str, str]]]:
    """Every charge_verified / charge_rejected sent while the test runs (any thread)."""
    log: list[tuple[str, str]] = []

    def on_verified(sender: Any, charge: Any, token: Any, **kwargs: Any) -> None:
        log.append(("verified", charge.pk))

    def on_rejected(sender: Any, charge_id: str, reason: str, **kwargs: Any) -> None:
        log.append(("rejected", str(reason)))

    charge_verified.connect(on_verified, weak=False, dispatch_uid="browser-verified")
    charge_rejected.connect(on_rejected, weak=False, dispatch_uid="browser-rejected")
    yield log
    charge_verified.disconnect(dispatch_uid="browser-verified")
    charge_rejected.disconnect(dispatch_uid="browser-rejected")


def shoot(page: Any, name: str, *, full_page: bool = False) -> None:
    """Save ``<ACCEPTON_SCREENSHOTS>/<name>.png`` when screenshots were asked for."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    if full_page:
        # Playwright's own full-page capture resizes the page behind the payment frame's back,
        # and the frame (another renderer process) is pictured at its old size. A viewport as
        # tall as the page avoids that.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": height})
    # The payment form is a cross-origin frame, painted by another renderer process: give it a
    # moment to paint what was just typed, or the picture shows the frame a step behind.
    page.wait_for_timeout(300)
    page.screenshot(path=str(folder / f"{name}.png"), animations="disabled")
    if full_page:
        page.set_viewport_size(viewport)


def fill_card(frame: Any, card: str, *, email: str = "ann@example.com", promo: str = "") -> None:
    """Type into the hosted form (its element ids are listed in docs/sandbox-form.md)."""
    frame.locator("#email").fill(email)
    frame.locator("#card-number").fill(card)
    frame.locator("#exp-month").fill("12")
    frame.locator("#exp-year").fill(str(date.today().year + 2))
    frame.locator("#cvc").fill("123")
    if promo:
        frame.locator("#promo-code").fill(promo)


def open_modal(page: Any, scope: Any = None) -> Any:
    """Press the loader's Pay Now button; answer the modal's frame once its form is ready."""
    (scope or page).locator("button.accepton-button-submit").click()
    frame = page.frame_locator("iframe.accepton-modal-app")
    frame.locator("#pay-button:enabled").wait_for()
    return frame


def inline_frame(page: Any) -> Any:
    frame = page.frame_locator("#payment-form iframe.accepton-inline-app")
    frame.locator("#pay-button:enabled").wait_for()
    return frame


def place_order(page: Any, store: Any, slug: str = "fountain-pen", query: str = "") -> str:
    """Open a product and check out: answers the new order's page URL."""
    page.goto(store.url(f"/products/{slug}/"))
    page.locator("#checkout").click()
    page.wait_for_url(ORDER_PAGE)
    if query:
        page.goto(page.url + query)
    return page.url.split("?")[0]
