"""Subscriptions through the package's checkout: a plan's rtx_ token, paid by many customers.

Each payment is claimed and judged once, like a one-off payment, but the token is never
consumed, and a verified payment is linked to the subscription AcceptOn created for it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from django_accepton.client import NotFoundError
from django_accepton.models import Charge, Plan, Subscription, TransactionToken, Verification
from django_accepton.products import ProductError
from django_accepton.services.plans import create_plan
from django_accepton.services.promo_codes import create_promo_code
from django_accepton.services.recurring import (
    SUBSCRIPTION_LOOKUPS,
    SUBSCRIPTION_WAIT,
    RecurringTokenMismatch,
    RecurringTokenMissing,
    recurring_token_for,
    set_recurring_token,
)
from django_accepton.services.sync import sync_charges
from django_accepton.services.verification import (
    PENDING_REASONS,
    Reason,
    claim_orphaned_charges,
    reverify_pending_charges,
    verify_charge,
)
from django_accepton.signals import charge_verified
from tests.checkout.conftest import SUCCESS_CARD, control, render_form, token_in
from tests.concurrency import in_threads
from tests.dialects import RTX_RETRIEVABLE, RTX_UNRETRIEVABLE
from tests.migrations import migrated
from tests.mirror.helpers import recurring

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]


def render_subscription(plan: Any, arguments: str = "") -> str:
    request = RequestFactory().get("/plans/")
    template = Template(
        "{% load accepton %}{% accepton_subscription_form plan " + arguments + " %}"
    )
    return template.render(Context({"plan": plan, "request": request}))


def subscribe(sandbox: Any, token_id: str, email: str, *, promo_code: str = "") -> str:
    """A customer paying the plan's token in the form; answers the charge id."""
    charge = sandbox.state.create_form_charge(
        token_id,
        SUCCESS_CARD,
        12,
        date.today().year + 2,
        "123",
        email,
        promo_code=promo_code or None,
    )
    return str(charge["id"])


def recurring_tokens_made(sandbox: Any) -> int:
    """Tokens on the sandbox: only recurring ones where these tests use it."""
    return int(sandbox.state.summary()["tokens"])


@pytest.fixture
def plan(accepton: Any) -> Plan:
    return create_plan("Ink club", 1500, "usd", "month")


@pytest.fixture
def other_plan(accepton: Any) -> Plan:
    return create_plan("Letter of the month", 900, "usd", "month")


@pytest.fixture
def verified_log() -> Any:
    """``(charge id, token id, token.is_recurring, subscription id)`` per charge_verified."""
    log: list[tuple[str, str, bool, str | None]] = []

    def receiver(sender: Any, charge: Charge, token: TransactionToken, **kwargs: Any) -> None:
        log.append((charge.pk, token.pk, token.is_recurring, charge.subscription_id))

    charge_verified.connect(receiver, weak=False, dispatch_uid="recurring-log")
    yield log
    charge_verified.disconnect(dispatch_uid="recurring-log")


# ----- the token and the tag ----------------------------------------------------------------


@pytest.mark.accepton_dialect(RTX_RETRIEVABLE)
def test_the_tag_renders_the_plans_recurring_token(accepton, plan):
    html = render_subscription(plan, 'target="ink" customer_email="ann@example.com"')

    token_id = token_in(html)
    assert token_id.startswith("rtx_")
    assert accepton.public_key in html
    assert accepton.secret_key not in html
    assert 'data-target="ink"' in html
    assert 'data-customer-email="ann@example.com"' in html
    assert f'data-redirect-uri="http://testserver/accepton/return/?token={token_id}"' in html
    row = TransactionToken.objects.get(pk=token_id)
    assert (row.amount, row.currency, row.description, row.target) == (
        1500,
        "usd",
        "Ink club",
        plan,
    )
    assert row.is_recurring
    plan.refresh_from_db()
    assert plan.recurring_token == token_id
    # The sandbox describes the token as the plan's (with the type every token has).
    remote = accepton.state.retrieve_token(token_id)
    assert (remote["type"], remote["plan_id"], remote["amount"]) == ("transaction", plan.pk, 1500)

    # The next renders use the same token, without asking AcceptOn again.
    requests_before = len(accepton.state.request_log)
    assert token_in(render_subscription(plan)) == token_id
    assert token_in(render_subscription(Plan.objects.get(pk=plan.pk))) == token_id
    assert len(accepton.state.request_log) == requests_before
    assert recurring_tokens_made(accepton) == 1


