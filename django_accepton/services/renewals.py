"""Renewals: the charges AcceptOn makes when it bills a subscription again.

AcceptOn bills a subscription each period by itself; the store learns of it only through the
charge sync, which finds a charge nobody claimed. No document says what such a charge carries
beyond any charge's fields: not the subscription's id, not the token. What it does carry is the
plan's name as its description, the plan's currency and the payer's email in its metadata. So a
charge the sync copied is taken as a renewal of a subscription here when:

1. it is unclaimed, paid and not refunded, with a time;
2. its description and currency are those of one of the environment's plans;
3. of the mirrored subscriptions to such a plan whose ``last_billed_at`` is within
   ``BILLED_WITHIN`` of the charge (only the payer's, when its metadata has an email; a renewal
   has no form to fill its metadata, and no document shows one), one is strictly closest;
4. that subscription's first payment is linked here and older than the charge (a
   subscription's start is its first payment; a payer's new subscription is not a renewal of
   their old one, and its billing time tells them apart), and no charge linked to it already
   explains that billing (a mirror not refreshed yet explains no second charge).

The billing time is required: an email alone cannot tell a renewal from the same payer's new
subscription. So the subscription sync links what it finds billed as well
(:func:`link_billed`), and the two syncs may run in either order; a renewal is found while the
syncs run more often than the plans' period.

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
from datetime import datetime, timedelta

from django.db import DatabaseError, models, transaction
from django.db.models import Q

from django_accepton import signals
from django_accepton.client.resources import PAID_STATUSES
from django_accepton.models import Charge, Plan, Subscription, Verification
from django_accepton.services.changes import announce
from django_accepton.services.recurring import BILLED_WITHIN
from django_accepton.services.upsert import WRITTEN_ON

logger = logging.getLogger(__name__)

# A subscription sync looks again for the renewal of every mirrored subscription billed this
# recently, changed or not: a charge sync that died between writing a page and linking it
# leaves the link to it.
RELINK_WITHIN = timedelta(days=2)


# Where the syncs write (upsert.WRITTEN_ON), whatever a router says of reads: a page's rows are
# linked right after it commits, and a replica may not show them yet (a link missed then is
# missed for good: the next sync finds the charge unchanged).
def _charges() -> models.Manager[Charge]:
    return Charge.objects.db_manager(WRITTEN_ON)


def _subscriptions() -> models.Manager[Subscription]:
    return Subscription.objects.db_manager(WRITTEN_ON)


def _plans() -> models.Manager[Plan]:
    return Plan.objects.db_manager(WRITTEN_ON)


def link_renewals(environment: str, charge_ids: Iterable[str], *, source: str = "sync") -> int:
    """Link the renewals among ``charge_ids`` to their subscriptions; the number linked.

    Each link is made in its own transaction, under a lock on the subscription's row, after
    checking again that no other charge explains its billing: the charge sync and the
    subscription sync may find one renewal at the same moment. The signal waits for the commit.
    """
    ids = list(charge_ids)
    if not ids:
        return 0
    plans: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pk, name, currency in (
        _plans().filter(environment=environment).values_list("pk", "name", "currency")
    ):
        plans[(name, currency)].append(pk)
    if not plans:
        return 0
    rows = _charges().filter(
        pk__in=ids,
        environment=environment,
        verification=Verification.UNCLAIMED,
        token__isnull=True,
        created__isnull=False,
        description__in={name for name, _ in plans},
    )
    linked = 0
    for charge in rows:
        plan_ids = plans.get((charge.description, charge.currency))
        if not plan_ids:
            continue
        if charge.status.lower() not in PAID_STATUSES or charge.refunded:
            continue
        try:
            linked += _link(charge, plan_ids, source)
        except DatabaseError:  # one charge never stops the others
            logger.exception("Linking charge %s as a renewal failed", charge.pk)
    return linked


def _link(charge: Charge, plan_ids: list[str], source: str) -> int:
    with transaction.atomic():
        found = _renewed(charge, plan_ids, _email(charge))
        if found is None:
            return 0
        subscription = _subscriptions().select_for_update().get(pk=found.pk)
        assert charge.created is not None
        if subscription.last_billed_at is None or _explained(
            subscription, abs(subscription.last_billed_at - charge.created)
        ):
            return 0
        updated = (
            _charges()
            .filter(pk=charge.pk, verification=Verification.UNCLAIMED)
            .update(verification=Verification.RENEWAL, renewal_of=subscription)
        )
        if not updated:
            return 0
        charge.verification, charge.renewal_of = Verification.RENEWAL, subscription
        announce(
            signals.subscription_renewed,
            Subscription,
            subscription=subscription,
            charge=charge,
            source=source,
        )
        return 1


def link_billed(environment: str, billed: Iterable[datetime]) -> int:
    """Link the renewals that subscriptions' billing times (``last_billed_at``) explain: the
    charge sync may have copied a renewal before the subscription sync saw it billed, or died
    before linking it. One query for the candidates; the number linked."""
    moments = set(billed)
    if not moments:
        return 0
    near = Q()
    for moment in moments:
        near |= Q(created__gte=moment - BILLED_WITHIN, created__lte=moment + BILLED_WITHIN)
    candidates = (
        _charges()
        .filter(
            near,
            environment=environment,
            verification=Verification.UNCLAIMED,
            token__isnull=True,
        )
        .values_list("pk", flat=True)
    )
    return link_renewals(environment, list(candidates))


def _explained(subscription: Subscription, apart: timedelta) -> bool:
    """Whether a charge linked to ``subscription`` (its first payment or a renewal) is at
    least ``apart`` close to its ``last_billed_at``: that billing is that charge (the mirror
    may not show a newer one yet)."""
    moment = subscription.last_billed_at
    assert moment is not None
    return (
        _charges()
        .filter(Q(subscription=subscription) | Q(renewal_of=subscription))
        .filter(created__gte=moment - apart, created__lte=moment + apart)
        .exists()
    )


def _email(charge: Charge) -> str:
    email = charge.metadata.get("email") if isinstance(charge.metadata, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def _renewed(charge: Charge, plan_ids: list[str], email: str) -> Subscription | None:
    """The subscription ``charge`` renewed: of the mirrored subscriptions to ``plan_ids`` (the
    payer's, when the charge names one) billed within ``BILLED_WITHIN`` of it, the strictly
    closest, if its first payment is linked here and older (the caller checks, under the
    subscription's lock, that no charge linked to it already explains that billing). Every
    subscription billed near the charge competes, linked or not: a billing of a subscription
    whose first payment is not here is no other's renewal."""
    assert charge.created is not None
    near = _subscriptions().filter(
        environment=charge.environment,
        plan_id__in=plan_ids,
        last_billed_at__gte=charge.created - BILLED_WITHIN,
        last_billed_at__lte=charge.created + BILLED_WITHIN,
    )
    if email:
        near = near.filter(Q(email__iexact=email))
    apart = sorted(
        (abs(sub.last_billed_at - charge.created), sub.pk, sub)
        for sub in near
        if sub.last_billed_at is not None
    )
    if not apart or (len(apart) > 1 and apart[0][0] == apart[1][0]):
        if apart:
            logger.info("Charge %s may renew several subscriptions; it stays unclaimed.", charge.pk)
        return None
    subscription: Subscription = apart[0][2]
    first = _charges().filter(subscription=subscription).values_list("pk", "created").first()
    if first is None or first[0] == charge.pk or first[1] is None or first[1] >= charge.created:
        return None  # not started here, or this charge is its start
    return subscription  # whether a linked charge explains the billing: _link, under its lock
