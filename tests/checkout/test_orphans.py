"""A customer who pays and never comes back still gets the order: the sync finds the charge."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.services.sync import sync_charges
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import Reason, claim_orphaned_charges
from tests.checkout.conftest import control, pay, render_form, token_in

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

ORDER = {"amount": 2200, "currency": "usd", "description": "Order 77", "reference": "order-77"}


def test_paid_but_never_returned_charge_is_claimed_for_its_order(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(ORDER))
    charge_id = pay(accepton, token_id).json()["id"]  # ...and the browser is closed
    sync_charges(full=True)
    assert Charge.objects.get(pk=charge_id).verification == Verification.UNCLAIMED

    with django_capture_on_commit_callbacks(execute=True):
        results = claim_orphaned_charges(older_than=0)

    assert [(r.reason, r.charge_id, r.token_id) for r in results] == [
        (Reason.OK, charge_id, token_id)
    ]
    assert Charge.objects.get(pk=charge_id).verification == Verification.VERIFIED
    assert TransactionToken.objects.get(pk=token_id).consumed_at is not None
    assert signal_log == [("verified", charge_id, token_id)]
    assert claim_orphaned_charges(older_than=0) == []


def test_the_customer_coming_back_later_sees_success(accepton, client):
    import json

    from django.urls import reverse

    token_id = token_in(render_form(ORDER))
    charge = pay(accepton, token_id).json()
    sync_charges(full=True)
    claim_orphaned_charges(older_than=0)
    answer = client.post(
        f"{reverse('accepton:return')}?token={token_id}", {"response": json.dumps(charge)}
    )
    assert answer["Location"].startswith(reverse("accepton:success"))


def test_two_orders_with_one_description_are_left_for_a_human(accepton):
    first = token_in(render_form(ORDER))
    token_in(render_form({**ORDER, "reference": "order-78"}))
    charge_id = pay(accepton, first).json()["id"]
    sync_charges(full=True)
    assert claim_orphaned_charges(older_than=0) == []
    assert Charge.objects.get(pk=charge_id).verification == Verification.UNCLAIMED


def test_a_token_for_a_bare_price_is_not_guessed(accepton):
    token_id = token_in(render_form({"amount": 2200, "currency": "usd", "description": "Gift"}))
    pay(accepton, token_id)
    sync_charges(full=True)
    assert claim_orphaned_charges(older_than=0) == []


def test_unpaid_charges_are_not_claimed(accepton):
    token_id = token_in(render_form(ORDER))
    control(accepton, "charge_overrides", {"status": "failed"})
    charge_id = pay(accepton, token_id).json()["id"]
    sync_charges(full=True)
    assert claim_orphaned_charges(older_than=0) == []
    assert Charge.objects.get(pk=charge_id).verification == Verification.UNCLAIMED


def test_recent_charges_wait_for_their_browser(accepton):
    token_id = token_in(render_form(ORDER))
    pay(accepton, token_id)
    sync_charges(full=True)
    assert claim_orphaned_charges(older_than=3600) == []


def test_sync_command_reports_claimed_orphans(accepton, capsys, settings):
    settings.ACCEPTON = {**settings.ACCEPTON, "PENDING_REVERIFY_AFTER": 0}
    token_id = token_in(render_form(ORDER))
    pay(accepton, token_id)
    call_command("sync_accepton", "charges", "--full")
    out = capsys.readouterr().out
    assert "Charges nobody came back with: 1 matched and verified, 0 rejected, 0 pending." in out


def test_after_a_price_change_the_orphan_goes_to_the_token_of_its_price(accepton):
    old = mint_token(ORDER, reuse=False)  # the first price of the order
    new = mint_token({**ORDER, "amount": 2500}, reuse=False)
    charge_id = pay(accepton, new.pk).json()["id"]  # paid at the new price, tab closed
    sync_charges(full=True)

    (result,) = claim_orphaned_charges(older_than=0)

    assert (result.reason, result.token_id) == (Reason.OK, new.pk)
    assert TransactionToken.objects.get(pk=old.pk).consumed_at is None
    assert Charge.objects.get(pk=charge_id).verification == Verification.VERIFIED