def test_in_page_verification_works_for_plans_too(accepton, plan):
    html = render_subscription(plan, "verify_in_page=True")
    token_id = token_in(html)
    assert f'data-success-callback="acceptonVerify_{token_id}"' in html
    assert "/accepton/api/charges/verify/" in html


def test_a_plan_is_not_a_one_off_product(accepton, plan):
    with pytest.raises(ProductError, match="accepton_subscription_form"):
        render_form(plan)
    with pytest.raises(ProductError, match="Plan"):
        render_subscription({"amount": 1500, "currency": "usd"})
    assert not TransactionToken.objects.exists()


@pytest.mark.accepton_dialect(RTX_RETRIEVABLE)
def test_a_token_made_in_the_dashboard_is_used_and_checked(accepton, plan, other_plan):
    made = accepton.state.create_recurring_token(plan.pk)["id"]
    set_recurring_token(plan, made)
    assert recurring_token_for(plan).pk == made
    assert recurring_tokens_made(accepton) == 1

    # Another plan's token, or one AcceptOn does not know, is refused and changes nothing.
    with pytest.raises(RecurringTokenMismatch, match="token of plan"):
        set_recurring_token(other_plan, made)
    other_plan.refresh_from_db()
    assert other_plan.recurring_token is None
    with pytest.raises(NotFoundError):
        set_recurring_token(other_plan, "rtx_notonacceptOn")
    assert not TransactionToken.objects.filter(pk="rtx_notonacceptOn").exists()


@pytest.mark.accepton_dialect(RTX_UNRETRIEVABLE)
def test_a_token_acceptOn_cannot_describe_is_taken_as_its_plans(accepton, plan, other_plan):
    # Only txn_ retrieval is documented: a server answering "not found" for every rtx_ token
    # still sells the plan, at the plan's own price, under the merchant's token.
    made = accepton.state.create_recurring_token(plan.pk)["id"]
    set_recurring_token(plan, made)
    row = recurring_token_for(plan)
    assert (row.pk, row.amount, row.currency, row.description) == (made, 1500, "usd", "Ink club")
    assert row.raw == {}

    # A token already set on another plan is still refused, from what is known here.
    with pytest.raises(RecurringTokenMismatch, match="token of plan"):
        set_recurring_token(other_plan, made)
    other_plan.refresh_from_db()
    assert other_plan.recurring_token is None

    # And its payments verify like any other.
    charge_id = subscribe(accepton, made, "ann@example.com")
    result = verify_charge(charge_id, made)
    assert result.ok
    assert Charge.objects.get(pk=charge_id).subscription is not None


def test_a_stale_token_row_follows_the_plan(accepton, plan):
    made = accepton.state.create_recurring_token(plan.pk)["id"]
    TransactionToken.objects.create(
        id=made, environment="sandbox", amount=1, currency="eur", description="Old"
    )
    Plan.objects.filter(pk=plan.pk).update(recurring_token=made)
    plan.refresh_from_db()
    row = recurring_token_for(plan)
    assert (row.amount, row.currency, row.description, row.target) == (
        1500,
        "usd",
        "Ink club",
        plan,
    )


def test_no_token_outside_the_sandbox_means_no_form(accepton, settings, caplog):
    settings.ACCEPTON = {**settings.ACCEPTON, "ENVIRONMENT": "staging"}
    plan = Plan.objects.create(
        id="pln_staging", environment="staging", name="Gold", amount=100, currency="usd"
    )
    with pytest.raises(RecurringTokenMissing, match="pln_staging"):
        recurring_token_for(plan)
    html = render_subscription(plan)
    assert "temporarily unavailable" in html
    assert "data-token" not in html
    assert "pln_staging has no recurring token" in caplog.text
    assert recurring_tokens_made(accepton) == 0


# ----- verification -------------------------------------------------------------------------


