"""Subscribing and cancelling: the store's side of AcceptOn's recurring payments.

As with orders, the browser only says which charge it made. Everything else (paid, how much,
for which plan) comes from AcceptOn with the secret key before a membership is recorded.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_accepton.api import current_environment, get_client
from django_accepton.client import AcceptOnError, InvalidRequestError, NotFoundError
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client import Subscription as RemoteSubscription
from django_accepton.conf import get_settings
from django_accepton.models import Plan, Subscription
from django_accepton.services.subscriptions import (
    MIRRORED_FIELDS,
    cancel_subscription,
    subscription_row,
)
from store.models import Membership

logger = logging.getLogger(__name__)

PAID_STATUSES = frozenset({"paid", "completed", "succeeded"})


class SubscriptionRefused(Exception):
    """The charge does not pay for this plan; the message can be shown to the customer."""


def _expected_amount(remote: RemoteCharge, plan: Plan) -> int | None:
    """What the first payment may be: the plan's price, or that price after the promo code the
    charge names, as AcceptOn itself defines the code."""
    if remote.amount == plan.amount:
        return plan.amount
    code = remote.metadata.get("promo_code") if isinstance(remote.metadata, dict) else None
    if not isinstance(code, str) or not code or not get_settings().accept_promo_codes:
        return None
    try:
        return get_client().promo_codes.retrieve(code).apply(plan.amount)
    except NotFoundError:
        return None


def _check(remote: RemoteCharge, plan: Plan) -> None:
    if (remote.status or "").lower() not in PAID_STATUSES:
        raise SubscriptionRefused("The payment did not go through.")
    if (remote.currency or "").lower() != plan.currency.lower():
        raise SubscriptionRefused("The payment was in another currency.")
    if remote.description and remote.description != plan.name:
        raise SubscriptionRefused("The payment was made for another plan.")
    if remote.amount != _expected_amount(remote, plan):
        raise SubscriptionRefused("The payment did not match the plan's price.")


def _mirror(remote: RemoteSubscription) -> None:
    """Write AcceptOn's subscription into django-accepton's mirror now, as the hourly sync
    would, so that the admin shows it (and can cancel it) at once."""
    row = subscription_row(remote, current_environment(), timezone.now())
    # plan_id, not plan: a plan that is not mirrored yet is never looked up.
    columns = ["plan_id" if name == "plan" else name for name in MIRRORED_FIELDS]
    defaults = {"environment": row.environment, **{name: getattr(row, name) for name in columns}}
    Subscription.objects.update_or_create(id=row.id, defaults=defaults)


def _find_subscription(plan: Plan, email: str) -> str:
    """The newest active subscription of ``email`` to ``plan`` not yet linked to a membership."""
    taken = set(
        Membership.objects.filter(plan_id=plan.id)
        .exclude(subscription_id="")
        .values_list("subscription_id", flat=True)
    )
    page = get_client().subscriptions.list(plan_token=plan.id, active=True)
    for subscription in page.data:
        if subscription.id not in taken and (subscription.email or "").lower() == email.lower():
            _mirror(subscription)
            return subscription.id
    return ""


def confirm_subscription(plan: Plan, charge_id: str) -> tuple[Membership, bool]:
    """Record the membership ``charge_id`` paid for; ``(membership, created)``.

    A charge that already made a membership gives that one back (``created`` false): the form's
    answer arriving twice subscribes nobody twice.
    """
    existing = Membership.objects.filter(charge_id=charge_id).first()
    if existing is not None:
        if existing.plan_id != plan.id:
            raise SubscriptionRefused("That payment was already used for another plan.")
        return existing, False
    try:
        remote = get_client().charges.retrieve(charge_id)
    except NotFoundError:
        raise SubscriptionRefused("We could not find that payment.") from None
    _check(remote, plan)
    metadata = remote.metadata if isinstance(remote.metadata, dict) else {}
    email = str(metadata.get("email") or "")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                environment=current_environment(),
                plan_id=plan.id,
                plan_name=plan.name,
                amount=plan.amount,
                currency=plan.currency,
                period_unit=plan.period_unit,
                email=email,
                charge_id=charge_id,
                amount_paid=remote.amount,
                promo_code=str(metadata.get("promo_code") or ""),
                subscription_id=_find_subscription(plan, email) if email else "",
            )
    except IntegrityError:
        # Another request recorded this charge a moment ago.
        return Membership.objects.get(charge_id=charge_id), False
    logger.info("Membership %s: %s paid %s", membership.pk, email, charge_id)
    return membership, True


def cancel_membership(membership: Membership) -> None:
    """Cancel the subscription at AcceptOn, then here. Raises ``AcceptOnError`` when AcceptOn
    could not be asked; the membership then stays active, as it still is at AcceptOn."""
    if membership.status == Membership.Status.CANCELLED:
        return
    if membership.subscription_id:
        try:
            if Subscription.objects.filter(pk=membership.subscription_id).exists():
                # django-accepton's service: AcceptOn first, then its mirror row.
                cancel_subscription(membership.subscription_id)
            else:
                get_client().subscriptions.cancel(membership.subscription_id)
        except InvalidRequestError:
            # AcceptOn refuses to cancel a subscription that is no longer active (cancelled in
            # its dashboard, say): that is the state we wanted.
            remote = get_client().subscriptions.retrieve(membership.subscription_id)
            if remote.active:
                raise
            _mirror(remote)
    Membership.objects.filter(pk=membership.pk, status=Membership.Status.ACTIVE).update(
        status=Membership.Status.CANCELLED, cancelled_at=timezone.now()
    )
    membership.refresh_from_db()


__all__ = ["AcceptOnError", "SubscriptionRefused", "cancel_membership", "confirm_subscription"]
