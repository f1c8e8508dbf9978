"""Hostile data from AcceptOn: what the payment form let anyone type (NUL bytes, lone
surrogates, very long or deeply nested values) is stored cleaned, an object the database cannot
take is counted as failed, and no loop over charges, claims or refunds stops for one bad item."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import responses
from django.db import models

from django_accepton.admin_forms import PromoCodeForm
from django_accepton.models import (
    Charge,
    Plan,
    PromoCode,
    RefundRequest,
    RefundState,
    Subscription,
    TransactionToken,
    Verification,
)
from django_accepton.services.plans import create_plan
from django_accepton.services.refunds import reconcile_refunds
from django_accepton.services.sync import sync_charges, sync_subscriptions
from django_accepton.services.verification import (
    Reason,
    reverify_pending_charges,
    verify_charge,
)
from tests.checkout.conftest import SUCCESS_CARD, render_form, token_in
from tests.mirror.helpers import recurring

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

NESTED: Any = "bottom"
for _ in range(300):
    NESTED = {"n": NESTED}


def width(model: type[models.Model], name: str) -> int | None:
    field = model._meta.get_field(name)
    return getattr(field, "max_length", None)


@pytest.mark.accepton_dialect("strict-docs")
def test_columns_that_hold_the_same_value_are_as_wide_as_each_other():
    promo_name = {
        "PromoCode.name": width(PromoCode, "name"),
        "Charge.promo_code": width(Charge, "promo_code"),
        "PromoCodeForm.name": PromoCodeForm.base_fields["name"].max_length,
    }
    description = {
        "TransactionToken.description": width(TransactionToken, "description"),
        "Charge.description": width(Charge, "description"),
    }
    assert len(set(promo_name.values())) == 1, promo_name
    assert len(set(description.values())) == 1, description
    # A plan's name is its recurring token's description, and its renewals'.
    assert width(Plan, "name") <= description["Charge.description"]
    assert width(Subscription, "email") == width(TransactionToken, "merchant_paypal_account")


def paid(
    sandbox: Any,
    email: str,
    metadata: dict[str, Any] | None = None,
    *,
    amount: int = 1200,
    description: str = "",
) -> tuple[str, str]:
    """A token minted and paid in the form; ``(charge id, token id)``."""
    description = description or f"Ink pot for {email[:3]}"
    token = token_in(render_form({"amount": amount, "currency": "usd", "description": description}))
    charge = sandbox.state.create_form_charge(
        token, SUCCESS_CARD, 12, date.today().year + 2, "123", email, metadata=metadata
    )
    return str(charge["id"]), token


def test_what_the_form_let_anyone_type_is_stored_cleaned(accepton):
    good, _ = paid(accepton, "ann@example.com")
    poisoned, _ = paid(
        accepton,
        "eve\x00@example.com",
        {"note": "a\x00b", "odd": "\ud800x", "k\x00ey": "v", "deep": NESTED, "long": "x" * 70_000},
    )
    plan = create_plan("Ink club", 1500, "usd", "month")
    accepton.state.create_subscription(plan.pk, "bob\x00\udfff@example.com" + "x" * 300)

    charges = sync_charges(full=True)
    subscriptions = sync_subscriptions()

    assert (charges.created, charges.failed) == (2, 0)
    assert (subscriptions.created, subscriptions.failed) == (1, 0)
    row = Charge.objects.get(pk=poisoned)
    assert row.metadata["note"] == "ab"
    assert row.metadata["odd"] == "\ufffdx"
    assert "key" in row.metadata
    assert len(row.metadata["long"]) == 70_000  # JSON keeps what it can store
    assert "\x00" not in str(row.raw)
    assert Charge.objects.filter(pk=good).exists()
    subscription = Subscription.objects.get()
    assert subscription.email.startswith("bob\ufffd@example.com")
    assert len(subscription.email) == width(Subscription, "email")


def listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "total": len(items), "data": items}


def subscription_json(sub_id: str, plan: Plan) -> dict[str, Any]:
    return {
        "object": "subscription",
        "id": sub_id,
        "active": True,
        "email": "ann@example.com",
        "last_billed_at": None,
        "plan": {
            "object": "plan",
            "id": plan.pk,
            "name": plan.name,
            "amount": plan.amount,
            "currency": plan.currency,
            "period_unit": "month",
        },
    }


def test_an_object_whose_id_cannot_be_stored_is_failed_and_the_page_goes_on(accepton):
    plan = create_plan("Ink club", 1500, "usd", "month")
    page = listing(
        [
            subscription_json("sub_good1", plan),
            subscription_json("sub_bad\x00", plan),
            subscription_json("sub_" + "x" * 100, plan),
            subscription_json("sub_good2", plan),
        ]
    )
    path = recurring(accepton, "subscriptions")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(accepton.url)
        mock.get(re.compile(re.escape(accepton.url + path) + r"(\?.*)?$"), json=page)
        result = sync_subscriptions()

    assert (result.created, result.failed) == (2, 2)
    assert set(Subscription.objects.values_list("pk", flat=True)) == {"sub_good1", "sub_good2"}


def charge_json(charge_id: str, amount: int) -> dict[str, Any]:
    return {
        "id": charge_id,
        "amount": amount,
        "currency": "usd",
        "description": "Ink pot",
        "metadata": {"email": "ann@example.com"},
        "refunded": False,
        "status": "paid",
        "remote_id": "ch_1",
        "created_at": "2026-01-02T03:04:05Z",
    }


def test_a_row_the_database_refuses_is_failed_and_the_page_goes_on(accepton):
    page = listing(
        [charge_json("chg_one", 100), charge_json("chg_neg", -5), charge_json("chg_two", 200)]
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(accepton.url)
        mock.get(re.compile(re.escape(accepton.url) + r"/v1/charges(\?.*)?$"), json=page)
        result = sync_charges(full=True)

    assert (result.created, result.failed) == (2, 1)
    assert set(Charge.objects.values_list("pk", flat=True)) == {"chg_one", "chg_two"}


def test_re_verification_goes_on_past_a_poisoned_claim(accepton):
    claims = []
    for number in range(3):
        charge_id, token = paid(
            accepton, "ann@example.com", amount=900, description=f"Order {number}"
        )
        assert verify_charge(charge_id, token, defer=True).pending
        claims.append((charge_id, token))
    poisoned = claims[0][0]  # reached first
    bad = charge_json(poisoned, -5) | {"description": "Order 0", "amount": -5}

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(accepton.url)
        mock.get(f"{accepton.url}/v1/charges/{poisoned}", json=bad)
        results = reverify_pending_charges(older_than=0)

    assert {result.charge_id: result.reason for result in results} == {
        claims[1][0]: Reason.OK,
        claims[2][0]: Reason.OK,
    }
    assert Charge.objects.get(pk=poisoned).verification == Verification.PENDING  # next run


def test_refund_reconciliation_goes_on_past_a_poisoned_charge(accepton):
    requests_ = []
    for number in range(2):
        charge_id, token = paid(
            accepton, "ann@example.com", amount=900, description=f"Order {number}"
        )
        assert verify_charge(charge_id, token).ok
        requests_.append(
            RefundRequest.objects.create(
                environment=Charge.objects.get(pk=charge_id).environment,
                charge_id=charge_id,
                amount=900,
                state=RefundState.UNKNOWN,
                refunded_before=False,
            )
        )
    Charge.objects.update(amount_refunded=900)
    poisoned = requests_[0].charge_id

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(accepton.url)
        mock.get(f"{accepton.url}/v1/charges/{poisoned}", body="{" * 5000)
        result = reconcile_refunds(older_than=0)

    assert result.charges_checked == 1
    assert result.released == 1  # AcceptOn shows the other not refunded: the money stays
    assert RefundRequest.objects.get(pk=requests_[0].pk).state == RefundState.UNKNOWN


def test_a_cleaned_object_is_unchanged_on_the_next_sync(accepton):
    from django_accepton.services.promo_codes import create_promo_code
    from django_accepton.services.sync import sync_promo_codes

    paid(accepton, "eve\x00@example.com", {"note": "a\x00b", "odd": "\ud800x"})
    plan = create_plan("Ink club", 1500, "usd", "month")
    accepton.state.create_subscription(plan.pk, "bob\x00@example.com")
    create_promo_code("SPRING", "percentage", 10)
    sync_charges(full=True)
    sync_subscriptions()
    sync_promo_codes()

    charges = sync_charges(full=True)
    subscriptions = sync_subscriptions()

    assert (charges.updated, charges.unchanged) == (0, 1)
    assert (subscriptions.updated, subscriptions.unchanged) == (0, 1)


def test_a_code_is_never_cut_into_another_code(accepton):
    page = listing(
        [charge_json("chg_one", 100), charge_json("chg_coin", 100) | {"currency": "usdc"}]
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(accepton.url)
        mock.get(re.compile(re.escape(accepton.url) + r"/v1/charges(\?.*)?$"), json=page)
        result = sync_charges(full=True)

    assert (result.created, result.failed) == (1, 1)
    assert not Charge.objects.filter(pk="chg_coin").exists()


def test_a_database_that_fails_is_not_a_bad_row_and_the_run_is_no_success(accepton, monkeypatch):
    from django.db import OperationalError

    from django_accepton.models import SyncState
    from django_accepton.services import upsert
    from django_accepton.services.sync import SyncError

    paid(accepton, "ann@example.com")

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(upsert, "upsert", locked)
    with pytest.raises((OperationalError, SyncError)):
        sync_charges(full=True)

    state = SyncState.objects.get(resource="charges")
    assert state.last_success_started_at is None
