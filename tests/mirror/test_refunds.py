"""Refunds: partial refunds add up, never beyond the charge, and every outcome is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from django_accepton.models import Charge, Refund, RefundRequest, RefundState, Verification
from django_accepton.services.refunds import (
    InvalidRefundAmount,
    RefundDeclined,
    RefundNotAllowed,
    RefundOutcomeUnknown,
    reconcile_refunds,
    refund,
)
from django_accepton.services.sync import sync_charges
from tests.mirror.helpers import api_calls, fault, refunds_announced, verified_charge

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]


def remote_refunded(sandbox, charge_id: str) -> int:
    return sum(item["amount"] for item in sandbox.state.refunds_for_charge(charge_id))


def test_partial_refunds_add_up_to_the_charge(accepton):
    charge = verified_charge(accepton, 5000)
    user = get_user_model().objects.create_user("clerk")

    first = refund(charge, 2000, "damaged", requested_by=user)
    second = refund(charge.pk, 1000)

    charge.refresh_from_db()
    # refunded mirrors AcceptOn's flag, read back after each refund: on at a partial refund
    # where AcceptOn turns it on then (undocumented).
    flag_on_any = accepton.state.dialect.refunded_flag == "any"
    assert (charge.amount_refunded, charge.refunded, charge.refundable_amount) == (
        3000,
        flag_on_any,
        2000,
    )
    assert first.state == second.state == RefundState.SUCCEEDED
    assert (first.reason, first.requested_by, first.refund.amount) == ("damaged", user, 2000)
    assert first.refund.id.startswith("ref_")
    assert remote_refunded(accepton, charge.pk) == 3000

    refund(charge, 2000)

    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    assert Refund.objects.filter(charge=charge).count() == 3
    assert remote_refunded(accepton, charge.pk) == 5000


def test_a_refund_id_acceptOn_answers_twice_still_records_the_money(
    accepton, monkeypatch, django_capture_on_commit_callbacks
):
    """A server that answers every refund with the same id (as the documents' sample answer
    does) still has each refund recorded and announced: the money went back each time."""
    from dataclasses import replace

    from django_accepton.api import get_client

    service = type(get_client().refunds)
    real = service.create

    def same_id(self, *args, **kwargs):
        answered = real(self, *args, **kwargs)
        return replace(answered, id="ref_123", raw={**answered.raw, "id": "ref_123"})

    monkeypatch.setattr(service, "create", same_id)
    with refunds_announced() as heard:
        charge = verified_charge(accepton, 5000)
        with django_capture_on_commit_callbacks(execute=True):
            first = refund(charge, 2000)
            second = refund(charge, 3000)
    announced = [(a["amount"], a["full"]) for a in heard]

    assert first.state == second.state == RefundState.SUCCEEDED
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [2000, 3000]
    assert first.refund.raw["id"] == second.refund.raw["id"] == "ref_123"
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    assert announced == [(2000, False), (3000, True)]


def test_a_refund_still_on_its_way_is_not_settled_by_the_reconciliation(accepton, monkeypatch):
    """The read before the refund, retried, can outlast RECONCILE_AFTER_SECONDS: the wait is
    counted from the call, so a reconciliation running meanwhile leaves the request alone."""
    from datetime import timedelta

    from django.utils import timezone

    from django_accepton.api import get_client
    from django_accepton.services import refunds as refunds_service

    real_note, service = refunds_service._note_flag_before, type(get_client().refunds)
    real_create = service.create
    settled: list[Any] = []

    def slow_read(client, request):
        real_note(client, request)
        RefundRequest.objects.filter(pk=request.pk).update(
            updated=timezone.now() - timedelta(seconds=refunds_service.RECONCILE_AFTER_SECONDS + 60)
        )

    def create_while_reconciling(self, *args, **kwargs):
        settled.append(reconcile_refunds())
        return real_create(self, *args, **kwargs)

    monkeypatch.setattr(refunds_service, "_note_flag_before", slow_read)
    monkeypatch.setattr(service, "create", create_while_reconciling)
    charge = verified_charge(accepton, 5000)

    request = refund(charge, 5000)

    assert settled[0].as_dict() == {
        "charges_checked": 0,
        "succeeded": 0,
        "released": 0,
        "still_unknown": 0,
    }
    assert request.state == RefundState.SUCCEEDED
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (5000, True)


def test_a_refund_settled_by_hand_counts_toward_the_whole_charge(
    accepton, django_capture_on_commit_callbacks
):
    """What the package returned is every succeeded request, with or without a Refund row
    (one settled by hand has none): the refund of the rest is announced as full."""
    from django_accepton.services.refunds import settle_by_hand

    charge = verified_charge(accepton, 5000)
    fault(accepton, status=503, path_prefix="/v1/refunds", count=3)
    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 1000)
    accepton.state.clear_faults()
    settle_by_hand(RefundRequest.objects.get(), refunded=True)
    with refunds_announced() as heard, django_capture_on_commit_callbacks(execute=True):
        refund(charge, 4000)
    announced = [a["full"] for a in heard]

    assert announced == [True]
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (5000, True)


def test_a_partial_refund_is_never_announced_as_full(accepton, django_capture_on_commit_callbacks):
    """Whichever way AcceptOn's flag reads (on after any refund, or once all of it went back),
    ``full`` says what this store's own refunds returned."""

    with refunds_announced() as heard:
        charge = verified_charge(accepton, 5000)
        with django_capture_on_commit_callbacks(execute=True):
            refund(charge, 2000)
            Charge.objects.filter(pk=charge.pk).update(refunded=True)  # the flag, read "any"
            refund(charge, 1000)
            refund(charge, 2000)
    announced = [a["full"] for a in heard]

    assert announced == [False, False, True]


