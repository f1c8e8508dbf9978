"""Change signals: each change AcceptOn reports is announced once, whichever way the package
learns of it (a service, the admin, the checkout, the sync), and never again by a later sync."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from django_accepton import signals
from django_accepton.api import get_client
from django_accepton.models import Charge, Subscription, Verification
from django_accepton.services import sync as sync_module
from django_accepton.services.plans import create_plan
from django_accepton.services.promo_codes import (
    create_promo_code,
    delete_promo_code,
    update_promo_code,
)
from django_accepton.services.recurring import recurring_token_for
from django_accepton.services.refunds import refund
from django_accepton.services.subscriptions import cancel_subscription, mirror_subscription
from django_accepton.services.sync import (
    sync_charges,
    sync_plans,
    sync_promo_codes,
    sync_subscriptions,
)
from django_accepton.services.verification import verify_charge
from tests.checkout.conftest import SUCCESS_CARD, pay, render_form, token_in
from tests.mirror.helpers import verified_charge

# Money paths: run against every sandbox dialect (docs/api-calls.md). Transactional: the
# signals go out when the changes commit, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.accepton_dialects]

NAMES = (
    "subscription_created",
    "subscription_renewed",
    "subscription_cancelled",
    "charge_refunded",
    "plan_deleted",
    "promo_code_deleted",
    "promo_code_changed",
)


@pytest.fixture
def heard() -> Iterator[list[tuple[str, str, str]]]:
    """``(signal, object's key, source)`` for every change signal sent, in order."""
    log: list[tuple[str, str, str]] = []

    def listener(name: str) -> Any:
        def receive(sender: Any, source: str, **kwargs: Any) -> None:
            subject = next(value for key, value in kwargs.items() if key != "signal")
            key = getattr(subject, "name", None) if name.startswith("promo") else None
            log.append((name, key or subject.pk, source))

        return receive

    receivers = {name: listener(name) for name in NAMES}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, weak=False, dispatch_uid=f"heard-{name}")
    yield log
    for name in NAMES:
        getattr(signals, name).disconnect(dispatch_uid=f"heard-{name}")


def subscribe(sandbox: Any, plan: Any, email: str) -> tuple[str, str]:
    token_id = recurring_token_for(plan).pk
    charge = sandbox.state.create_form_charge(
        token_id, SUCCESS_CARD, 12, date.today().year + 2, "123", email
    )
    return charge["id"], token_id


def subscribed_and_renewed(sandbox: Any) -> tuple[Subscription, str]:
    """A subscription started through the checkout, and the id of the renewal charge AcceptOn
    then made for it (not synced yet)."""
    plan = create_plan("Ink club", 1500, "usd", "month")
    charge_id, token_id = subscribe(sandbox, plan, "ann@example.com")
    assert verify_charge(charge_id, token_id).ok
    subscription = Subscription.objects.get()
    time.sleep(0.01)  # the sandbox dates to the millisecond
    return subscription, sandbox.state.bill_subscription(subscription.pk)["charge"]["id"]


def test_a_subscription_found_renewed_and_cancelled_by_the_sync_is_announced_once_each(
    accepton, heard
):
    subscription, renewal = subscribed_and_renewed(accepton)
    sync_subscriptions()
    sync_charges(full=True)
    accepton.state.cancel_subscription(subscription.pk)  # in AcceptOn's dashboard

    sync_subscriptions()
    sync_charges(full=True)
    sync_subscriptions()  # nothing new
    sync_charges(full=True)

    assert heard == [
        ("subscription_created", subscription.pk, "checkout"),
        ("subscription_renewed", subscription.pk, "sync"),
        ("subscription_cancelled", subscription.pk, "sync"),
    ]
    row = Charge.objects.get(pk=renewal)
    assert (row.verification, row.renewal_of_id) == (Verification.RENEWAL, subscription.pk)


def test_a_subscription_started_elsewhere_is_announced_by_the_sync_once(accepton, heard):
    plan = create_plan("Ink club", 1500, "usd", "month")
    created = accepton.state.create_subscription(plan.pk, "ann@example.com")

    sync_subscriptions()
    sync_subscriptions()

    assert heard == [("subscription_created", created["id"], "sync")]


