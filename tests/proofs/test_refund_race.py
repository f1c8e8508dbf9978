"""Concurrent partial refunds asking for far more than the charge (real PostgreSQL).

Two dozen threads per charge, started together by a barrier, each refund part of one charge;
together they ask for about two and a half times its amount. What AcceptOn refunded, what the
store recorded and what the charge says must agree, and never exceed the charge.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum

from django_accepton.models import Charge, Refund, RefundRequest, RefundState
from django_accepton.services.refunds import InvalidRefundAmount, refund
from tests.concurrency import in_threads
from tests.mirror.helpers import verified_charge

CHARGES = 3
THREADS = 24
AMOUNT = 10_000
# 24 requests cycling through these ask for 26,400 of each 10,000 charge.
ASKS = (700, 900, 1100, 1300, 1500)


def race(charge_id: str) -> tuple[Counter[str], list[int], list[BaseException]]:
    def attempt(number: int) -> tuple[str, int]:
        amount = ASKS[number % len(ASKS)]
        try:
            refund(charge_id, amount, "race")
        except InvalidRefundAmount:
            return "refused", amount
        return "succeeded", amount

    results, errors = in_threads(THREADS, attempt)
    outcomes = Counter(outcome for outcome, _ in results)
    refused = [amount for outcome, amount in results if outcome == "refused"]
    return outcomes, refused, errors


@pytest.mark.postgres
@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_concurrent_partial_refunds_never_exceed_the_charge(accepton, proof):
    assert connection.vendor == "postgresql"
    charges = [verified_charge(accepton, AMOUNT, order=str(number)) for number in range(CHARGES)]
    totals: Counter[str] = Counter()
    errors: list[BaseException] = []
    excess: list[int] = []
    disagreements = spurious_refusals = 0
    for charge in charges:
        outcomes, refused, raised = race(charge.pk)
        totals.update(outcomes)
        errors.extend(raised)
        charge.refresh_from_db()
        local = sorted(Refund.objects.filter(charge=charge).values_list("id", "amount"))
        remote = sorted(
            (item["id"], item["amount"]) for item in accepton.state.refunds_for_charge(charge.pk)
        )
        refunded = sum(amount for _, amount in local)
        excess += [refunded - AMOUNT, sum(amount for _, amount in remote) - AMOUNT]
        disagreements += (
            (local != remote)
            + (charge.amount_refunded != refunded)
            + (RefundRequest.objects.filter(charge=charge).count() != len(local))
            + RefundRequest.objects.filter(charge=charge)
            .exclude(state=RefundState.SUCCEEDED)
            .count()
        )
        # Room only shrinks, so a refusal was right if even the final room is too small for it.
        spurious_refusals += sum(1 for asked in refused if asked <= charge.refundable_amount)

    attempts = totals["succeeded"] + totals["refused"] + len(errors)
    refunded_total = Refund.objects.aggregate(total=Sum("amount"))["total"] or 0
    proof(
        "refund race: attempts = succeeded + refused, errors",
        f"{attempts} = {totals['succeeded']} + {totals['refused']}, {len(errors)}",
        f"{CHARGES * THREADS} = s + r, 0",
    )
    proof(
        "refund race: refunded vs charged (all charges)",
        f"{refunded_total} <= {CHARGES * AMOUNT}",
        "refunded <= charged",
    )
    proof("refund race: largest excess over a charge", max(excess), "<= 0")
    proof("refund race: sandbox vs local disagreements", disagreements, 0)
    proof("refund race: refusals while room was left", spurious_refusals, 0)
    assert errors == []
    assert attempts == CHARGES * THREADS
    assert totals["succeeded"] > 0
    assert totals["refused"] > 0
    assert max(excess) <= 0
    assert refunded_total <= CHARGES * AMOUNT
    assert disagreements == 0
    assert spurious_refusals == 0
    assert Charge.objects.filter(amount_refunded__gt=AMOUNT).count() == 0
