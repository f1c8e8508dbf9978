"""Cancelling a membership: the store's side of AcceptOn's recurring payments.

Subscribing needs no code here: the subscriptions page renders django-accepton's
``{% accepton_subscription_form plan %}``, django-accepton verifies the payment (and links the
subscription AcceptOn made for it), and ``store.receivers.record_membership`` records the
membership when ``charge_verified`` is sent.
"""

from __future__ import annotations

from django.utils import timezone

from django_accepton.api import get_client
from django_accepton.client import AcceptOnError, InvalidRequestError
from django_accepton.models import Subscription
from django_accepton.services.subscriptions import cancel_subscription, mirror_subscription
from store.models import Membership


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
            mirror_subscription(remote)
    Membership.objects.filter(pk=membership.pk, status=Membership.Status.ACTIVE).update(
        status=Membership.Status.CANCELLED, cancelled_at=timezone.now()
    )
    membership.refresh_from_db()


def follow_the_mirror(membership: Membership) -> None:
    """A membership whose mirrored subscription AcceptOn reports cancelled is cancelled."""
    if membership.status != Membership.Status.ACTIVE or not membership.subscription_id:
        return
    if Subscription.objects.filter(pk=membership.subscription_id, active=False).exists():
        Membership.objects.filter(pk=membership.pk, status=Membership.Status.ACTIVE).update(
            status=Membership.Status.CANCELLED, cancelled_at=timezone.now()
        )
        membership.refresh_from_db()


__all__ = ["AcceptOnError", "cancel_membership", "follow_the_mirror"]