@pytest.mark.parametrize("first", ["checkout", "sync"])
def test_a_sync_page_that_read_before_the_checkout_wrote_does_not_announce_it_again(
    accepton, heard, monkeypatch, first
):
    """The race of a sync page with the checkout that verifies a first payment: the page reads
    its rows before the checkout's insert commits, so it takes the subscription for new; the
    write that inserted the row announces it, whichever it is."""
    plan = create_plan("Ink club", 1500, "usd", "month")
    charge_id, token_id = subscribe(accepton, plan, "ann@example.com")
    # Every page reads no existing row, as a page that read before the other writer committed.
    monkeypatch.setattr(sync_module, "_existing", lambda spec, environment, keys: {})
    if first == "sync":
        assert sync_subscriptions().created == 1
    assert verify_charge(charge_id, token_id).ok
    result = sync_subscriptions()

    subscription = Subscription.objects.get()
    assert heard == [("subscription_created", subscription.pk, first)]
    assert (result.created, result.updated) == (0, 1)  # counted as what the upsert did


def test_a_subscription_mirrored_by_the_service_is_announced_by_it_once(accepton, heard):
    plan = create_plan("Ink club", 1500, "usd", "month")
    created = accepton.state.create_subscription(plan.pk, "ann@example.com")
    remote = get_client().subscriptions.retrieve(created["id"])

    row = mirror_subscription(remote)
    mirror_subscription(remote)
    sync_subscriptions()

    assert isinstance(row, Subscription)
    assert heard == [("subscription_created", created["id"], "service")]


class ReadsElsewhere:
    """A router sending reads of the mirror's subscriptions and charges to a replica (here: one
    that does not exist, so that a read sent there fails loudly)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "replica" if model in (Subscription, Charge) else None


def test_a_sync_page_tells_what_it_inserted_where_it_wrote_it(accepton, heard, settings):
    plan = create_plan("Ink club", 1500, "usd", "month")
    created = accepton.state.create_subscription(plan.pk, "ann@example.com")
    settings.DATABASE_ROUTERS = [f"{__name__}.ReadsElsewhere"]

    result = sync_subscriptions()

    assert (result.created, result.failed) == (1, 0)
    assert heard == [("subscription_created", created["id"], "sync")]


def test_the_syncs_link_a_renewal_where_they_wrote_it(accepton, heard, settings):
    subscription, renewal = subscribed_and_renewed(accepton)
    settings.DATABASE_ROUTERS = [f"{__name__}.ReadsElsewhere"]

    subscriptions = sync_subscriptions()
    charges = sync_charges(full=True)

    settings.DATABASE_ROUTERS = []
    assert (subscriptions.failed, charges.failed) == (0, 0)
    assert Charge.objects.get(pk=renewal).renewal_of_id == subscription.pk
    assert heard[-1] == ("subscription_renewed", subscription.pk, "sync")


def test_a_first_payment_and_a_cancellation_through_the_package_are_not_announced_again(
    accepton, heard, admin_client
):
    plan = create_plan("Ink club", 1500, "usd", "month")
    charge_id, token_id = subscribe(accepton, plan, "ann@example.com")
    assert verify_charge(charge_id, token_id).ok
    subscription = Subscription.objects.get()
    url = reverse("admin:django_accepton_subscription_changelist")

    answer = admin_client.post(
        url,
        {"action": "cancel_on_accepton", "_selected_action": [subscription.pk], "confirmed": "yes"},
    )
    sync_subscriptions()

    assert answer.status_code in (200, 302)
    assert heard == [
        ("subscription_created", subscription.pk, "checkout"),
        ("subscription_cancelled", subscription.pk, "service"),
    ]
    with pytest.raises(Exception):  # noqa: B017, PT011 - AcceptOn refuses a second cancel
        cancel_subscription(subscription)
    assert len(heard) == 2


def test_a_partial_refund_through_the_package_is_announced_once(accepton, heard):
    """Whether AcceptOn's flag turns on at a partial refund or only at a full one, the sync
    does not announce the package's own refund a second time."""
    charge = verified_charge(accepton, 5000, order="4")
    refund(charge, 2000)

    sync_charges(full=True)
    sync_charges(full=True)

    assert heard == [("charge_refunded", charge.pk, "service")]
    row = Charge.objects.get(pk=charge.pk)
    assert row.refunded is (accepton.state.dialect.refunded_flag == "any")


def test_refunds_are_announced_by_whoever_learns_of_them(accepton, heard):
    ours = verified_charge(accepton, 5000, order="1")
    elsewhere = verified_charge(accepton, 3000, order="2")
    refund(ours, 5000)
    accepton.state.create_refund(elsewhere.pk, 3000)  # in AcceptOn's dashboard

    sync_charges(full=True)
    sync_charges(full=True)

    assert heard == [
        ("charge_refunded", ours.pk, "service"),
        ("charge_refunded", elsewhere.pk, "sync"),
    ]