@pytest.mark.parametrize("amount", [5001, 10_000])
def test_over_refund_is_refused_before_calling_acceptOn(accepton, amount):
    charge = verified_charge(accepton, 5000)

    with pytest.raises(InvalidRefundAmount, match="more than the 5000 left"):
        refund(charge, amount)

    assert api_calls(accepton, "POST", "/v1/refunds") == 0
    assert not RefundRequest.objects.exists()
    charge.refresh_from_db()
    assert charge.amount_refunded == 0


def test_what_is_left_after_a_partial_refund_bounds_the_next(accepton):
    charge = verified_charge(accepton, 5000)
    refund(charge, 4000)

    with pytest.raises(InvalidRefundAmount):
        refund(charge, 1001)

    assert refund(charge, 1000).state == RefundState.SUCCEEDED


@pytest.mark.parametrize("amount", [0, -1, True, 10.5, "100", None])
def test_bad_amounts_are_refused(accepton, amount):
    charge = verified_charge(accepton, 5000)

    with pytest.raises(InvalidRefundAmount):
        refund(charge, amount)

    assert not RefundRequest.objects.exists()


@pytest.mark.parametrize(
    "verification", [Verification.PENDING, Verification.REJECTED, Verification.UNCLAIMED]
)
def test_only_verified_charges_can_be_refunded(accepton, verification):
    charge = verified_charge(accepton, 5000)
    Charge.objects.filter(pk=charge.pk).update(verification=verification)

    with pytest.raises(RefundNotAllowed, match="Only verified charges"):
        refund(charge, 100)

    assert api_calls(accepton, "POST", "/v1/refunds") == 0


def test_unknown_and_foreign_charges_are_refused(accepton):
    with pytest.raises(RefundNotAllowed, match="no charge"):
        refund("chg_nothere", 100)
    charge = verified_charge(accepton, 5000)
    Charge.objects.filter(pk=charge.pk).update(environment="production")

    with pytest.raises(RefundNotAllowed, match="production environment"):
        refund(charge, 100)


