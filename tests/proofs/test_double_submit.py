"""200 simultaneous submissions of one charge: exactly one fulfilment (real PostgreSQL)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.services.verification import Reason, verify_charge
from tests.checkout.conftest import pay, render_form, token_in
from tests.concurrency import in_threads

THREADS = 200


@pytest.mark.postgres
@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_fulfil_once(accepton, signal_log, proof):
    assert connection.vendor == "postgresql"
    token_id = token_in(
        render_form({"amount": 5000, "currency": "usd", "description": "Order 4004"})
    )
    charge_id = pay(accepton, token_id).json()["id"]
    reasons, errors = in_threads(THREADS, lambda _: verify_charge(charge_id, token_id).reason)

    counts = Counter(reasons)
    proof("double submit: fulfilments", counts[Reason.OK], 1)
    proof("double submit: already_claimed", counts[Reason.ALREADY_CLAIMED], THREADS - 1)
    proof("double submit: errors", len(errors), 0)
    assert errors == []
    assert Counter(reasons) == {Reason.OK: 1, Reason.ALREADY_CLAIMED: THREADS - 1}
    assert Charge.objects.filter(verification=Verification.VERIFIED).count() == 1
    assert TransactionToken.objects.get(pk=token_id).consumed_at is not None
    assert signal_log == [("verified", charge_id, token_id)]
