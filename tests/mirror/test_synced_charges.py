"""A charge the sync copied before anyone claimed it neither blocks nor fakes a checkout claim."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from django_accepton.models import Charge, Verification
from django_accepton.services.refunds import RefundNotAllowed, refund
from django_accepton.services.sync import sync_charges
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import (
    Reason,
    reverify_pending_charges,
    verify_charge,
)
from tests.concurrency import in_threads
from tests.mirror.helpers import pay_token, verified_charge

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

PRODUCT = {"amount": 2500, "currency": "usd", "description": "Order 77"}
THREADS = 16


def test_synced_charges_are_unclaimed_mirrors(accepton):
    accepton.state.seed("charges", 3)

    sync_charges()

    rows = list(Charge.objects.all())
    assert len(rows) == 3
    assert {(row.verification, row.token_id) for row in rows} == {(Verification.UNCLAIMED, None)}
    assert reverify_pending_charges(older_than=0) == []
    with pytest.raises(RefundNotAllowed):
        refund(rows[0], 100)


def test_a_checkout_claim_takes_over_the_synced_row(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    token = mint_token(PRODUCT, reuse=False)
    remote = pay_token(accepton, token.pk)
    sync_charges()
    assert Charge.objects.get(pk=remote["id"]).verification == Verification.UNCLAIMED

    with django_capture_on_commit_callbacks(execute=True):
        result = verify_charge(remote["id"], token.pk)

    assert result.reason is Reason.OK
    row = Charge.objects.get(pk=remote["id"])
    assert (row.verification, row.token_id) == (Verification.VERIFIED, token.pk)
    assert signal_log == [("verified", remote["id"], token.pk)]
    # Claimed once: a replay for another token is refused as before.
    other = mint_token({**PRODUCT, "description": "Order 78"}, reuse=False)
    assert verify_charge(remote["id"], other.pk).reason is Reason.ALREADY_CLAIMED


def test_a_synced_charge_is_still_judged_against_the_token(accepton):
    token = mint_token(PRODUCT, reuse=False)
    cheaper = mint_token({**PRODUCT, "amount": 100, "description": "Order 79"}, reuse=False)
    remote = pay_token(accepton, cheaper.pk)
    sync_charges()

    result = verify_charge(remote["id"], token.pk)

    assert result.reason is Reason.AMOUNT_MISMATCH
    assert Charge.objects.get(pk=remote["id"]).verification == Verification.REJECTED


def test_the_sync_refreshes_a_claimed_charge_without_touching_its_claim(accepton):
    charge = verified_charge(accepton, 5000)
    refund(charge, 5000)

    result = sync_charges(full=True)

    # The refund already wrote what AcceptOn now says (refunded), and announced it: the sync
    # finds nothing new.
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    row = Charge.objects.get(pk=charge.pk)
    assert (row.verification, row.token_id, row.reason) == (
        Verification.VERIFIED,
        charge.token_id,
        Reason.OK,
    )
    assert (row.refunded, row.amount_refunded, row.raw["refunded"]) == (True, 5000, True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_claims_of_a_synced_charge_fulfil_once(accepton, signal_log):
    assert connection.vendor == "postgresql"
    token = mint_token(PRODUCT, reuse=False)
    remote = pay_token(accepton, token.pk)
    sync_charges()
    reasons, errors = in_threads(THREADS, lambda _: verify_charge(remote["id"], token.pk).reason)

    assert errors == []
    assert Counter(reasons) == {Reason.OK: 1, Reason.ALREADY_CLAIMED: THREADS - 1}
    assert signal_log == [("verified", remote["id"], token.pk)]
