"""Fulfilment: the order is paid when django-accepton says its charge paid for it.

A rejected charge changes nothing here: the order stays payable, and the rejection (with its
reason) is on the charge's admin page for a human to look at.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from django_accepton.models import Charge, TransactionToken
from django_accepton.signals import charge_verified
from store.models import Order


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
