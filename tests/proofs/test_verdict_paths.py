"""The two ways a verdict is written, side by side: a sale of a one-off token written at once
(two conditional updates) and the locked path that decides everything else. They meet on the
same rows, and the delivery that follows either one keeps its rules."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from django_accepton.models import Charge
from django_accepton.services import sync, verification
from django_accepton.services.fulfilment import redeliver_fulfilments
from django_accepton.services.refunds import refund
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import recheck_pending_charge, verify_charge
from django_accepton.signals import charge_refunded, charge_verified
from tests.checkout.conftest import pay, render_form, token_in

ORDER = {"amount": 4500, "currency": "usd", "description": "Order 9", "reference": "order-9"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sale_written_at_once_and_a_locked_verdict_on_one_token_never_deadlock(
    accepton, monkeypatch
):
    """Two paid charges of one token: A is judged paid and about to be written at once while
    B, a claim left pending, is decided by the locked path (the confirming page). Whoever
    writes a verified charge for the token holds the token's row, so neither waits for the
    other's entry in a unique index while holding what the other needs."""
    assert connection.vendor == "postgresql"
    accepton.state.set_dialect(dataclasses.replace(accepton.state.dialect, token_payments="many"))
    token = mint_token(ORDER, reuse=False)
    charge_a = pay(accepton, token.pk).json()["id"]
    charge_b = pay(accepton, token.pk).json()["id"]
    # B: a claim left pending (deferred / AcceptOn was down); the confirming page rechecks it
    # through the locked path.
    assert verify_charge(charge_b, token.pk, defer=True).pending

    a_claimed, go_a = threading.Event(), threading.Event()
    b_locked, go_b = threading.Event(), threading.Event()
    real_mirror, real_discount = verification._mirror, verification._discount

    def discount(remote, tok):  # A: claim committed, AcceptOn asked; before the fast path
        if remote.id == charge_a:
            a_claimed.set()
            go_a.wait(10)
        return real_discount(remote, tok)

    def mirror(charge, remote):  # B: in the locked path, charge B and the token locked
        if charge.pk == charge_b:
            b_locked.set()
            go_b.wait(10)
        return real_mirror(charge, remote)

    monkeypatch.setattr(verification, "_discount", discount)
    monkeypatch.setattr(verification, "_mirror", mirror)
    outcomes: dict[str, object] = {}

    def run(name, work):
        try:
            outcomes[name] = work()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[name] = exc
        finally:
            connection.close()

    ta = threading.Thread(target=run, args=("A", lambda: verify_charge(charge_a, token.pk)))
    ta.start()
    assert a_claimed.wait(10)
    tb = threading.Thread(
        target=run,
        args=(
            "B",
            lambda: recheck_pending_charge(Charge.objects.select_related("token").get(pk=charge_b)),
        ),
    )
    tb.start()
    assert b_locked.wait(10)
    go_a.set()  # A: UPDATE charge A -> verified (uncommitted), then waits for the token
    time.sleep(1.0)
    go_b.set()  # B: charge B -> verified: waits for A's entry in the unique index
    ta.join(30)
    tb.join(30)
    errors = [value for value in outcomes.values() if isinstance(value, BaseException)]
    assert errors == [], errors
    verdicts = dict(Charge.objects.values_list("pk", "verification"))
    assert sorted(verdicts.values()) == ["rejected", "verified"], verdicts


@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_a_sale_refunded_before_its_delivery_is_not_delivered(accepton):
    """In a caller's transaction (ATOMIC_REQUESTS, say) the delivery waits for the commit;
    a refund made before then means the money is going back: nothing is delivered."""
    token_id = token_in(
        render_form({"amount": 900, "currency": "usd", "description": "O 5", "reference": "o-5"})
    )
    charge_id = pay(accepton, token_id).json()["id"]
    sent: list[str] = []
    charge_verified.connect(
        lambda sender, charge, **kw: sent.append(charge.pk),
        weak=False,
        dispatch_uid="review-refund",
    )
    try:
        with transaction.atomic():  # ATOMIC_REQUESTS in the store's own view, say
            assert verify_charge(charge_id, token_id).ok
            refund(
                Charge.objects.get(pk=charge_id), 900, "out of stock"
            )  # the store changes its mind
    finally:
        charge_verified.disconnect(dispatch_uid="review-refund")
    row = Charge.objects.get(pk=charge_id)
    assert row.amount_refunded == 900
    assert row.fulfilled_at is None
    assert sent == []


