"""Exactly once per thing sold, measured: one order paid through many tokens at once, one refund
confirmation posted by many clicks at once, and a fulfilment whose receiver fails.

The concurrent proofs need real PostgreSQL (row locks and a unique index under contention); the
delivery proof runs everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from django_accepton.models import Charge, RefundRequest
from django_accepton.services.fulfilment import redeliver_fulfilments
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import verify_charge
from django_accepton.signals import charge_verified
from tests.checkout.conftest import pay, render_form, token_in
from tests.concurrency import in_threads
from tests.mirror.helpers import verified_charge

ORDER = {"amount": 4500, "currency": "usd", "description": "Order 9", "reference": "order-9"}


@contextmanager
def sales() -> Iterator[list[str]]:
    """The ids of the charges ``charge_verified`` is sent for, while the block runs."""
    sold: list[str] = []

    def receiver(sender: Any, charge: Charge, **kwargs: Any) -> None:
        sold.append(charge.pk)

    charge_verified.connect(receiver, weak=False, dispatch_uid="proof-sales")
    try:
        yield sold
    finally:
        charge_verified.disconnect(dispatch_uid="proof-sales")


@pytest.mark.postgres
@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_an_order_paid_through_many_tokens_at_once_is_sold_once(accepton, proof):
    assert connection.vendor == "postgresql"
    tokens = [mint_token(ORDER, reuse=False) for _ in range(12)]
    charges = [pay(accepton, token.pk).json()["id"] for token in tokens]
    with sales() as sold:
        results, errors = in_threads(12, lambda n: verify_charge(charges[n], tokens[n].pk))

    held = Charge.objects.filter(attention="order_already_paid").count()
    proof(
        "one order, 12 tokens paid at once: sold; attention items, errors",
        f"{len(sold)}; {held}, {len(errors)}",
        "1; 11, 0",
    )
    assert errors == []
    assert len(sold) == 1
    assert held == 11
    assert sum(result.ok for result in results) == 1


@pytest.mark.postgres
@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_one_token_paid_by_many_charges_at_once_is_sold_once(accepton, proof):
    """Where AcceptOn lets one token be paid more than once (undocumented): 12 charges of one
    token, each submitted with a duplicate of itself, all at once. The sale written at once and
    the locked path meet on the same rows; one sale, every other charge refused, no deadlock."""
    assert connection.vendor == "postgresql"
    accepton.state.set_dialect(dataclasses.replace(accepton.state.dialect, token_payments="many"))
    token = mint_token(ORDER, reuse=False)
    charges = [pay(accepton, token.pk).json()["id"] for _ in range(12)]
    with sales() as sold:
        results, errors = in_threads(24, lambda n: verify_charge(charges[n % 12], token.pk))

    refused = Charge.objects.filter(reason="token_already_fulfilled").count()
    proof(
        "one token, 12 charges (each twice) at once: sold; refused, errors",
        f"{len(sold)}; {refused}, {len(errors)}",
        "1; 11, 0",
    )
    assert errors == []
    assert len(sold) == 1
    assert refused == 11
    assert Charge.objects.filter(verification="verified").count() == 1
    assert sum(result.ok for result in results) == 1


@pytest.mark.postgres
@pytest.mark.accepton_dialects
@pytest.mark.django_db(transaction=True)
def test_a_refund_confirmation_clicked_many_times_at_once_refunds_once(accepton, proof):
    assert connection.vendor == "postgresql"
    charge = verified_charge(accepton, 5000)
    staff = get_user_model().objects.create_superuser("root", email="root@example.com")
    url = reverse("admin:django_accepton_charge_refund", args=[quote(charge.pk)])
    first = Client()
    first.force_login(staff)
    note = first.post(url, {"amount": "15.00"}).context["confirmation"]
    posted = {"amount": "15.00", "confirmed": "on", "confirmation": note}

    def click(number: int) -> int:
        client = Client()
        client.force_login(staff)
        return client.post(url, posted).status_code

    statuses, errors = in_threads(10, click)

    refunded = [item["amount"] for item in accepton.state.refunds_for_charge(charge.pk)]
    proof(
        "refund confirmation, 10 clicks at once: refunds; requests, errors",
        f"{len(refunded)}; {RefundRequest.objects.count()}, {len(errors)}",
        "1; 1, 0",
    )
    assert errors == []
    assert set(statuses) == {302}
    assert refunded == [1500]
    assert RefundRequest.objects.count() == 1


@pytest.mark.accepton_dialects
@pytest.mark.django_db
def test_a_receiver_that_fails_is_called_until_it_succeeds_and_fulfils_once(
    accepton, proof, django_capture_on_commit_callbacks
):
    calls: list[str] = []
    fulfilled: set[str] = set()

    def receiver(sender: Any, charge: Charge, **kwargs: Any) -> None:
        calls.append(charge.pk)
        if len(calls) <= 2:
            raise ValueError("value too long for type character varying(254)")
        fulfilled.add(charge.pk)

    charge_verified.connect(receiver, weak=False, dispatch_uid="proof-flaky")
    try:
        token_id = token_in(render_form(ORDER))
        charge_id = pay(accepton, token_id).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            verify_charge(charge_id, token_id)
        for _ in range(4):  # the periodic task, run more often than needed
            redeliver_fulfilments(older_than=0)
    finally:
        charge_verified.disconnect(dispatch_uid="proof-flaky")

    row = Charge.objects.get(pk=charge_id)
    proof(
        "receiver failing twice: deliveries; fulfilled, left undelivered",
        f"{len(calls)}; {len(fulfilled)}, {int(row.fulfilled_at is None)}",
        "3; 1, 0",
    )
    assert len(calls) == 3
    assert fulfilled == {charge_id}
    assert row.fulfilled_at is not None
