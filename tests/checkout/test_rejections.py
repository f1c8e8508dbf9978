"""Every reason a charge is refused, produced by the sandbox's fault controls."""

from __future__ import annotations

import pytest

from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.services.verification import Reason, reverify_pending_charges, verify_charge
from tests.checkout.conftest import control, pay, render_form, token_in
from tests.dialects import Dialect
from tests.mirror.helpers import refunds_announced

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

PRODUCT = {"amount": 4000, "currency": "usd", "description": "Order 2002"}


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"amount": 100}, Reason.AMOUNT_MISMATCH),
        ({"amount": 4001}, Reason.AMOUNT_MISMATCH),
        ({"currency": "eur"}, Reason.CURRENCY_MISMATCH),
    ],
)
def test_charge_that_differs_from_its_token_is_rejected(
    accepton, override, reason, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(PRODUCT))
    control(accepton, "charge_overrides", override)
    charge = pay(accepton, token_id).json()

    with django_capture_on_commit_callbacks(execute=True):
        result = verify_charge(charge["id"], token_id)

    assert result.reason is reason
    assert not result.ok
    assert not result.paid
    row = Charge.objects.get(pk=charge["id"])
    assert row.verification == Verification.REJECTED
    assert row.reason == reason
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None
    assert signal_log == [("rejected", charge["id"], reason.value)]


def out_of_looks(charge_id: str) -> None:
    """The claim has had every look and waited long enough (see verification._may_look_again)."""
    from datetime import timedelta

    from django.utils import timezone

    from django_accepton.services import recurring

    Charge.objects.filter(pk=charge_id).update(
        lookups=recurring.SUBSCRIPTION_LOOKUPS,
        attempts=recurring.SUBSCRIPTION_LOOKUPS,
        claimed_at=timezone.now() - recurring.SUBSCRIPTION_WAIT - timedelta(seconds=1),
    )


@pytest.mark.parametrize("status", ["pending", "failed", "submitted_for_settlement", "Approved"])
def test_a_status_no_document_calls_a_success_is_held_then_left_to_a_human(
    accepton, status, signal_log, django_capture_on_commit_callbacks
):
    """AcceptOn names only paid and completed (its clients read succeeded), and no failure
    status: a charge with another one is neither sold nor refused at once. The customer waits
    on the pending page; then a human looks, with the money's fate unknown."""
    from django_accepton.signals import charge_needs_attention

    flagged: list[tuple[str, str]] = []
    charge_needs_attention.connect(
        lambda sender, charge, reason, **kw: flagged.append((charge.pk, reason)),
        weak=False,
        dispatch_uid="test-held",
    )
    try:
        token_id = token_in(render_form(PRODUCT))
        control(accepton, "charge_overrides", {"status": status})
        charge_id = pay(accepton, token_id).json()["id"]

        with django_capture_on_commit_callbacks(execute=True):
            held = verify_charge(charge_id, token_id)
        assert (held.reason, held.pending, held.paid) == (Reason.STATUS_UNCONFIRMED, True, False)
        row = Charge.objects.get(pk=charge_id)
        assert (row.verification, row.reason, row.status) == ("pending", held.reason, status)
        assert TransactionToken.objects.get(pk=token_id).consumed_at is None
        assert signal_log == flagged == []

        out_of_looks(charge_id)
        with django_capture_on_commit_callbacks(execute=True):
            (refused,) = reverify_pending_charges(older_than=0)
    finally:
        charge_needs_attention.disconnect(dispatch_uid="test-held")

    assert refused.reason is Reason.NOT_PAID
    row = Charge.objects.get(pk=charge_id)
    assert (row.verification, row.attention, row.needs_attention) == ("rejected", "not_paid", True)
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None
    assert signal_log == [("rejected", charge_id, "not_paid")]
    assert flagged == [(charge_id, "not_paid")]


def test_a_held_charge_whose_status_becomes_a_success_is_sold(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(PRODUCT))
    control(accepton, "charge_overrides", {"status": "submitted_for_settlement"})
    charge_id = pay(accepton, token_id).json()["id"]
    assert verify_charge(charge_id, token_id).reason is Reason.STATUS_UNCONFIRMED

    accepton.state.set_charge_status(charge_id, "Paid")
    with django_capture_on_commit_callbacks(execute=True):
        (sold,) = reverify_pending_charges(older_than=0)

    assert sold.ok
    assert sold.paid
    row = Charge.objects.get(pk=charge_id)
    assert (row.verification, row.status, row.attention) == ("verified", "Paid", "")
    assert signal_log == [("verified", charge_id, token_id)]