def test_acceptons_refusal_is_recorded_and_releases_the_amount(accepton):
    charge = verified_charge(accepton, 5000)
    # Refunded in AcceptOn's dashboard: this store still thinks all 5000 are left.
    accepton.state.create_refund(charge.pk, 3000)
    flag_on_any_refund = accepton.state.dialect.refunded_flag == "any"

    # Where AcceptOn's flag turns on at any refund, it shows one this store never made, which
    # may be all of it: nothing is sent. Elsewhere AcceptOn itself refuses more than is left.
    refused = RefundNotAllowed if flag_on_any_refund else RefundDeclined
    message = "reports the charge refunded" if flag_on_any_refund else "exceeds what is left"
    with pytest.raises(refused, match=message) as caught:
        refund(charge, 5000, "customer asked")

    request = caught.value.request
    request.refresh_from_db()
    assert request.state == RefundState.FAILED
    assert request.refund is None
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (0, flag_on_any_refund)
    assert remote_refunded(accepton, charge.pk) == 3000
    if not flag_on_any_refund:
        assert "exceeds what is left to refund on this charge (2000)" in request.error


def test_a_503_leaves_a_partial_refund_unknown_and_reserved_for_a_human(
    accepton, django_capture_on_commit_callbacks
):
    # Whether a 503 came before or after the refund was processed is undocumented; a partial
    # refund cannot be told from the charge's refunded flag either.

    charge = verified_charge(accepton, 5000)
    fault(accepton, status=503, path_prefix="/v1/refunds", count=3)

    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 1000)

    assert api_calls(accepton, "POST", "/v1/refunds") == 1  # never sent again
    charge.refresh_from_db()
    assert charge.amount_refunded == 1000  # reserved
    request = RefundRequest.objects.get()
    assert request.state == RefundState.UNKNOWN

    with refunds_announced() as heard:
        with django_capture_on_commit_callbacks(execute=True):
            result = reconcile_refunds(older_than=0)
        with django_capture_on_commit_callbacks(execute=True):
            sync_charges(full=True)
    announced = [(a["amount"], a["full"], a["source"]) for a in heard]

    assert (result.succeeded, result.released, result.still_unknown) == (0, 0, 1)
    request.refresh_from_db()
    assert request.state == RefundState.UNKNOWN
    assert "Check AcceptOn's dashboard" in request.error
    charge.refresh_from_db()
    assert charge.amount_refunded == 1000
    processed = accepton.state.dialect.write_503 == "after"
    assert remote_refunded(accepton, charge.pk) == (1000 if processed else 0)
    # The flag it turned on (where it turns on at a partial refund) is announced once.
    flag_on = processed and accepton.state.dialect.refunded_flag == "any"
    assert announced == ([(None, None, "reconciliation")] if flag_on else [])


def test_a_503_on_a_full_refund_is_settled_by_reconciliation_either_way(accepton):
    charge = verified_charge(accepton, 5000)
    fault(accepton, status=503, path_prefix="/v1/refunds")

    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 5000)
    result = reconcile_refunds(older_than=0)

    processed = accepton.state.dialect.write_503 == "after"
    assert (result.succeeded, result.released) == ((1, 0) if processed else (0, 1))
    charge.refresh_from_db()
    assert charge.amount_refunded == remote_refunded(accepton, charge.pk)


def test_a_request_that_never_left_is_released(accepton, settings):
    charge = verified_charge(accepton, 5000)
    # Nothing listens on port 9: the connection is refused, so nothing was sent.
    settings.ACCEPTON = {**settings.ACCEPTON, "BASE_URL": "http://127.0.0.1:9"}

    with pytest.raises(RefundDeclined, match="Could not connect"):
        refund(charge, 1000)

    charge.refresh_from_db()
    assert charge.amount_refunded == 0
    assert RefundRequest.objects.get().state == RefundState.FAILED


