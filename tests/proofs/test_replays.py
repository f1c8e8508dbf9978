"""Replays and forged charges, in batches, through the route AcceptOn's form posts to.

Each submission is what an attacker controls: a charge id and the token in the redirect URI.
The route is CSRF-exempt by design (docs/security.md), so it is the surface to measure. A
submission counts as accepted if it reaches the success page, consumes its token or sends
``charge_verified``; the figure is how many of the batch did.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from django_accepton.models import TransactionToken
from django_accepton.services.verification import verify_charge
from tests.checkout.conftest import control, pay, render_form, token_in

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

BATCH = 10
PRICE = 4000


def new_token(order: str, description: str = "") -> str:
    product = {
        "amount": PRICE,
        "currency": "usd",
        "description": description or order,
        "reference": order,
    }
    return token_in(render_form(product))


def replayed_for_second_order(sandbox, order: str) -> tuple[str, str]:
    """A charge that really paid one order, submitted again for another order of the same price
    and the same description (a catalogue item's name), so only the claim can tell them apart."""
    first = new_token(f"{order}-a", description="Blue T-shirt")
    charge_id = pay(sandbox, first).json()["id"]
    assert verify_charge(charge_id, first).ok
    return charge_id, new_token(f"{order}-b", description="Blue T-shirt")


def forged(override: dict[str, object]) -> Callable[[object, str], tuple[str, str]]:
    """A charge made through the form but differing from its token, as AcceptOn reports it."""

    def make(sandbox, order: str) -> tuple[str, str]:
        token_id = new_token(order)
        control(sandbox, "charge_overrides", override)
        return pay(sandbox, token_id).json()["id"], token_id

    return make


def unknown_charge(sandbox, order: str) -> tuple[str, str]:
    return f"chg_{secrets.token_hex(12)}", new_token(order)


KINDS: dict[str, Callable[[object, str], tuple[str, str]]] = {
    "paid charge for a second order": replayed_for_second_order,
    "lower amount": forged({"amount": PRICE - 1}),
    "higher amount": forged({"amount": PRICE + 1}),
    "other currency": forged({"currency": "eur"}),
    "status pending": forged({"status": "pending"}),
    "status failed": forged({"status": "failed"}),
    "another order's description": forged({"description": "Some other order"}),
    "unknown charge id": unknown_charge,
}


@pytest.mark.parametrize("kind", KINDS)
def test_replayed_and_forged_charges_are_never_accepted(
    accepton, kind, signal_log, proof, django_capture_on_commit_callbacks
):
    client = Client(raise_request_exception=False)
    success = reverse("accepton:success")
    submitted: list[tuple[str, str]] = []
    accepted = 0
    for number in range(BATCH):
        with django_capture_on_commit_callbacks(execute=True):
            charge_id, token_id = KINDS[kind](accepton, f"Order {kind} {number}")
        fulfilled_before = len(signal_log)
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                f"{reverse('accepton:return')}?token={token_id}",
                {"response": json.dumps({"id": charge_id})},
            )
        assert answer.status_code == 302, answer.status_code
        consumed = TransactionToken.objects.get(pk=token_id).consumed_at is not None
        verified = any(
            entry[0] == "verified" and entry[2] == token_id
            for entry in signal_log[fulfilled_before:]
        )
        if answer["Location"].startswith(success) or consumed or verified:
            accepted += 1
        submitted.append((charge_id, token_id))

    proof(f"replay '{kind}': accepted", f"{accepted} of {BATCH}", f"0 of {BATCH}")
    assert len(set(submitted)) == BATCH
    assert accepted == 0
