"""Renewals: the charges AcceptOn makes when it bills a subscription again.

AcceptOn bills a subscription each period by itself; the store learns of it only through the
charge sync, which finds a charge nobody claimed. No document says what such a charge carries
beyond any charge's fields: not the subscription's id, not the token. What it does carry is the
plan's name as its description, the plan's currency and the payer's email in its metadata. So a
charge the sync copied is taken as a renewal of a subscription here when:

1. it is unclaimed, paid and not refunded, with a time;
2. its description and currency are those of one of the environment's plans;
3. a mirrored subscription to such a plan has a first payment linked here that is older than
   the charge (a subscription's start is its first payment; anything later from the same payer
   for the same plan is a renewal);
4. that subscription is the payer's (the charge's metadata email), and the only one of that
   payer and plans or the only one of them whose ``last_billed_at`` is this charge's time; a
   charge with no email (a renewal has no form to fill its metadata, and no document shows
   one) needs the billing time alone: the only such subscription whose ``last_billed_at`` is
   the charge's time. That holds while the sync runs more often than the plans' period.

Anything else stays ``unclaimed``: a first payment whose customer never came back (its
subscription has no linked first payment), or a payer with several subscriptions to one plan
that the times cannot tell apart. A renewal row is marked ``renewal``; no checkout claim can
take it over, so a renewal posted against a plan's recurring token is ``already_claimed``. Each
link is announced once, as ``subscription_renewed``, after the page's transaction commits.

Nothing here decides money: the store's access follows the mirrored subscription (``active``),
and ``subscription_renewed`` tells it a period was paid.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from django_accepton import signals
from django_accepton.client.resources import PAID_STATUSES
from django_accepton.models import Charge, Plan, Subscription, Verification
from django_accepton.services.changes import announce
from django_accepton.services.recurring import BILLED_WITHIN

logger = logging.getLogger(__name__)


def link_renewals(environment: str, charge_ids: Iterable[str], *, source: str = "sync") -> int:
    """Link the renewals among ``charge_ids`` to their subscriptions; the number linked.

    Call it inside the transaction that wrote the charges: the signals wait for its commit.
    """
    ids = list(charge_ids)
    if not ids:
        return 0
    plans: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pk, name, currency in Plan.objects.filter(environment=environment).values_list(
        "pk", "name", "currency"
    ):
        plans[(name, currency)].append(pk)
    if not plans:
        return 0
    rows = Charge.objects.filter(
        pk__in=ids,
        environment=environment,
        verification=Verification.UNCLAIMED,
        token__isnull=True,
        created__isnull=False,
    )
    linked = 0
    for charge in rows:
        plan_ids = plans.get((charge.description, charge.currency))
        if not plan_ids:
            continue
        if charge.status.lower() not in PAID_STATUSES or charge.refunded:
            continue
        subscription = _renewed(charge, plan_ids, _email(charge))
        if subscription is None:
            continue
        updated = Charge.objects.filter(pk=charge.pk, verification=Verification.UNCLAIMED).update(
            verification=Verification.RENEWAL, renewal_of=subscription
        )
        if updated:
            linked += 1
            charge.verification, charge.renewal_of = Verification.RENEWAL, subscription
            announce(
                signals.subscription_renewed,
                Subscription,
                subscription=subscription,
                charge=charge,
                source=source,
            )
    return linked


def _email(charge: Charge) -> str:
    email = charge.metadata.get("email") if isinstance(charge.metadata, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def _renewed(charge: Charge, plan_ids: list[str], email: str) -> Subscription | None:
    assert charge.created is not None
    started = Subscription.objects.filter(
        environment=charge.environment,
        plan_id__in=plan_ids,
        charge__isnull=False,
        charge__created__lt=charge.created,
    ).exclude(charge__pk=charge.pk)
    if email:
        started = started.filter(Q(email__iexact=email))
    else:
        # No payer on the charge: only the billing time can name its subscription.
        started = started.filter(
            last_billed_at__gte=charge.created - BILLED_WITHIN,
            last_billed_at__lte=charge.created + BILLED_WITHIN,
        )
    found: list[Subscription] = list(started[:20])
    if email and len(found) == 1:
        return found[0]
    billed = [
        sub
        for sub in found
        if sub.last_billed_at is not None
        and abs(sub.last_billed_at - charge.created) <= BILLED_WITHIN
    ]
    if len(billed) == 1:
        return billed[0]
    if found:
        logger.info(
            "Charge %s may renew any of %d subscriptions; it stays unclaimed.",
            charge.pk,
            len(found),
        )
    return None
