"""A charge sync page and a subscription sync page at once, each showing what the other's
renewal links want: neither waits for the other (links run after each page commits, one
subscription and one charge at a time)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from django_accepton import signals
from django_accepton.api import current_environment, get_client
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client import Subscription as RemoteSubscription
from django_accepton.models import Charge, Plan, Subscription, SyncResource, Verification
from django_accepton.services import renewals, sync
from django_accepton.services.plans import create_plan
from django_accepton.services.recurring import link_subscription

PLAN = {"id": "pln_gold", "name": "Gold", "amount": 1000, "currency": "usd", "period_unit": "month"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_charge_page_and_subscription_page_take_rows_in_opposite_orders(accepton, monkeypatch):
    """A charge sync page holds its charges and then, linking renewals, each renewed
    subscription's row; a subscription sync page holds its subscriptions (the upsert) and then,
    linking what they billed, the charges. Two renewals C0 (of S0) and C1 (of S1):
    the charge page links C1 (S1 locked) then C0; the subscription page upserts [S0, S1]."""
    assert connection.vendor == "postgresql"
    env = current_environment()
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    Plan.objects.create(environment=env, **PLAN)
    subs, renew = [], []
    for n in (0, 1):
        billed = t0 + timedelta(minutes=10 * n)
        sub = Subscription.objects.create(
            id=f"sub_{n}",
            environment=env,
            plan_id="pln_gold",
            active=True,
            email=f"p{n}@x.com",
            last_billed_at=billed,
            raw={"old": True},
        )
        Charge.objects.create(
            id=f"chg_first{n}",
            environment=env,
            verification=Verification.VERIFIED,
            recurring=True,
            subscription=sub,
            amount=1000,
            currency="usd",
            status="paid",
            description="Gold",
            created=billed - timedelta(days=30),
        )
        row = Charge.objects.create(
            id=f"chg_renew{n}",
            environment=env,
            verification=Verification.UNCLAIMED,
            amount=1000,
            currency="usd",
            status="paid",
            description="Gold",
            metadata={"email": f"p{n}@x.com"},
            created=billed,
            raw={"old": True},
        )
        subs.append(
            {
                "id": f"sub_{n}",
                "active": True,
                "email": f"p{n}@x.com",
                "last_billed_at": billed.isoformat(),
                "plan": PLAN,
                "note": "changed",
            }
        )
        renew.append(
            {
                "id": row.pk,
                "amount": 1000,
                "currency": "usd",
                "status": "paid",
                "refunded": False,
                "description": "Gold",
                "metadata": {"email": f"p{n}@x.com"},
                "created": billed.isoformat(),
            }
        )
    # link_renewals reads rows newest claim first: C1 before C0
    Charge.objects.filter(pk="chg_renew1").update(claimed_at=t0 + timedelta(days=2))
    Charge.objects.filter(pk="chg_renew0").update(claimed_at=t0 + timedelta(days=1))

    holding_s1, go = threading.Event(), threading.Event()
    real_link = renewals._link

    def link(charge, plan_ids, source):
        if threading.current_thread().name == "charges" and charge.pk == "chg_renew0":
            holding_s1.set()  # C1 linked: S1 locked by the charge page
            go.wait(10)
        return real_link(charge, plan_ids, source)

    monkeypatch.setattr(renewals, "_link", link)

    def run_for(resource):
        return sync.SyncRun(
            resource=resource, environment=env, lock_token="x", started_at=timezone.now()
        )

    outcomes: dict[str, Any] = {}

    def page(resource: str, items: list[Any]) -> None:
        try:
            run = run_for(resource)
            sync._write(sync.SPECS[resource], run, items, run.new_result())
            outcomes[resource] = "ok"
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[resource] = exc
        finally:
            connection.close()

    charges = [RemoteCharge.from_json(charge) for charge in renew]
    subscriptions = [RemoteSubscription.from_json(sub) for sub in subs]
    tc = threading.Thread(target=page, args=(SyncResource.CHARGES, charges), name="charges")
    tc.start()
    assert holding_s1.wait(10)
    ts = threading.Thread(target=page, args=(SyncResource.SUBSCRIPTIONS, subscriptions))
    ts.start()  # upsert [S0, S1]: S0 taken, waits for S1
    time.sleep(0.3)
    go.set()  # charge page: _link(C0) wants S0
    tc.join(30)
    ts.join(30)
    assert outcomes == {"charges": "ok", "subscriptions": "ok"}, outcomes
    linked = dict(Charge.objects.filter(pk__startswith="chg_renew").values_list("pk", "renewal_of"))
    assert linked == {"chg_renew0": "sub_0", "chg_renew1": "sub_1"}, linked


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_page_that_waited_for_the_checkouts_insert_does_not_announce_it_again(accepton):
    """The race of the checkout's first payment with a sync page, as it happens: the checkout
    has inserted the subscription but not committed; the page reads no row for it (so takes it
    for new) and its upsert waits for the checkout's row lock. Once the checkout commits, the
    upsert updates the row, the page finds it did not insert it: one subscription_created."""
    assert connection.vendor == "postgresql"
    plan = create_plan("Ink club", 1500, "usd", "month")
    created = accepton.state.create_subscription(plan.pk, "ann@example.com")
    remote = get_client().subscriptions.retrieve(created["id"])
    heard: list[str] = []

    def receive(sender: Any, subscription: Any, source: str, **kwargs: Any) -> None:
        heard.append(source)

    signals.subscription_created.connect(receive, weak=False, dispatch_uid="race")
    written, release = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def checkout() -> None:
        try:
            with transaction.atomic():
                charge = Charge(id="chg_first", environment=current_environment())
                outcomes["checkout"] = link_subscription(charge, [remote])
                written.set()
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes["checkout"] = exc
        finally:
            connection.close()

    def page() -> None:
        try:
            outcomes["sync"] = sync.sync_subscriptions()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes["sync"] = exc
        finally:
            connection.close()

    try:
        first = threading.Thread(target=checkout)
        first.start()
        assert written.wait(10)
        second = threading.Thread(target=page)
        second.start()
        waited = False
        for _ in range(200):  # until the page's upsert waits for the checkout's row
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                waited = cursor.fetchone()[0] > 0
            if waited or not second.is_alive():
                break
            time.sleep(0.05)
        release.set()
        first.join(30)
        second.join(30)
    finally:
        release.set()
        signals.subscription_created.disconnect(dispatch_uid="race")

    assert waited, outcomes
    assert isinstance(outcomes["checkout"], Subscription), outcomes
    result = outcomes["sync"]
    # It took the row for new, and counts what its upsert did: an update.
    assert (result.created, result.updated, result.failed) == (0, 1, 0), result
    assert heard == ["checkout"]