def test_two_customers_pay_one_plan(
    accepton, plan, verified_log, django_capture_on_commit_callbacks
):
    token_id = recurring_token_for(plan).pk
    ann = subscribe(accepton, token_id, "ann@example.com")
    bob = subscribe(accepton, token_id, "Bob@Example.com")

    with django_capture_on_commit_callbacks(execute=True):
        assert verify_charge(ann, token_id).reason is Reason.OK
        assert verify_charge(bob, token_id).reason is Reason.OK

    rows = {row.pk: row for row in Charge.objects.select_related("subscription")}
    assert {row.verification for row in rows.values()} == {Verification.VERIFIED}
    assert all(row.recurring and row.token_id == token_id for row in rows.values())
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None
    ann_sub, bob_sub = rows[ann].subscription, rows[bob].subscription
    assert ann_sub is not None
    assert bob_sub is not None
    assert (ann_sub.email, bob_sub.email) == ("ann@example.com", "Bob@Example.com")
    assert ann_sub.plan_id == bob_sub.plan_id == plan.pk
    assert accepton.state.retrieve_subscription(ann_sub.pk)["active"] is True
    assert Subscription.objects.count() == 2
    assert verified_log == [
        (ann, token_id, True, ann_sub.pk),
        (bob, token_id, True, bob_sub.pk),
    ]
    # A third customer can still pay the same token.
    carl = subscribe(accepton, token_id, "carl@example.com")
    assert verify_charge(carl, token_id).ok


def test_the_same_charge_submitted_twice_fulfils_once(
    accepton, client, plan, verified_log, django_capture_on_commit_callbacks
):
    token_id = recurring_token_for(plan).pk
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    url = f"{reverse('accepton:return')}?token={token_id}"

    # The redirect and the in-page callback both arrive.
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"response": json.dumps({"id": charge_id})})
        second = client.post(
            reverse("accepton:verify"),
            {"charge_id": charge_id, "token": token_id},
            content_type="application/json",
        )

    assert first["Location"].startswith(reverse("accepton:success"))
    assert second.status_code == 200
    assert (second.json()["reason"], second.json()["paid"]) == ("already_claimed", True)
    assert Charge.objects.filter(verification=Verification.VERIFIED).count() == 1
    assert Subscription.objects.filter(charge__isnull=False).count() == 1
    assert [entry[0] for entry in verified_log] == [charge_id]


@pytest.mark.django_db(transaction=True)
def test_the_same_charge_submitted_twice_signals_once(accepton, plan, verified_log):
    token_id = recurring_token_for(plan).pk
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    assert verify_charge(charge_id, token_id).ok
    again = verify_charge(charge_id, token_id)
    assert again.reason is Reason.ALREADY_CLAIMED
    assert again.paid
    assert [entry[0] for entry in verified_log] == [charge_id]


def test_a_charge_at_another_plans_price_is_refused(
    accepton, plan, other_plan, signal_log, django_capture_on_commit_callbacks
):
    ink = recurring_token_for(plan).pk
    letters = recurring_token_for(other_plan).pk
    charge_id = subscribe(accepton, letters, "ann@example.com")  # pays 900

    with django_capture_on_commit_callbacks(execute=True):
        result = verify_charge(charge_id, ink)

    assert result.reason is Reason.AMOUNT_MISMATCH
    assert not result.paid
    row = Charge.objects.get(pk=charge_id)
    assert (row.verification, row.subscription) == (Verification.REJECTED, None)
    assert signal_log == [("rejected", charge_id, "amount_mismatch")]
    # Claimed once: presented again for its own plan, it is a replay.
    assert verify_charge(charge_id, letters).reason is Reason.ALREADY_CLAIMED


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"currency": "eur"}, Reason.CURRENCY_MISMATCH),
        ({"description": "Letter of the month"}, Reason.DESCRIPTION_MISMATCH),
        ({"status": "failed"}, Reason.STATUS_UNCONFIRMED),
        ({"amount": 1400}, Reason.AMOUNT_MISMATCH),
    ],
)
def test_a_charge_that_differs_from_the_plan_is_refused(accepton, plan, override, reason):
    token_id = recurring_token_for(plan).pk
    control(accepton, "charge_overrides", override)
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    assert verify_charge(charge_id, token_id).reason is reason
    assert Charge.objects.get(pk=charge_id).subscription is None


