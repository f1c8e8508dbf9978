from __future__ import annotations

import logging

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from django_accepton.client import AcceptOnError
from django_accepton.models import Charge, Plan, TransactionToken, Verification
from django_accepton.outcomes import outcome_ids
from django_accepton.services.verification import recheck_pending_charge
from store import catalogue
from store import subscriptions as subscriptions_service
from store.models import Membership, Order, Product

logger = logging.getLogger(__name__)


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    return render(request, "store/product_list.html", {"products": Product.objects.all()})


@require_GET
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(
        request, "store/product_detail.html", {"product": get_object_or_404(Product, slug=slug)}
    )


@require_POST
def buy(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(Product, slug=slug)
    # The price is copied when the order is placed: the token, and so the charge, must match it.
    order = Order.objects.create(product=product, amount=product.price, currency=product.currency)
    return HttpResponseRedirect(order.get_absolute_url())


@require_GET
def order_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("product"), public_id=public_id)
    shown = request.GET.get("form")
    context = {"order": order, "inline": shown == "inline", "in_page": shown == "in-page"}
    return render(request, "store/order_detail.html", context)


REJECTION_MESSAGES = {
    "already_claimed": "That payment was already used for another order.",
    "token_already_fulfilled": "This order is already paid.",
    "order_already_paid": "This order was already paid. We have been notified and will refund "
    "this second payment.",
    "amount_mismatch": "The payment did not match the order's price. We have been notified.",
    "currency_mismatch": "The payment was in another currency. We have been notified.",
    "description_mismatch": "The payment was made for another order. We have been notified.",
    "not_paid": "The payment did not go through.",
    "refunded": "That payment has been refunded.",
    "unknown_charge": "We could not find that payment.",
}


SUBSCRIPTION_REJECTION_MESSAGES = {
    "already_claimed": "That payment was already used for another plan.",
    "amount_mismatch": "The payment did not match the plan's price. We have been notified.",
    "currency_mismatch": "The payment was in another currency. We have been notified.",
    "description_mismatch": "The payment was made for another plan. We have been notified.",
    "not_paid": "The payment did not go through.",
    "refunded": "That payment has been refunded.",
    "unknown_charge": "We could not find that payment.",
}


def _confirming(request: HttpRequest, item: str, amount: int, currency: str) -> HttpResponse:
    context = {"item": item, "amount": amount, "currency": currency}
    return render(request, "store/confirming.html", context)


# It may finish a pending verification (recheck_pending_charge) and reads the order right after:
# outside ATOMIC_REQUESTS' transaction, the verdict and the charge_verified receivers that pay
# the order are committed before that read, as in django-accepton's own checkout routes.
@transaction.non_atomic_requests
@require_GET
def order_status(request: HttpRequest) -> HttpResponse:
    """Where django-accepton sends the customer after a payment: paid, refused or pending.

    ``SUCCESS_URL``, ``FAILURE_URL`` and ``PENDING_URL`` all point here, with
    ``?token=…&charge=…&reason=…``, for orders and subscriptions alike. Only the token is used
    to find the order or the plan; whether it is paid comes from the database, never from the
    query string.
    """
    token_id, charge_id = outcome_ids(request.GET)
    token = TransactionToken.objects.filter(pk=token_id).first() if token_id else None
    target = token.target if token else None
    if not isinstance(target, Order | Plan):
        raise Http404("No such order.")
    charge = Charge.objects.filter(pk=charge_id, token=token).first() if charge_id else None
    if charge is not None and charge.verification == Verification.PENDING:
        # AcceptOn did not answer when the payment came back: ask again (at most every few
        # seconds), and keep the customer on a page that refreshes itself until it is decided.
        recheck_pending_charge(charge)
        charge.refresh_from_db()
    if isinstance(target, Plan):
        return _subscription_status(request, target, charge)
    order = target
    order.refresh_from_db()
    if order.status == Order.Status.PAID:
        messages.success(request, "Thank you! Your payment was received.")
    elif charge is not None and charge.verification == Verification.PENDING:
        return _confirming(request, str(order), order.amount, order.currency)
    else:
        reason = charge.reason if charge is not None else request.GET.get("reason", "")
        messages.error(
            request, REJECTION_MESSAGES.get(reason, "The payment could not be confirmed.")
        )
    return HttpResponseRedirect(order.get_absolute_url())


def _subscription_status(request: HttpRequest, plan: Plan, charge: Charge | None) -> HttpResponse:
    """After a payment of a plan's recurring token: the membership the ``charge_verified``
    receiver recorded, the page that waits for AcceptOn, or why nobody was subscribed."""
    membership = None
    if charge is not None and charge.verification == Verification.VERIFIED:
        membership = Membership.objects.filter(charge_id=charge.pk).first()
    if membership is not None:
        _remember(request, membership)
        messages.success(request, f"Welcome to {membership.plan_name}!")
        return HttpResponseRedirect(membership.get_absolute_url())
    if charge is not None and charge.verification == Verification.PENDING:
        return _confirming(request, plan.name, plan.amount, plan.currency)
    reason = charge.reason if charge is not None else request.GET.get("reason", "")
    messages.error(
        request,
        SUBSCRIPTION_REJECTION_MESSAGES.get(reason, "The payment could not be confirmed."),
    )
    return HttpResponseRedirect(reverse("store:subscriptions"))


# ----- subscriptions ------------------------------------------------------------------------

SESSION_MEMBERSHIPS = "store_memberships"


def _remember(request: HttpRequest, membership: Membership) -> None:
    known = request.session.get(SESSION_MEMBERSHIPS, [])
    if str(membership.public_id) not in known:
        request.session[SESSION_MEMBERSHIPS] = [*known, str(membership.public_id)]


@require_GET
def subscriptions(request: HttpRequest) -> HttpResponse:
    """The plans, each with django-accepton's ``{% accepton_subscription_form plan %}``."""
    try:
        offers = catalogue.offers()
    except AcceptOnError:
        logger.exception("Plans could not be loaded from AcceptOn")
        offers = []
        messages.error(request, "Subscriptions are unavailable right now. Please try again soon.")
    mine = Membership.objects.filter(public_id__in=request.session.get(SESSION_MEMBERSHIPS, []))
    return render(request, "store/subscriptions.html", {"offers": offers, "memberships": mine})


@require_GET
def membership_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = get_object_or_404(Membership, public_id=public_id)
    _remember(request, membership)
    # What AcceptOn reports (the mirror, kept by the sync) decides, not only the signals heard.
    subscriptions_service.follow_the_mirror(membership)
    return render(request, "store/membership_detail.html", {"membership": membership})


@require_POST
def membership_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    """The Cancel button asks first; only the confirmation cancels."""
    membership = get_object_or_404(Membership, public_id=public_id)
    if request.POST.get("confirm") != "yes":
        return render(request, "store/membership_cancel.html", {"membership": membership})
    try:
        subscriptions_service.cancel_membership(membership)
    except AcceptOnError:
        logger.exception("Subscription %s could not be cancelled", membership.subscription_id)
        messages.error(request, "We could not reach the payment service. Please try again.")
    else:
        messages.success(request, "Your subscription is cancelled. You will not be billed again.")
    return HttpResponseRedirect(membership.get_absolute_url())