def test_paid_charge_replayed_for_a_second_order_is_rejected(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    first_token = token_in(render_form(PRODUCT))
    charge = pay(accepton, first_token).json()
    second_token = token_in(render_form({**PRODUCT, "description": "Order 2003"}))
    assert second_token != first_token

    with django_capture_on_commit_callbacks(execute=True):
        assert verify_charge(charge["id"], first_token).ok
        replay = verify_charge(charge["id"], second_token)

    assert replay.reason is Reason.ALREADY_CLAIMED
    assert not replay.paid
    assert TransactionToken.objects.get(pk=second_token).consumed_at is None
    assert [entry[0] for entry in signal_log] == ["verified"]


def test_unknown_charge_is_rejected_and_leaves_no_claim_nor_alert(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(PRODUCT))
    with django_capture_on_commit_callbacks(execute=True):
        result = verify_charge("chg_0000000000000000", token_id)
    assert result.reason is Reason.UNKNOWN_CHARGE
    assert not Charge.objects.exists()
    assert signal_log == []  # a made-up id is no money: nobody is alerted


def test_unknown_token_changes_nothing(accepton):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    result = verify_charge(charge["id"], "txn_ffffffffffffffffffffffffffffffff")
    assert result.reason is Reason.UNKNOWN_TOKEN
    assert not Charge.objects.exists()


def test_second_charge_on_a_fulfilled_token_is_rejected(accepton):
    token_id = token_in(render_form(PRODUCT))
    first = pay(accepton, token_id).json()
    assert verify_charge(first["id"], token_id).ok
    # Another real, paid charge of the same amount, claimed for the already fulfilled token.
    other_token = token_in(render_form({**PRODUCT, "description": "Order 2002"}, ""))
    assert other_token != token_id
    other = pay(accepton, other_token).json()
    result = verify_charge(other["id"], token_id)
    assert result.reason is Reason.TOKEN_ALREADY_FULFILLED


def test_503_leaves_the_claim_pending_until_reconciliation_finishes_it(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    control(
        accepton,
        "faults",
        {"status": 503, "count": 1, "path_prefix": "/v1/charges", "method": "GET"},
    )

    result = verify_charge(charge["id"], token_id)

    assert result.reason is Reason.API_UNAVAILABLE
    assert result.pending
    row = Charge.objects.get(pk=charge["id"])
    assert (row.verification, row.reason, row.attempts) == (
        Verification.PENDING,
        "api_unavailable",
        1,
    )
    assert signal_log == []

    with django_capture_on_commit_callbacks(execute=True):
        finished = reverify_pending_charges(older_than=0)

    assert [r.reason for r in finished] == [Reason.OK]
    assert Charge.objects.get(pk=charge["id"]).verification == Verification.VERIFIED
    assert signal_log == [("verified", charge["id"], token_id)]
    # Running reconciliation again finds nothing left to do.
    assert reverify_pending_charges(older_than=0) == []


def test_customer_retry_after_503_finishes_the_same_claim(accepton):
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    control(
        accepton,
        "faults",
        {"status": 503, "count": 1, "path_prefix": "/v1/charges", "method": "GET"},
    )
    assert verify_charge(charge["id"], token_id).pending
    again = verify_charge(charge["id"], token_id)
    assert again.ok
    assert Charge.objects.get(pk=charge["id"]).attempts == 2


def test_a_token_paid_twice_is_fulfilled_once(
    accepton, signal_log, django_capture_on_commit_callbacks
):
    # Whether AcceptOn lets a txn_ token be paid twice is undocumented: either the form refuses
    # the second payment, or a second charge exists and is refused here. Never two sales.
    token_id = token_in(render_form(PRODUCT))
    first = pay(accepton, token_id).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert verify_charge(first["id"], token_id).ok

    second = pay(accepton, token_id)

    if accepton.state.dialect.token_payments == "once":
        assert second.status_code == 400
        assert second.json()["error"]["type"] == "token_already_used"
    else:
        assert second.status_code == 201
        with django_capture_on_commit_callbacks(execute=True):
            result = verify_charge(second.json()["id"], token_id)
        assert result.reason is Reason.TOKEN_ALREADY_FULFILLED
        assert Charge.objects.get(pk=second.json()["id"]).verification == Verification.REJECTED
    assert [entry[0] for entry in signal_log].count("verified") == 1


def test_a_claim_left_pending_by_a_crash_is_judged_when_the_customer_comes_back(accepton):
    # The claim was committed, then the process died before AcceptOn answered: no reason.
    token_id = token_in(render_form(PRODUCT))
    charge = pay(accepton, token_id).json()
    token = TransactionToken.objects.get(pk=token_id)
    Charge.objects.create(id=charge["id"], environment="sandbox", token=token)

    result = verify_charge(charge["id"], token_id)

    assert result.ok
    # Another token's claim of it is still a replay.
    other = token_in(render_form({**PRODUCT, "description": "Order 3003"}))
    assert verify_charge(charge["id"], other).reason is Reason.ALREADY_CLAIMED


# A second payment of one token is AcceptOn's to take or refuse (undocumented): taken here.
PAYABLE_TWICE = Dialect.preset("hostile").replace(token_payments="many")


@pytest.mark.accepton_dialect(PAYABLE_TWICE)
def test_a_charge_refused_under_a_status_no_document_names_is_still_left_to_a_human(accepton):
    """Refused for another reason (its token was sold), but with a status that may have taken
    money: an attention item all the same, never silently kept."""
    token_id = token_in(render_form(PRODUCT))
    assert verify_charge(pay(accepton, token_id).json()["id"], token_id).ok
    control(accepton, "charge_overrides", {"status": "submitted_for_settlement"})
    second = pay(accepton, token_id).json()["id"]

    assert verify_charge(second, token_id).reason is Reason.TOKEN_ALREADY_FULFILLED
    row = Charge.objects.get(pk=second)
    assert (row.attention, row.needs_attention) == ("token_already_fulfilled", True)


@pytest.mark.accepton_dialect(PAYABLE_TWICE)
def test_a_held_charge_whose_token_another_charge_paid_meanwhile_is_left_to_a_human(accepton):
    token_id = token_in(render_form(PRODUCT))
    control(accepton, "charge_overrides", {"status": "pending"})
    held = pay(accepton, token_id).json()["id"]
    assert verify_charge(held, token_id).reason is Reason.STATUS_UNCONFIRMED
    # The customer goes back to the page, which still shows the form, and pays by card.
    card = pay(accepton, token_id).json()["id"]
    assert verify_charge(card, token_id).ok

    (result,) = reverify_pending_charges(older_than=0)

    assert result.reason is Reason.TOKEN_ALREADY_FULFILLED
    assert Charge.objects.get(pk=held).needs_attention


def test_a_refunded_charge_is_refused_as_refunded_at_once_whatever_its_status(accepton):
    token_id = token_in(render_form(PRODUCT))
    charge_id = pay(accepton, token_id).json()["id"]
    accepton.state.create_refund(charge_id, PRODUCT["amount"])
    accepton.state.set_charge_status(charge_id, "refunded")  # a processor's own word for it

    assert verify_charge(charge_id, token_id).reason is Reason.REFUNDED
    row = Charge.objects.get(pk=charge_id)
    assert (row.verification, row.attention) == ("rejected", "")


def test_a_held_claims_look_does_not_undo_a_refund_the_sync_saw(
    accepton, django_capture_on_commit_callbacks
):
    """A look asks AcceptOn; the money goes back and the sync records it; the look's older
    answer must not write the refund away (the next sync would announce it twice)."""
    from unittest import mock

    from django_accepton.api import get_client
    from django_accepton.services.sync import sync_charges

    token_id = token_in(render_form(PRODUCT))
    control(accepton, "charge_overrides", {"status": "pending"})
    charge_id = pay(accepton, token_id).json()["id"]
    assert verify_charge(charge_id, token_id).reason is Reason.STATUS_UNCONFIRMED
    with refunds_announced() as heard:
        client = get_client()
        older = client.charges.retrieve(charge_id)
        accepton.state.create_refund(charge_id, PRODUCT["amount"])
        with django_capture_on_commit_callbacks(execute=True):
            sync_charges()
        with mock.patch.object(type(client.charges), "retrieve", return_value=older):
            (look,) = reverify_pending_charges(older_than=0)
        kept = Charge.objects.get(pk=charge_id).refunded
        with django_capture_on_commit_callbacks(execute=True):
            sync_charges()
    announced = [a["charge"].pk for a in heard]

    assert look.reason is Reason.STATUS_UNCONFIRMED
    assert kept is True
    assert announced == [charge_id]