def test_a_promo_code_lowers_the_first_payment_by_its_own_rule(accepton, plan):
    create_promo_code("WELCOME10", "percentage", 10)
    create_promo_code("FIVEOFF", "amount", 500)
    token_id = recurring_token_for(plan).pk
    welcome = subscribe(accepton, token_id, "ann@example.com", promo_code="WELCOME10")

    result = verify_charge(welcome, token_id)

    assert result.ok
    row = Charge.objects.get(pk=welcome)
    assert (row.amount, row.promo_code) == (1350, "WELCOME10")
    assert row.subscription is not None
    # A code that exists, but does not give the amount charged, lowers nothing; nor does any
    # other code of the account.
    control(accepton, "charge_overrides", {"amount": 1001})
    cheat = subscribe(accepton, token_id, "bob@example.com", promo_code="WELCOME10")
    assert verify_charge(cheat, token_id).reason is Reason.AMOUNT_MISMATCH
    five = subscribe(accepton, token_id, "carl@example.com", promo_code="FIVEOFF")
    assert verify_charge(five, token_id).ok
    assert Charge.objects.get(pk=five).amount == 1000


def test_each_payment_of_one_payer_gets_its_own_subscription(accepton, plan):
    token_id = recurring_token_for(plan).pk
    first = subscribe(accepton, token_id, "ann@example.com")
    time.sleep(0.01)  # the sandbox dates to the millisecond
    second = subscribe(accepton, token_id, "ann@example.com")

    # The older payment is verified first: it still gets its own subscription, the one created
    # with it, not the newest.
    assert verify_charge(first, token_id).ok
    assert verify_charge(second, token_id).ok

    rows = [Charge.objects.select_related("subscription").get(pk=pk) for pk in (first, second)]
    assert all(row.subscription is not None for row in rows)
    assert rows[0].subscription_id != rows[1].subscription_id
    if accepton.state.dialect.subscription_order == "created_at":
        # Where subscriptions carry a creation time, each charge gets the one made with it.
        for row in rows:
            assert row.subscription is not None
            assert row.subscription.created == row.created


def _age_claims() -> None:
    """Make every claim older than the time a payment may wait for its subscription."""
    Charge.objects.update(claimed_at=timezone.now() - SUBSCRIPTION_WAIT - timedelta(seconds=1))


def _judged_until_refused(charge_id: str, token_id: str) -> list[Reason]:
    """Submit, then let the reconciliation try until the claim is decided."""
    reasons = [verify_charge(charge_id, token_id).reason]
    _age_claims()
    for _ in range(SUBSCRIPTION_LOOKUPS):
        if reasons[-1] not in PENDING_REASONS:
            break
        (result,) = reverify_pending_charges(older_than=0)
        reasons.append(result.reason)
    return reasons


def test_a_payment_whose_subscription_never_shows_is_refused_after_a_few_looks(accepton, plan):
    token_id = recurring_token_for(plan).pk
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    remote_sub = accepton.state.list_subscriptions()["data"][0]
    accepton.state.cancel_subscription(remote_sub["id"])  # gone before the customer came back

    reasons = _judged_until_refused(charge_id, token_id)

    waiting = [Reason.SUBSCRIPTION_NOT_VISIBLE] * (SUBSCRIPTION_LOOKUPS - 1)
    assert reasons == [*waiting, Reason.NOT_A_FIRST_PAYMENT]
    row = Charge.objects.get(pk=charge_id)
    assert (row.verification, row.subscription) == (Verification.REJECTED, None)
    assert row.needs_attention  # the money was taken: a human refunds it


def test_a_subscription_linked_to_a_charge_is_not_taken_again(accepton, plan):
    token_id = recurring_token_for(plan).pk
    first = subscribe(accepton, token_id, "ann@example.com")
    assert verify_charge(first, token_id).ok
    # A second payment whose own subscription AcceptOn did not make (cancelled at once here).
    second = subscribe(accepton, token_id, "ann@example.com")
    newest = accepton.state.list_subscriptions()["data"][0]  # the sandbox lists newest first
    accepton.state.cancel_subscription(newest["id"])
    first_subscription = Charge.objects.get(pk=first).subscription_id
    assert first_subscription is not None

    assert _judged_until_refused(second, token_id)[-1] is Reason.NOT_A_FIRST_PAYMENT
    assert Charge.objects.get(pk=second).subscription is None
    assert Charge.objects.get(pk=first).subscription_id == first_subscription


# ----- buying a subscription without one -------------------------------------------------------


