"""Fulfilment: an order is paid, or a membership starts, when django-accepton says a charge
paid for it.

A rejected charge changes nothing here: the order stays payable, nobody is subscribed, and the
rejection (with its reason) is on the charge's admin page for a human to look at.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from django_accepton.models import Charge, Plan, TransactionToken
from django_accepton.signals import charge_refunded, charge_verified, subscription_cancelled
from store.models import Membership, Order


def _order_of(token: TransactionToken) -> Order | None:
    if token.content_type is None or token.content_type.model_class() is not Order:
        return None
    return Order.objects.filter(pk=token.object_id).first()


@receiver(charge_verified)
def mark_order_paid(sender: Any, charge: Charge, token: TransactionToken, **kwargs: Any) -> None:
    order = _order_of(token)
    if order is None:
        return
    # The update is conditional, so a repeated signal could never pay an order twice.
    Order.objects.filter(pk=order.pk, status=Order.Status.AWAITING_PAYMENT).update(
        status=Order.Status.PAID,
        amount_paid=charge.amount,
        promo_code=charge.promo_code,
        charge_id=charge.pk,
        paid_at=timezone.now(),
    )


@receiver(charge_verified)
def record_membership(sender: Any, charge: Charge, token: TransactionToken, **kwargs: Any) -> None:
    """A payment of a plan's recurring token: one membership per charge (the charge id is
    unique), with the subscription django-accepton linked to the charge."""
    if not token.is_recurring:
        return
    plan = token.target
    if not isinstance(plan, Plan):
        return
    metadata = charge.metadata if isinstance(charge.metadata, dict) else {}
    Membership.objects.get_or_create(
        charge_id=charge.pk,
        defaults={
            "environment": charge.environment,
            "plan_id": plan.pk,
            "plan_name": plan.name,
            "amount": plan.amount,
            "currency": plan.currency,
            "period_unit": plan.period_unit,
            "email": str(metadata.get("email") or ""),
            "amount_paid": charge.amount or 0,
            "promo_code": charge.promo_code,
            "subscription_id": charge.subscription_id or "",
        },
    )


@receiver(charge_refunded)
def mark_order_refunded(sender: Any, charge: Charge, full: bool | None, **kwargs: Any) -> None:
    """Money went back (through the admin, or found by the sync): the order says how much.
    ``charge.amount_refunded`` is the package's running total; a refund made in AcceptOn's
    dashboard shows only as the charge's ``refunded`` flag, read as the whole charge."""
    paid = Order.objects.filter(
        charge_id=charge.pk,
        status__in=(Order.Status.PAID, Order.Status.PARTLY_REFUNDED),
    )
    whole = bool(full) or (full is None and charge.refunded)
    if whole or charge.amount_refunded >= (charge.amount or 0):
        paid.update(status=Order.Status.REFUNDED, amount_refunded=charge.amount or 0)
    else:
        paid.update(status=Order.Status.PARTLY_REFUNDED, amount_refunded=charge.amount_refunded)


@receiver(subscription_cancelled)
def end_membership(sender: Any, subscription: Any, **kwargs: Any) -> None:
    """Cancelled anywhere (the store's button, the admin, AcceptOn's dashboard): the membership
    says so. Conditional, so a second announcement changes nothing."""
    Membership.objects.filter(
        subscription_id=subscription.pk, status=Membership.Status.ACTIVE
    ).update(status=Membership.Status.CANCELLED, cancelled_at=timezone.now())
