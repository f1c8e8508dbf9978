"""Exactly once per thing sold: catalogue products sold to every shopper, an order paid once
whatever token paid it, fulfilment delivered until the store's receivers succeed, and every
charge AcceptOn took but the store did not fulfil kept in sight (an attention item)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.services import fulfilment
from django_accepton.services.attention import refund_unfulfilled, settle
from django_accepton.services.fulfilment import redeliver_fulfilments
from django_accepton.services.refunds import refund
from django_accepton.services.sync import sync_charges
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import Reason, claim_orphaned_charges, verify_charge
from django_accepton.signals import charge_needs_attention, charge_verified
from tests.admin.conftest import refund_through_button
from tests.checkout.conftest import pay, render_form, token_in
from tests.concurrency import in_threads
from tests.migrations import migrated

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

PEN = {"amount": 1200, "currency": "usd", "description": "Fountain pen", "sold_once": False}
ORDER = {"amount": 4500, "currency": "usd", "description": "Order 7", "reference": "order-7"}


def render_for(product: Any, session: SessionStore) -> str:
    request = RequestFactory().get("/shop/pen/")
    request.session = session
    return render_form(product, request=request)


def remote_refunded(sandbox: Any, charge_id: str) -> int:
    return sum(item["amount"] for item in sandbox.state.refunds_for_charge(charge_id))


@pytest.fixture
def sales(db):
    """charge_verified as a store would count it: one sale per charge id."""
    sold: dict[str, tuple[str, int]] = {}

    def receiver(sender: Any, charge: Charge, token: TransactionToken, **kwargs: Any) -> None:
        sold.setdefault(charge.pk, (token.description, token.quantity))

    charge_verified.connect(receiver, weak=False, dispatch_uid="test-sales")
    yield sold
    charge_verified.disconnect(dispatch_uid="test-sales")


@pytest.fixture
def attention_log():
    log: list[tuple[str, str]] = []

    def receiver(sender: Any, charge: Charge, reason: str, **kwargs: Any) -> None:
        log.append((charge.pk, reason))

    charge_needs_attention.connect(receiver, weak=False, dispatch_uid="test-attention")
    yield log
    charge_needs_attention.disconnect(dispatch_uid="test-attention")


# ----- catalogue products -----------------------------------------------------------------------


def test_each_shopper_of_a_catalogue_product_gets_a_token_of_their_own(accepton):
    ann, bob = SessionStore(), SessionStore()

    ann_token = token_in(render_for(PEN, ann))
    assert token_in(render_for(PEN, ann)) == ann_token  # re-rendering keeps the shopper's token
    bob_token = token_in(render_for(PEN, bob))

    assert bob_token != ann_token
    assert TransactionToken.objects.get(pk=ann_token).sold_once is False
    # An order is one token for everyone who opens it.
    assert token_in(render_form(ORDER)) == token_in(render_form(ORDER))


@pytest.mark.django_db(transaction=True)
def test_two_shoppers_paying_one_catalogue_product_at_once_are_both_sold_it(
    accepton, sales, django_capture_on_commit_callbacks
):
    tokens = [token_in(render_for({**PEN, "quantity": 2}, SessionStore())) for _ in range(2)]
    charges = [pay(accepton, token).json()["id"] for token in tokens]

    results, errors = in_threads(2, lambda n: verify_charge(charges[n], tokens[n]))

    assert errors == []
    assert sorted(result.reason for result in results) == [Reason.OK, Reason.OK]
    assert sales == {charge: ("Fountain pen", 2) for charge in charges}
    assert Charge.objects.filter(fulfilled_at__isnull=False).count() == 2


# ----- an order paid twice ----------------------------------------------------------------------


def test_an_order_paid_twice_is_sold_once_and_the_second_payment_needs_attention(
    accepton, sales, attention_log, django_capture_on_commit_callbacks, admin_user
):
    # The first token went stale (or the page was opened twice): two tokens for one order.
    first = mint_token(ORDER, reuse=False)
    second = mint_token(ORDER, reuse=False)
    paid_first = pay(accepton, first.pk).json()["id"]
    paid_second = pay(accepton, second.pk).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        assert verify_charge(paid_first, first.pk).ok
        result = verify_charge(paid_second, second.pk)

    assert result.reason is Reason.ORDER_ALREADY_PAID
    assert list(sales) == [paid_first]
    refused = Charge.objects.get(pk=paid_second)
    assert (refused.verification, refused.attention) == (
        Verification.REJECTED,
        "order_already_paid",
    )
    assert refused.needs_attention
    assert refused.is_refundable
    assert attention_log == [(paid_second, "order_already_paid")]

    # The admin's refund button gives the second payment back, and settles the item.
    url = reverse("admin:django_accepton_charge_refund", args=[quote(paid_second)])
    staff = Client()
    staff.force_login(admin_user)
    answer = refund_through_button(staff, url, {"amount": "45.00"})

    assert answer.status_code == 302
    refused.refresh_from_db()
    assert remote_refunded(accepton, paid_second) == 4500
    assert not refused.needs_attention
    assert remote_refunded(accepton, paid_first) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tokens_of_one_order_paid_at_once_sell_it_once(accepton, sales):
    tokens = [mint_token(ORDER, reuse=False) for _ in range(8)]
    charges = [pay(accepton, token.pk).json()["id"] for token in tokens]

    results, errors = in_threads(8, lambda n: verify_charge(charges[n], tokens[n].pk))

    assert errors == []
    reasons = sorted(result.reason.value for result in results)
    assert reasons == ["ok"] + ["order_already_paid"] * 7
    assert len(sales) == 1
    assert Charge.objects.filter(attention="order_already_paid").count() == 7


def test_a_catalogue_product_is_never_already_paid(accepton, django_capture_on_commit_callbacks):
    tokens = [mint_token(PEN, reuse=False) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for token in tokens:
            assert verify_charge(pay(accepton, token.pk).json()["id"], token.pk).ok


# ----- paid but refused: attention items --------------------------------------------------------


def test_money_taken_for_a_refused_charge_is_an_attention_item(accepton, attention_log):
    token_id = token_in(render_form(ORDER))
    accepton.state.set_charge_override(amount=100)
    charge_id = pay(accepton, token_id).json()["id"]

    result = verify_charge(charge_id, token_id)

    assert result.reason is Reason.AMOUNT_MISMATCH
    row = Charge.objects.get(pk=charge_id)
    assert (row.attention, row.needs_attention, row.is_refundable) == (
        "amount_mismatch",
        True,
        True,
    )


def test_a_refused_charge_that_took_no_money_needs_no_attention(accepton):
    token_id = token_in(render_form(ORDER))
    charge_id = pay(accepton, token_id).json()["id"]
    accepton.state.create_refund(charge_id, 4500)  # given back at AcceptOn before the return

    assert verify_charge(charge_id, token_id).reason is Reason.REFUNDED
    row = Charge.objects.get(pk=charge_id)
    assert (row.attention, row.is_refundable) == ("", False)


def test_a_charge_held_for_its_status_is_not_refunded_by_the_policy(accepton, settings):
    from tests.checkout.test_rejections import out_of_looks

    settings.ACCEPTON = {**settings.ACCEPTON, "REFUND_UNFULFILLED": True}
    token_id = token_in(render_form(ORDER))
    accepton.state.set_charge_override(status="settled")
    charge_id = pay(accepton, token_id).json()["id"]
    assert verify_charge(charge_id, token_id).reason is Reason.STATUS_UNCONFIRMED
    out_of_looks(charge_id)
    assert verify_charge(charge_id, token_id).reason is Reason.NOT_PAID
    Charge.objects.filter(pk=charge_id).update(claimed_at=timezone.now() - timedelta(hours=2))

    result = refund_unfulfilled()

    assert (result.refunded, result.skipped) == (0, 1)
    assert not accepton.state.refunds_for_charge(charge_id)
    assert Charge.objects.get(pk=charge_id).needs_attention


def test_the_refund_policy_gives_unfulfilled_money_back_once(accepton, settings):
    token_id = token_in(render_form(ORDER))
    accepton.state.set_charge_override(amount=4000)
    charge_id = pay(accepton, token_id).json()["id"]
    verify_charge(charge_id, token_id)

    assert refund_unfulfilled().refunded == 0  # off by default
    settings.ACCEPTON = {**settings.ACCEPTON, "REFUND_UNFULFILLED": True}
    assert refund_unfulfilled().refunded == 0  # an hour for a human to act first
    Charge.objects.update(claimed_at=timezone.now() - timedelta(hours=2))
    first = refund_unfulfilled()
    second = refund_unfulfilled()

    assert (first.refunded, second.refunded) == (1, 0)
    assert remote_refunded(accepton, charge_id) == 4000
    assert not Charge.objects.get(pk=charge_id).needs_attention


def test_a_human_can_settle_an_attention_item(accepton):
    token_id = token_in(render_form(ORDER))
    accepton.state.set_charge_override(description="Someone else's order")
    charge_id = pay(accepton, token_id).json()["id"]
    verify_charge(charge_id, token_id)

    assert settle(charge_id, note="refunded by phone")
    assert not settle(charge_id)
    row = Charge.objects.get(pk=charge_id)
    assert (row.needs_attention, row.is_refundable) == (False, False)


# ----- fulfilment delivered until it succeeds ---------------------------------------------------


def test_a_receiver_that_fails_once_is_delivered_again_and_fulfils_once(
    accepton, django_capture_on_commit_callbacks
):
    calls: list[str] = []
    fulfilled: set[str] = set()

    def flaky(sender: Any, charge: Charge, **kwargs: Any) -> None:
        calls.append(charge.pk)
        if len(calls) == 1:
            raise RuntimeError("database blip")
        fulfilled.add(charge.pk)  # idempotent: a set, as a conditional update would be

    charge_verified.connect(flaky, weak=False, dispatch_uid="test-flaky")
    try:
        token_id = token_in(render_form(ORDER))
        charge_id = pay(accepton, token_id).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            assert verify_charge(charge_id, token_id).ok  # the customer still sees "paid"

        row = Charge.objects.get(pk=charge_id)
        assert row.fulfilled_at is None
        assert "database blip" in row.delivery_error
        assert fulfilled == set()

        assert redeliver_fulfilments(older_than=0).as_dict() == {"delivered": 1, "failed": 0}
        assert redeliver_fulfilments(older_than=0).as_dict() == {"delivered": 0, "failed": 0}
    finally:
        charge_verified.disconnect(dispatch_uid="test-flaky")

    row.refresh_from_db()
    assert row.fulfilled_at is not None
    assert (row.delivery_attempts, row.delivery_error) == (2, "")
    assert calls == [charge_id, charge_id]
    assert fulfilled == {charge_id}


@pytest.mark.accepton_dialect("strict-docs")
@pytest.mark.django_db(transaction=True)
def test_orders_paid_before_sale_keys_existed_count_as_sold(accepton):
    def fill(old: Any) -> None:
        old_token = old.get_model("django_accepton", "TransactionToken")
        old_charge = old.get_model("django_accepton", "Charge")
        for number in (1, 2):  # two tokens of one order, both verified (allowed then)
            token = old_token.objects.create(
                id=f"txn_old{number}",
                environment="sandbox",
                amount=4500,
                currency="usd",
                description="Order 7",
                reference="order-7",
            )
            old_charge.objects.create(
                id=f"chg_old{number}", environment="sandbox", token=token, verification="verified"
            )

    migrated("0005_refund_flag_before", "0008_one_verified_charge_per_sale", fill)

    keys = dict(Charge.objects.values_list("pk", "sale_key"))
    assert keys["chg_old1"] is not None
    assert keys["chg_old2"] is None
    assert Charge.objects.filter(fulfilled_at__isnull=True).count() == 0
    # A third token of that order, paid after the upgrade, is not a second sale.
    token = mint_token(ORDER, reuse=False)
    assert verify_charge(pay(accepton, token.pk).json()["id"], token.pk).reason is (
        Reason.ORDER_ALREADY_PAID
    )


def test_a_charge_refunded_before_it_was_delivered_is_never_delivered(
    accepton, django_capture_on_commit_callbacks
):
    calls: list[str] = []

    def failing(sender: Any, charge: Charge, **kwargs: Any) -> None:
        calls.append(charge.pk)
        raise RuntimeError("shipping service down")

    charge_verified.connect(failing, weak=False, dispatch_uid="test-failing")
    try:
        token_id = token_in(render_form(ORDER))
        charge_id = pay(accepton, token_id).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            verify_charge(charge_id, token_id)
        refund(charge_id, 4500, "customer cancelled")  # before anything was shipped

        assert redeliver_fulfilments(older_than=0).as_dict() == {"delivered": 0, "failed": 0}
    finally:
        charge_verified.disconnect(dispatch_uid="test-failing")
    assert calls == [charge_id]
    assert Charge.objects.get(pk=charge_id).fulfilled_at is None


def test_a_delivery_that_keeps_failing_is_left_to_a_human(
    accepton, attention_log, django_capture_on_commit_callbacks
):
    def failing(sender: Any, charge: Charge, **kwargs: Any) -> None:
        raise RuntimeError("always down")

    charge_verified.connect(failing, weak=False, dispatch_uid="test-failing")
    try:
        token_id = token_in(render_form(ORDER))
        charge_id = pay(accepton, token_id).json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            verify_charge(charge_id, token_id)
        # Every delivery but the last fails with nobody told; the last one's failure is left to
        # a human (the attention signal goes out when its write commits, as every change
        # signal does), and nothing is sent after it.
        for attempt in range(2, fulfilment.MAX_ATTEMPTS + 3):
            assert Charge.objects.get(pk=charge_id).attention == ""
            with django_capture_on_commit_callbacks(execute=True):
                redeliver_fulfilments(older_than=0)
            sent = min(attempt, fulfilment.MAX_ATTEMPTS)
            assert Charge.objects.get(pk=charge_id).delivery_attempts == sent
            if sent == fulfilment.MAX_ATTEMPTS:
                break
    finally:
        charge_verified.disconnect(dispatch_uid="test-failing")

    row = Charge.objects.get(pk=charge_id)
    assert row.delivery_attempts == fulfilment.MAX_ATTEMPTS
    assert redeliver_fulfilments(older_than=0).as_dict() == {"delivered": 0, "failed": 0}
    assert (row.attention, row.needs_attention, row.is_refundable) == ("undelivered", True, True)
    assert attention_log == [(charge_id, "undelivered")]


def test_an_orphan_of_a_catalogue_product_is_not_given_to_another_shopper(accepton):
    ann = token_in(render_for(PEN, SessionStore()))
    bob = token_in(render_for(PEN, SessionStore()))
    pay(accepton, bob)  # Bob pays and closes the tab
    sync_charges(full=True)

    assert claim_orphaned_charges(older_than=0) == []  # whose token paid? it cannot be told
    assert TransactionToken.objects.get(pk=ann).consumed_at is None
    ann_paid = pay(accepton, ann).json()["id"]
    assert verify_charge(ann_paid, ann).ok