def test_a_one_off_charge_posted_against_a_plans_token_buys_no_membership(accepton, plan):
    # A txn_ token at the plan's price and name: paid, but no subscription exists for it.
    lookalike = token_in(
        render_form({"amount": 1500, "currency": "usd", "description": "Ink club"})
    )
    charge = accepton.state.create_form_charge(
        lookalike, SUCCESS_CARD, 12, date.today().year + 2, "123", "eve@example.com"
    )
    token_id = recurring_token_for(plan).pk

    assert _judged_until_refused(charge["id"], token_id)[-1] is Reason.NOT_A_FIRST_PAYMENT
    assert not Charge.objects.filter(verification=Verification.VERIFIED).exists()
    assert not Subscription.objects.exists()


def test_a_renewal_posted_as_a_first_payment_buys_no_second_membership(accepton, plan):
    token_id = recurring_token_for(plan).pk
    first = subscribe(accepton, token_id, "ann@example.com")
    assert verify_charge(first, token_id).ok
    subscription_id = Charge.objects.get(pk=first).subscription_id
    renewal = accepton.state.bill_subscription(subscription_id)["charge"]["id"]

    result = verify_charge(renewal, token_id)

    assert result.reason is Reason.NOT_A_FIRST_PAYMENT
    verified = Charge.objects.filter(verification=Verification.VERIFIED)
    assert list(verified.values_list("pk", flat=True)) == [first]
    assert Charge.objects.filter(subscription_id=subscription_id).count() == 1


@pytest.mark.parametrize("judged_first", ["intruder", "victim"])
def test_a_payer_typing_someone_elses_email_does_not_take_their_subscription(
    accepton, plan, judged_first
):
    token_id = recurring_token_for(plan).pk
    victim = subscribe(accepton, token_id, "ann@example.com")
    time.sleep(0.01)  # the sandbox dates to the millisecond
    intruder = subscribe(accepton, token_id, "ann@example.com")  # Eve types Ann's email

    # Either may be judged first (Ann's may have been pending while AcceptOn was down).
    order = (intruder, victim) if judged_first == "intruder" else (victim, intruder)
    for charge_id in order:
        assert verify_charge(charge_id, token_id).ok

    rows = {row.pk: row for row in Charge.objects.select_related("subscription")}
    assert rows[victim].subscription_id != rows[intruder].subscription_id
    if accepton.state.dialect.first_billing == "at_payment":
        # Each payment got the subscription billed by that payment, not the newest one.
        for charge_id in (victim, intruder):
            remote = accepton.state.retrieve_charge(charge_id)
            billed = accepton.state.retrieve_subscription(rows[charge_id].subscription_id)
            stamp = remote.get("created_at") or remote.get("created")
            assert billed["last_billed_at"] == stamp


def lookalike_charge(sandbox: Any, email: str) -> str:
    """A one-off token of the plan's name and price (an order of the same name, say), paid
    with ``email`` typed in the form: a charge no subscription was made for."""
    lookalike = token_in(
        render_form({"amount": 1500, "currency": "usd", "description": "Ink club"})
    )
    charge = sandbox.state.create_form_charge(
        lookalike, SUCCESS_CARD, 12, date.today().year + 2, "123", email
    )
    return str(charge["id"])


def _settle(*claims: tuple[str, str]) -> dict[str, Reason]:
    """Submit each claim, then run the reconciliation until none is pending; the verdicts."""
    verdicts = {
        charge_id: verify_charge(charge_id, token_id).reason for charge_id, token_id in claims
    }
    _age_claims()
    for _ in range(SUBSCRIPTION_LOOKUPS + 1):
        if not any(reason in PENDING_REASONS for reason in verdicts.values()):
            break
        for result in reverify_pending_charges(older_than=0):
            verdicts[result.charge_id] = result.reason
    return verdicts


