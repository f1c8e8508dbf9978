"""Concurrent refunds of one charge never add up to more than the charge (real PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from django_accepton.models import Charge, Refund, RefundRequest, RefundState
from django_accepton.services.refunds import InvalidRefundAmount, refund
from tests.concurrency import in_threads
from tests.mirror.helpers import verified_charge

THREADS = 12
AMOUNT = 10_000


@pytest.mark.postgres
@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_more_than_half_let_exactly_one_through(accepton):
    assert connection.vendor == "postgresql"
    charge = verified_charge(accepton, AMOUNT)

    def refund_six_tenths(_: int) -> str:
        try:
            refund(charge.pk, AMOUNT * 6 // 10, "race")
        except InvalidRefundAmount:
            return "refused"
        return "refunded"

    outcomes, errors = in_threads(THREADS, refund_six_tenths)

    assert errors == []
    assert sorted(outcomes) == ["refunded"] + ["refused"] * (THREADS - 1)
    charge.refresh_from_db()
    remote = accepton.state.refunds_for_charge(charge.pk)
    local = list(Refund.objects.filter(charge=charge).values_list("id", "amount"))
    # AcceptOn and the store agree, refund by refund, and neither exceeds the charge.
    assert sorted((item["id"], item["amount"]) for item in remote) == sorted(local)
    assert sum(amount for _, amount in local) == charge.amount_refunded == 6000 <= AMOUNT
    assert RefundRequest.objects.get().state == RefundState.SUCCEEDED
    assert Charge.objects.get(pk=charge.pk).refundable_amount == 4000
