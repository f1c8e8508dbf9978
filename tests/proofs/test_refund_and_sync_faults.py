"""AcceptOn failing during a refund or a sync: a clear error or an unknown state, nothing lost,
and the follow-up work (``reconcile_refunds``, a re-run of the sync) finishes the job once the
sandbox answers again."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from django_accepton.api import get_client
from django_accepton.models import RefundRequest, RefundState, Subscription, SyncState
from django_accepton.services.refunds import RefundError, reconcile_refunds, refund
from django_accepton.services.sync import SyncError, SyncResult, sync_subscriptions
from tests.mirror.helpers import fault, recurring, verified_charge

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

# The client gives up reading after 0.8 s: "slow" answers within it, "read timeout" does not
# (the sandbox then processes the request anyway, as a slow production server would).
TIMEOUT = (2, 0.8)
REFUSED = "connection refused"  # nothing listens on port 9
AMOUNT = 5000

REFUND_FAULTS: dict[str, tuple[dict[str, Any] | None, RefundState]] = {
    # Nothing documented says a 503 came before the refund was processed.
    "503": ({"status": 503}, RefundState.UNKNOWN),
    REFUSED: (None, RefundState.FAILED),
    "read timeout": ({"delay": 1.5}, RefundState.UNKNOWN),
    "malformed JSON": ({"malformed_json": True}, RefundState.UNKNOWN),
    "slow response": ({"delay": 0.3}, RefundState.SUCCEEDED),
}


def remote_refunded(sandbox, charge_id: str) -> int:
    return sum(item["amount"] for item in sandbox.state.refunds_for_charge(charge_id))


@pytest.mark.parametrize("name", REFUND_FAULTS)
def test_refund_fault_is_settled_once_acceptOn_answers_again(accepton, settings, name, proof):
    spec, expected = REFUND_FAULTS[name]
    settings.ACCEPTON = {**settings.ACCEPTON, "TIMEOUT": TIMEOUT}
    charge = verified_charge(accepton, AMOUNT)
    if spec is None:
        settings.ACCEPTON = {**settings.ACCEPTON, "BASE_URL": "http://127.0.0.1:9"}
    else:
        fault(accepton, path_prefix="/v1/refunds", method="POST", **spec)

    error = ""
    try:
        refund(charge, AMOUNT, "fault")
    except RefundError as exc:
        error = exc.message
    request = RefundRequest.objects.get(charge=charge)
    first = RefundState(request.state)

    # AcceptOn recovers; a request it received late is processed by then.
    settings.ACCEPTON = {**settings.ACCEPTON, "BASE_URL": accepton.url}
    deadline = time.monotonic() + 5
    while name == "read timeout" and not remote_refunded(accepton, charge.pk):
        assert time.monotonic() < deadline, "the delayed refund never reached the sandbox"
        time.sleep(0.05)
    settled = reconcile_refunds(older_than=0)
    charge.refresh_from_db()
    retried = charge.refundable_amount > 0
    if retried:  # a clear refusal: the admin presses Refund again
        refund(charge, charge.refundable_amount, "again")
    charge.refresh_from_db()

    remote = remote_refunded(accepton, charge.pk)
    unsettled = RefundRequest.objects.filter(
        state__in=(RefundState.REQUESTED, RefundState.UNKNOWN)
    ).count()
    proof(
        f"refund fault '{name}': state; AcceptOn / local; unsettled",
        f"{first.value}; {remote} / {charge.amount_refunded}; {unsettled}",
        f"{expected.value}; {AMOUNT} / {AMOUNT}; 0",
    )
    assert first is expected
    if first is RefundState.FAILED:
        assert error  # the admin is told why
        assert retried
    if first is RefundState.UNKNOWN:
        # The reconciliation alone settled it, without a second refund; a request AcceptOn
        # never processed is released and the admin refunds again.
        assert settled.succeeded + settled.released == 1
        assert retried == bool(settled.released)
    assert remote == charge.amount_refunded == AMOUNT
    assert charge.refunded
    assert unsettled == 0


SUBSCRIPTIONS = 350
SYNC_FAULTS: dict[str, dict[str, Any] | None] = {
    "503": {"status": 503},
    "500": {"status": 500},
    REFUSED: None,
    "read timeout": {"delay": 1.5},
    "malformed JSON": {"malformed_json": True},
    "dropped connection": {"drop_connection": True},
    "slow responses": {"delay": 0.3, "count": 3},
}


def remote_subscription_ids(sandbox) -> set[str]:
    ids: set[str] = set()
    for page in range(1, math.ceil(SUBSCRIPTIONS / 100) + 1):
        listed = sandbox.state.list_subscriptions(page=page, per_page=100)["data"]
        ids.update(item["id"] for item in listed)
    return ids


@pytest.mark.parametrize("name", SYNC_FAULTS)
def test_sync_fault_loses_nothing_and_a_rerun_finishes(accepton, settings, name, proof):
    settings.ACCEPTON = {**settings.ACCEPTON, "TIMEOUT": TIMEOUT}
    accepton.state.seed("subscriptions", SUBSCRIPTIONS)
    spec = SYNC_FAULTS[name]
    client = get_client()

    def fail_after_page_one(result: SyncResult) -> None:
        if result.pages != 1:
            return
        if spec is None:
            client.transport.base_url = "http://127.0.0.1:9"
        else:
            fault(accepton, path_prefix=recurring(accepton, "subscriptions"), method="GET", **spec)

    outcome = "finished"
    try:
        sync_subscriptions(progress=fail_after_page_one)
    except SyncError as exc:
        outcome = "SyncError at page 2" if "stopped at page 2" in str(exc) else str(exc)
    finally:
        client.transport.base_url = accepton.url
    after_fault = Subscription.objects.count()
    state = SyncState.objects.get(resource="subscriptions")
    lease_freed = state.lock_expires_at is None

    rerun = sync_subscriptions()

    local = set(Subscription.objects.values_list("id", flat=True))
    lost = len(remote_subscription_ids(accepton) - local)
    expected = "finished" if name == "slow responses" else "SyncError at page 2"
    proof(
        f"sync fault '{name}': outcome; rows, after re-run; lost",
        f"{outcome}; {after_fault}, {len(local)}; {lost}",
        f"{expected}; {'350' if expected == 'finished' else '<350'}, {SUBSCRIPTIONS}; 0",
    )
    assert outcome == expected
    assert lease_freed
    if outcome != "finished":
        assert after_fault == 100  # page 1 was written before the fault
        assert state.last_error
        assert (rerun.created, rerun.unchanged) == (SUBSCRIPTIONS - 100, 100)
    assert len(local) == SUBSCRIPTIONS
    assert lost == 0
    assert SyncState.objects.get(resource="subscriptions").last_error == ""