def test_a_lookalike_charge_in_the_victims_name_never_takes_a_waiting_subscription(accepton, plan):
    token_id = recurring_token_for(plan).pk
    victim = subscribe(accepton, token_id, "ann@example.com")
    # Ann's claim is in, but AcceptOn was not asked yet (it was down, or the address deferred).
    assert verify_charge(victim, token_id, defer=True).pending
    # Eve pays a one-off token of the plan's name and price, typing Ann's email, and posts that
    # charge against the plan's token.
    time.sleep(0.01)
    intruder = lookalike_charge(accepton, "ann@example.com")

    verdicts = _settle((intruder, token_id), (victim, token_id))

    rows = {row.pk: row for row in Charge.objects.all()}
    assert verdicts[intruder] is not Reason.OK
    assert rows[intruder].subscription_id is None
    assert rows[intruder].needs_attention  # Eve's money was taken: a human returns it
    if accepton.state.dialect.first_billing == "at_payment":
        # The subscription's billing time names Ann's payment.
        assert verdicts[victim] is Reason.OK
        assert rows[victim].subscription_id is not None
    else:
        # Nothing tells the two payments apart: neither gets the subscription, and Ann's
        # payment is a human's to settle, never Eve's membership.
        assert verdicts == {
            intruder: Reason.SUBSCRIPTION_UNDECIDED,
            victim: Reason.SUBSCRIPTION_UNDECIDED,
        }
        assert rows[victim].needs_attention
        assert not Subscription.objects.filter(charge__isnull=False).exists()


def test_pending_claims_of_other_payers_do_not_hold_a_first_payment_up(accepton, plan):
    token_id = recurring_token_for(plan).pk
    others = [subscribe(accepton, token_id, f"payer{n}@example.com") for n in range(3)]
    for charge_id in others:  # waiting for AcceptOn: their payers are not known yet
        assert verify_charge(charge_id, token_id, defer=True).pending
    mine = subscribe(accepton, token_id, "ann@example.com")

    first = verify_charge(mine, token_id).reason
    verdicts = _settle(*[(charge_id, token_id) for charge_id in others])

    # The waiting claims of payers not known yet are asked about at once: they hold nothing up.
    assert first is Reason.OK
    assert set(verdicts.values()) == {Reason.OK}
    final = {row.pk: row.verification for row in Charge.objects.all()}
    assert set(final.values()) == {Verification.VERIFIED}
    assert Subscription.objects.filter(charge__isnull=False).count() == 4


def test_the_subscription_list_down_keeps_the_payment_pending(accepton, plan, verified_log):
    token_id = recurring_token_for(plan).pk
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    control(
        accepton, "faults", {"status": 503, "path_prefix": recurring(accepton, "subscriptions")}
    )

    assert verify_charge(charge_id, token_id).pending
    assert Charge.objects.get(pk=charge_id).verification == Verification.PENDING

    (result,) = reverify_pending_charges(older_than=0)
    assert result.ok
    row = Charge.objects.get(pk=charge_id)
    assert row.subscription is not None
    assert row.subscription.email == "ann@example.com"


def test_a_one_off_token_is_still_fulfilled_once(accepton, plan):
    token_id = token_in(render_form({"amount": 1500, "currency": "usd", "description": "Ink"}))
    first = subscribe(accepton, token_id, "ann@example.com")
    assert verify_charge(first, token_id).ok
    row = Charge.objects.get(pk=first)
    assert (row.recurring, row.subscription) == (False, None)
    assert TransactionToken.objects.get(pk=token_id).consumed_at is not None


# ----- orphans ------------------------------------------------------------------------------


def test_orphan_claiming_never_takes_a_plans_payments(accepton, plan):
    token_id = recurring_token_for(plan).pk
    time.sleep(0.01)  # the sandbox dates charges to the millisecond, tokens are dated here
    first = subscribe(accepton, token_id, "ann@example.com")  # ...and the tab is closed
    subscription = accepton.state.list_subscriptions()["data"][0]
    renewal = accepton.state.bill_subscription(subscription["id"])["charge"]["id"]
    sync_charges(full=True)
    assert {row.pk for row in Charge.objects.filter(verification="unclaimed")} == {first, renewal}

    assert claim_orphaned_charges(older_than=0) == []

    assert set(Charge.objects.values_list("verification", flat=True)) == {"unclaimed"}


def test_a_plans_payments_never_pay_an_order_named_like_the_plan(accepton, plan):
    # An order described like the plan, at the plan's price, minted before the payments.
    order = {"amount": 1500, "currency": "usd", "description": "Ink club", "reference": "o-1"}
    order_token = token_in(render_form(order))
    time.sleep(0.01)
    # A first payment of a recurring token this store never rendered (a link in a mailing,
    # say), and a renewal of the subscription it made.
    elsewhere = accepton.state.create_recurring_token(plan.pk)["id"]
    first = subscribe(accepton, elsewhere, "ann@example.com")
    subscription = accepton.state.list_subscriptions()["data"][0]
    renewal = accepton.state.bill_subscription(subscription["id"])["charge"]["id"]
    sync_charges(full=True)

    assert claim_orphaned_charges(older_than=0) == []

    assert {row.pk for row in Charge.objects.filter(verification="unclaimed")} == {first, renewal}
    assert TransactionToken.objects.get(pk=order_token).consumed_at is None