@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_no_second_delivery_runs_while_the_first_holds_its_lease(accepton, monkeypatch):
    """The delivery's lease is taken when the delivery starts, not when the verdict was
    written: a caller's transaction that commits long after the verdict still delivers alone."""
    token_id = token_in(
        render_form({"amount": 900, "currency": "usd", "description": "O 5", "reference": "o-5"})
    )
    charge_id = pay(accepton, token_id).json()["id"]
    running: list[int] = []
    overlapping: list[int] = []

    def receiver(sender, charge, **kwargs):
        running.append(1)
        if len(running) == 1:
            # meanwhile, another worker's periodic redelivery
            redeliver_fulfilments(older_than=0)
        else:
            overlapping.append(1)

    charge_verified.connect(receiver, weak=False, dispatch_uid="review-lease")
    try:
        # The caller's transaction (ATOMIC_REQUESTS, a task) commits 6 minutes after the verdict
        # was written (slow work after verify_charge): the verdict's clock is 6 minutes behind.
        real_now = timezone.now
        monkeypatch.setattr(
            verification,
            "timezone",
            SimpleNamespace(now=lambda: real_now() - timedelta(minutes=6)),
        )
        with transaction.atomic():
            assert verify_charge(charge_id, token_id).ok
    finally:
        charge_verified.disconnect(dispatch_uid="review-lease")
    assert running == [1]
    assert overlapping == [], f"charge_verified sent {len(running)} times, concurrently"


@pytest.mark.accepton_dialects
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.django_db(transaction=True)
def test_refund_the_sync_saw_before_the_verdict_is_not_delivered(accepton, monkeypatch, fast):
    """AcceptOn is asked, then the charge is refunded in AcceptOn's dashboard and the sync
    mirrors that (charge_refunded sent), then the verdict is written: on either path it
    neither sells the charge nor copies the older "not refunded" over the sync's word."""
    token_id = token_in(
        render_form({"amount": 900, "currency": "usd", "description": "O 7", "reference": "o-7"})
    )
    charge_id = pay(accepton, token_id).json()["id"]
    real_discount = verification._discount
    if not fast:
        # force the locked path (as reverify / recheck / an unclaimed takeover do)
        monkeypatch.setattr(verification, "_sold_at_once", lambda *a, **k: None)

    def discount(remote, token):
        # after client.charges.retrieve, before the verdict
        accepton.state.create_refund(charge_id, 900, "dashboard")
        sync.resync("charges", [charge_id])
        assert Charge.objects.get(pk=charge_id).refunded is True
        return real_discount(remote, token)

    monkeypatch.setattr(verification, "_discount", discount)
    events: list[tuple[str, str]] = []
    charge_verified.connect(
        lambda sender, charge, **kw: events.append(("verified", charge.pk)),
        weak=False,
        dispatch_uid="rw-v",
    )
    charge_refunded.connect(
        lambda sender, charge, **kw: events.append(("refunded", charge.pk)),
        weak=False,
        dispatch_uid="rw-r",
    )
    try:
        result = verify_charge(charge_id, token_id)
    finally:
        charge_verified.disconnect(dispatch_uid="rw-v")
        charge_refunded.disconnect(dispatch_uid="rw-r")
    row = Charge.objects.get(pk=charge_id)
    assert ("refunded", charge_id) in events
    assert ("verified", charge_id) not in events, events
    assert row.fulfilled_at is None
    assert row.refunded is True
    assert result.reason == "refunded"