@pytest.mark.parametrize(
    "lost", [{"status": 500}, {"drop_connection": True}], ids=["500", "dropped connection"]
)
def test_ambiguous_error_keeps_the_amount_reserved_until_reconciled(accepton, lost):
    charge = verified_charge(accepton, 5000)
    # The sandbox fails these before processing: AcceptOn refunded nothing, but the store
    # cannot know that.
    fault(accepton, path_prefix="/v1/refunds", **lost)

    with pytest.raises(RefundOutcomeUnknown) as caught:
        refund(charge, 5000)

    request = caught.value.request
    assert request.state == RefundState.UNKNOWN
    charge.refresh_from_db()
    assert charge.amount_refunded == 5000  # reserved: no other refund can go beyond it
    with pytest.raises(InvalidRefundAmount):
        refund(charge, 1)

    # Too recent: its call could still be waiting for AcceptOn.
    assert reconcile_refunds().charges_checked == 0
    settled = reconcile_refunds(older_than=0)

    assert settled.as_dict() == {
        "charges_checked": 1,
        "succeeded": 0,
        "released": 1,
        "still_unknown": 0,
    }
    request.refresh_from_db()
    assert request.state == RefundState.FAILED
    assert "reservation was released" in request.error
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    assert refund(charge, 5000).state == RefundState.SUCCEEDED


def test_lost_answer_of_a_refund_that_happened_is_confirmed_by_reconciliation(accepton):
    charge = verified_charge(accepton, 5000)
    # The sandbox refunds, then answers with a body that cannot be read.
    fault(accepton, malformed_json=True, path_prefix="/v1/refunds")

    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 5000)

    assert remote_refunded(accepton, charge.pk) == 5000
    settled = reconcile_refunds(older_than=0)

    assert (settled.succeeded, settled.released) == (1, 0)
    request = RefundRequest.objects.get()
    assert request.state == RefundState.SUCCEEDED
    assert "refund id is not known" in request.error
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded, charge.refundable_amount) == (5000, True, 0)


def test_reconciliation_leaves_requests_unsettled_while_acceptOn_is_down(accepton):
    charge = verified_charge(accepton, 5000)
    fault(accepton, status=500, path_prefix="/v1/refunds")
    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 2000)
    fault(accepton, status=502, path_prefix=f"/v1/charges/{charge.pk}")

    settled = reconcile_refunds(older_than=0)

    assert (settled.charges_checked, settled.still_unknown) == (0, 1)
    assert RefundRequest.objects.get().state == RefundState.UNKNOWN


def test_a_crash_after_the_request_was_committed_keeps_the_reservation(accepton, monkeypatch):
    charge = verified_charge(accepton, 5000)
    from django_accepton.api import get_client

    def explode(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(get_client().refunds, "create", explode)

    with pytest.raises(RuntimeError):
        refund(charge, 1500)

    assert RefundRequest.objects.get().state == RefundState.UNKNOWN
    charge.refresh_from_db()
    assert charge.amount_refunded == 1500


def test_an_unknown_refund_after_an_earlier_partial_one_is_confirmed_only_if_proven(accepton):
    # Where 'refunded' turns on at the first refund, it proves nothing about a later one: the
    # second request stays for a human instead of being taken for done.
    charge = verified_charge(accepton, 5000)
    refund(charge, 2000)
    fault(accepton, status=503, path_prefix="/v1/refunds", method="POST")
    dialect = accepton.state.dialect
    processed = dialect.write_503 == "after"
    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, 3000)

    result = reconcile_refunds(older_than=0)

    request = RefundRequest.objects.get(amount=3000)
    if dialect.refunded_flag == "any":
        assert request.refunded_before is True  # our own first refund turned it on
        assert (request.state, result.still_unknown) == (RefundState.UNKNOWN, 1)
    elif processed:
        assert (request.state, result.succeeded) == (RefundState.SUCCEEDED, 1)
    else:
        assert (request.state, result.released) == (RefundState.FAILED, 1)
    charge.refresh_from_db()
    # Never less reserved than AcceptOn refunded: nothing can go out twice.
    assert charge.amount_refunded >= remote_refunded(accepton, charge.pk)
    assert remote_refunded(accepton, charge.pk) == (5000 if processed else 2000)