def test_a_renewal_of_a_plan_not_mirrored_yet_is_not_claimed_either(accepton):
    remote_plan = accepton.state.create_plan("Gold", 2000, "usd", "month")
    subscription = accepton.state.create_subscription(remote_plan["id"], "ann@example.com")
    order = {"amount": 2000, "currency": "usd", "description": "Gold", "reference": "o-2"}
    order_token = token_in(render_form(order))
    time.sleep(0.01)
    renewal = accepton.state.bill_subscription(subscription["id"])["charge"]
    # Nothing on the renewal names its subscription (no document shows one that does).
    assert "subscription_id" not in renewal["metadata"]
    sync_charges(full=True)

    assert claim_orphaned_charges(older_than=0) == []
    assert TransactionToken.objects.get(pk=order_token).consumed_at is None


def test_orphans_of_one_off_tokens_are_still_claimed_beside_plans(accepton, plan):
    recurring_token_for(plan)
    order = {"amount": 1500, "currency": "usd", "description": "Order 9", "reference": "o-9"}
    token_id = token_in(render_form(order))
    time.sleep(0.01)  # the sandbox dates charges to the millisecond, tokens are dated here
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    sync_charges(full=True)
    (result,) = claim_orphaned_charges(older_than=0)
    assert (result.reason, result.charge_id, result.token_id) == (Reason.OK, charge_id, token_id)


# ----- the database constraint --------------------------------------------------------------


def _verified(charge_id: str, token: TransactionToken, *, recurring: bool) -> Charge:
    return Charge.objects.create(
        id=charge_id,
        environment="sandbox",
        token=token,
        recurring=recurring,
        verification=Verification.VERIFIED,
    )


