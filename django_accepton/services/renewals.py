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
   payer and plans or the one whose ``last_billed_at`` is closest to the charge's time (within
   ``BILLED_WITHIN``, and strictly closer than any other); a charge with no email (a renewal
   has no form to fill its metadata, and no document shows one) needs the billing time alone.
   The subscription sync links what it finds billed as well (:func:`link_billed`), so the
   two syncs may run in either order. A billing already explained by a charge linked to the
   subscription (a mirror not refreshed yet) explains no other. That holds while the sync
   runs more often than the plans' period.

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
from datetime import timedelta

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


def link_billed(environment: str, subscriptions: Iterable[Subscription]) -> int:
    """Link the renewals the subscriptions' new ``last_billed_at`` explain: the charge sync may
    have copied a renewal before the subscription sync saw it billed. One query for the
    candidates; the number linked."""
    billed = [sub for sub in subscriptions if sub.last_billed_at is not None]
    if not billed:
        return 0
    moments = [sub.last_billed_at for sub in billed if sub.last_billed_at is not None]
    names = Plan.objects.filter(
        environment=environment, pk__in={sub.plan_id for sub in billed}
    ).values_list("name", flat=True)
    candidates = Charge.objects.filter(
        environment=environment,
        verification=Verification.UNCLAIMED,
        token__isnull=True,
        description__in=list(names),
        created__gte=min(moments) - BILLED_WITHIN,
        created__lte=max(moments) + BILLED_WITHIN,
    ).values_list("pk", "created")
    near = [
        pk
        for pk, created in candidates
        if any(abs(created - moment) <= BILLED_WITHIN for moment in moments)
    ]
    return link_renewals(environment, near)


def _explained(subscription: Subscription, apart: timedelta) -> bool:
    """Whether a charge linked to ``subscription`` (its first payment or a renewal) is at
    least ``apart`` close to its ``last_billed_at``: that billing is that charge (the mirror
    may not show a newer one yet)."""
    moment = subscription.last_billed_at
    assert moment is not None
    return (
        Charge.objects.filter(Q(subscription=subscription) | Q(renewal_of=subscription))
        .filter(created__gte=moment - apart, created__lte=moment + apart)
        .exists()
    )


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
    # The one billed closest to the charge, within BILLED_WITHIN and strictly closer than
    # any other, whose billing no charge already linked to it is as close to.
    apart = sorted(
        (abs(sub.last_billed_at - charge.created), sub.pk, sub)
        for sub in found
        if sub.last_billed_at is not None
        and abs(sub.last_billed_at - charge.created) <= BILLED_WITHIN
        and not _explained(sub, abs(sub.last_billed_at - charge.created))
    )
    if apart and (len(apart) == 1 or apart[0][0] < apart[1][0]):
        return apart[0][2]
    if found:
        logger.info(
            "Charge %s may renew any of %d subscriptions; it stays unclaimed.",
            charge.pk,
            len(found),
        )
    return None
