"""Every way AcceptOn can fail during verification leaves a pending claim, never a lost payment,
and reconciliation finishes each one once AcceptOn answers again."""

from __future__ import annotations

import pytest

from django_accepton.models import Charge, Verification
from django_accepton.services.verification import Reason, reverify_pending_charges, verify_charge
from tests.checkout.conftest import pay, render_form, token_in

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

FAULTS = {
    "503": {"status": 503},
    "500": {"status": 500},
    "malformed JSON": {"malformed_json": True},
    "dropped connection": {"drop_connection": True},
    "read timeout": {"delay": 1.5},
}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_leaves_claim_pending_then_reconciliation_verifies_it(
    accepton, settings, fault, signal_log, proof, django_capture_on_commit_callbacks
):
    settings.ACCEPTON = {**settings.ACCEPTON, "TIMEOUT": (2, 0.5)}
    token_id = token_in(
        render_form({"amount": 1500, "currency": "usd", "description": f"Fault {fault}"})
    )
    charge_id = pay(accepton, token_id).json()["id"]
    accepton.state.add_fault(
        {**FAULTS[fault], "count": 1, "path_prefix": "/v1/charges/", "method": "GET"}
    )

    first = verify_charge(charge_id, token_id)

    assert first.reason is Reason.API_UNAVAILABLE
    assert Charge.objects.get(pk=charge_id).verification == Verification.PENDING
    assert signal_log == []

    with django_capture_on_commit_callbacks(execute=True):
        finished = reverify_pending_charges(older_than=0)

    lost = Charge.objects.filter(pk=charge_id).exclude(verification=Verification.VERIFIED).count()
    fulfilments = sum(1 for entry in signal_log if entry[0] == "verified")
    proof(f"verification fault '{fault}': lost, fulfilments", f"{lost}, {fulfilments}", "0, 1")
    assert [r.reason for r in finished] == [Reason.OK]
    assert lost == 0
    assert signal_log == [("verified", charge_id, token_id)]


def test_refused_connection_leaves_claim_pending(accepton, settings):
    token_id = token_in(render_form({"amount": 1500, "currency": "usd", "description": "Refused"}))
    charge_id = pay(accepton, token_id).json()["id"]
    settings.ACCEPTON = {**settings.ACCEPTON, "BASE_URL": "http://127.0.0.1:9"}

    assert verify_charge(charge_id, token_id).reason is Reason.API_UNAVAILABLE

    settings.ACCEPTON = {**settings.ACCEPTON, "BASE_URL": accepton.url}
    assert [r.reason for r in reverify_pending_charges(older_than=0)] == [Reason.OK]