def test_flags_acceptOn_sent_as_text_are_read_as_the_client_reads_them(accepton, heard):
    """The mirror keeps AcceptOn's JSON as it came: "false" (or 0) there is false, so the
    refund that turns it on is announced, and a subscription inactive since is not cancelled
    again."""
    charge = verified_charge(accepton, 5000, order="3")
    sync_charges(full=True)
    Charge.objects.filter(pk=charge.pk).update(raw={**charge.raw, "refunded": "false"})
    accepton.state.create_refund(charge.pk, 5000)  # in AcceptOn's dashboard
    plan = create_plan("Ink club", 1500, "usd", "month")
    subscribe(accepton, plan, "ann@example.com")
    sync_subscriptions()
    subscription = Subscription.objects.get()
    cancel_subscription(subscription)
    Subscription.objects.filter(pk=subscription.pk).update(
        raw={**Subscription.objects.get().raw, "active": 0}
    )
    heard.clear()

    sync_charges(full=True)
    sync_subscriptions()

    assert heard == [("charge_refunded", charge.pk, "sync")]


def test_promo_codes_and_plans_changed_or_deleted_are_announced_once(accepton, heard):
    mine = create_promo_code("MINE", "amount", 100)
    create_promo_code("THEIRS", "amount", 200)
    plan = create_plan("Gold", 1500, "usd", "month")
    update_promo_code(mine, name="MINE", promo_type="amount", value=150)
    accepton.state.update_promo_code("THEIRS", value=250)  # in the dashboard
    sync_promo_codes()
    delete_promo_code(mine)
    accepton.state.delete_promo_code("THEIRS")
    accepton.state.reset()  # a wiped staging account: the plan is gone too
    sync_promo_codes()
    sync_plans()

    sync_promo_codes()
    sync_plans()

    assert heard == [
        ("promo_code_changed", "MINE", "service"),
        ("promo_code_changed", "THEIRS", "sync"),
        ("promo_code_deleted", "MINE", "service"),
        ("promo_code_deleted", "THEIRS", "sync"),
        ("plan_deleted", plan.pk, "sync"),
    ]


def test_an_admin_refund_is_announced_once(accepton, heard, admin_client):
    charge = verified_charge(accepton, 5000)
    url = reverse("admin:django_accepton_charge_refund", args=[quote(charge.pk)])
    confirm = admin_client.post(url, {"amount": "20.00"})
    admin_client.post(
        url,
        {
            "amount": "20.00",
            "confirmed": "on",
            "confirmation": confirm.context["confirmation"],
        },
    )
    sync_charges(full=True)

    refunded = [entry for entry in heard if entry[0] == "charge_refunded"]
    # A partial refund; AcceptOn's flag may turn on for it (undocumented): the package's own
    # refund is announced by the package only.
    assert refunded == [("charge_refunded", charge.pk, "service")]


@pytest.mark.parametrize("refunded", [100, 40])
def test_an_attention_item_refunded_in_acceptOns_dashboard_stays_for_a_human(
    accepton, heard, refunded
):
    """The sync sees only AcceptOn's refunded flag, which under one reading of its documents
    turns on at a partial refund: the refund is announced, and the item stays open (part of
    the money may still be held) until a human marks it settled."""
    token_id = token_in(render_form({"amount": 4000, "currency": "usd", "description": "O 5"}))
    accepton.state.set_charge_override(amount=100)
    charge_id = pay(accepton, token_id).json()["id"]
    verify_charge(charge_id, token_id)
    assert Charge.objects.get(pk=charge_id).needs_attention
    accepton.state.create_refund(charge_id, refunded)  # given back in the dashboard

    sync_charges(full=True)

    row = Charge.objects.get(pk=charge_id)
    flag_on = refunded == 100 or accepton.state.dialect.refunded_flag == "any"
    assert row.refunded is flag_on
    assert row.needs_attention
    assert (("charge_refunded", charge_id, "sync") in heard) is flag_on


def test_subscriptions_found_by_the_first_sync_are_announced_as_initial(accepton):
    seen: list[tuple[str, bool]] = []

    def receive(sender: Any, subscription: Any, initial: bool, **kwargs: Any) -> None:
        seen.append((subscription.pk, initial))

    signals.subscription_created.connect(receive, weak=False, dispatch_uid="initial-flag")
    try:
        plan = create_plan("Ink club", 1500, "usd", "month")
        existing = accepton.state.create_subscription(plan.pk, "ann@example.com")
        sync_subscriptions()  # the account the package was just installed on
        later = accepton.state.create_subscription(plan.pk, "bob@example.com")
        sync_subscriptions()
        charge_id, token_id = subscribe(accepton, plan, "cy@example.com")
        assert verify_charge(charge_id, token_id).ok
    finally:
        signals.subscription_created.disconnect(dispatch_uid="initial-flag")

    bought = Charge.objects.get(pk=charge_id).subscription_id
    assert seen == [(existing["id"], True), (later["id"], False), (bought, False)]