def test_the_database_allows_one_verified_charge_per_one_off_token():
    one_off = TransactionToken.objects.create(
        id="txn_constraint", environment="sandbox", amount=100, currency="usd"
    )
    _verified("chg_first", one_off, recurring=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        _verified("chg_second", one_off, recurring=False)
    # Rejected and pending charges of that token are not limited.
    Charge.objects.create(id="chg_third", environment="sandbox", token=one_off)


def test_the_database_allows_many_verified_charges_per_recurring_token():
    token = TransactionToken.objects.create(
        id="rtx_constraint", environment="sandbox", amount=100, currency="usd"
    )
    for number in range(3):
        _verified(f"chg_sub{number}", token, recurring=True)
    assert Charge.objects.filter(token=token, verification="verified").count() == 3


def test_the_database_links_a_subscription_to_one_charge_only():
    token = TransactionToken.objects.create(
        id="rtx_onelink", environment="sandbox", amount=100, currency="usd"
    )
    subscription = Subscription.objects.create(id="sub_one", environment="sandbox")
    first = _verified("chg_a", token, recurring=True)
    first.subscription = subscription
    first.save()
    second = _verified("chg_b", token, recurring=True)
    second.subscription = subscription
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


@pytest.mark.django_db(transaction=True)
def test_the_migration_flags_existing_recurring_claims():
    def fill(old: Any) -> None:
        old_token = old.get_model("django_accepton", "TransactionToken")
        old_charge = old.get_model("django_accepton", "Charge")
        for token_id in ("rtx_old", "txn_old"):
            token = old_token.objects.create(
                id=token_id, environment="sandbox", amount=100, currency="usd"
            )
            old_charge.objects.create(
                id=f"chg_{token_id[:3]}",
                environment="sandbox",
                token=token,
                verification="verified",
            )

    migrated("0002_mirrors_refunds_sync", "0003_recurring_checkout", fill)
    assert dict(Charge.objects.values_list("pk", "recurring")) == {
        "chg_rtx": True,
        "chg_txn": False,
    }
    txn = TransactionToken.objects.get(pk="txn_old")
    with pytest.raises(IntegrityError), transaction.atomic():
        _verified("chg_txn2", txn, recurring=False)


# ----- concurrency (PostgreSQL) -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_of_one_subscription_payment(accepton, plan, verified_log):
    assert connection.vendor == "postgresql"
    token_id = recurring_token_for(plan).pk
    charge_id = subscribe(accepton, token_id, "ann@example.com")

    reasons, errors = in_threads(50, lambda _: verify_charge(charge_id, token_id).reason)

    assert errors == []
    assert Counter(reasons) == {Reason.OK: 1, Reason.ALREADY_CLAIMED: 49}
    assert Charge.objects.filter(verification=Verification.VERIFIED).count() == 1
    assert Charge.objects.get(pk=charge_id).subscription is not None
    assert [entry[0] for entry in verified_log] == [charge_id]
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_payments_of_one_payer_each_get_a_subscription(accepton, plan):
    assert connection.vendor == "postgresql"
    token_id = recurring_token_for(plan).pk
    # One payer, many payments at the same moment: every subscription is a candidate for
    # every charge, and each must end up linked to exactly one of them.
    charges = [subscribe(accepton, token_id, "team@example.com") for _ in range(20)]

    reasons, errors = in_threads(20, lambda number: verify_charge(charges[number], token_id).reason)

    assert errors == []
    assert Counter(reasons) == {Reason.OK: 20}
    linked = list(Charge.objects.values_list("subscription_id", flat=True))
    assert None not in linked
    assert len(set(linked)) == 20
    assert TransactionToken.objects.get(pk=token_id).consumed_at is None


def test_a_lookalike_charge_never_takes_the_subscription_of_a_payer_who_did_not_come_back(
    accepton, plan
):
    token_id = recurring_token_for(plan).pk
    victim = subscribe(accepton, token_id, "ann@example.com")  # Ann closes the tab
    sync_charges(full=True)  # her payment is copied, unclaimed
    time.sleep(0.01)
    intruder = lookalike_charge(accepton, "ann@example.com")

    verdicts = _settle((intruder, token_id))

    assert verdicts[intruder] is not Reason.OK
    assert Charge.objects.get(pk=intruder).needs_attention
    assert not Subscription.objects.filter(charge__isnull=False).exists()
    assert Charge.objects.get(pk=victim).verification == Verification.UNCLAIMED


def test_a_payment_held_for_its_status_is_no_rival_of_the_payers_paid_one(accepton, plan):
    """Ann's first attempt ends under a status no document calls a success (held, and it
    started no subscription); she pays again and that payment is her subscription's, at once."""
    import time

    token_id = recurring_token_for(plan).pk
    accepton.state.set_charge_override(status="failed")
    attempt = subscribe(accepton, token_id, "ann@example.com")
    accepton.state.cancel_subscription(accepton.state.list_subscriptions()["data"][0]["id"])
    assert verify_charge(attempt, token_id).reason is Reason.STATUS_UNCONFIRMED
    time.sleep(0.01)
    paid = subscribe(accepton, token_id, "ann@example.com")

    assert verify_charge(paid, token_id).reason is Reason.OK


def test_a_held_payment_that_settles_still_waits_for_its_subscription(accepton, plan):
    """The hold is counted apart from the looks for a subscription: a payment that was held
    its whole time, then settles, still waits for a subscription AcceptOn does not list yet."""
    from datetime import timedelta

    from django.utils import timezone

    from django_accepton.services import recurring

    token_id = recurring_token_for(plan).pk
    accepton.state.set_charge_override(status="pending")
    charge_id = subscribe(accepton, token_id, "ann@example.com")
    accepton.state.cancel_subscription(accepton.state.list_subscriptions()["data"][0]["id"])
    assert verify_charge(charge_id, token_id).reason is Reason.STATUS_UNCONFIRMED
    for _ in range(recurring.SUBSCRIPTION_LOOKUPS):  # held, look after look, for its whole time
        (held,) = reverify_pending_charges(older_than=0)
        assert held.reason is Reason.STATUS_UNCONFIRMED
    Charge.objects.filter(pk=charge_id).update(
        claimed_at=timezone.now() - recurring.SUBSCRIPTION_WAIT - timedelta(seconds=1)
    )
    accepton.state.set_charge_status(charge_id, "paid")

    (result,) = reverify_pending_charges(older_than=0)

    assert result.reason is Reason.SUBSCRIPTION_NOT_VISIBLE
