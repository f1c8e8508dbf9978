from __future__ import annotations

import logging

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from django_accepton.api import get_connection
from django_accepton.client import AcceptOnError
from django_accepton.conf import get_settings
from django_accepton.form_response import charge_id_from_response
from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.services.verification import InvalidSubmission, recheck_pending_charge
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
    inline = request.GET.get("form") == "inline"
    return render(request, "store/order_detail.html", {"order": order, "inline": inline})


REJECTION_MESSAGES = {
    "already_claimed": "That payment was already used for another order.",
    "token_already_fulfilled": "This order is already paid.",
    "amount_mismatch": "The payment did not match the order's price. We have been notified.",
    "currency_mismatch": "The payment was in another currency. We have been notified.",
    "description_mismatch": "The payment was made for another order. We have been notified.",
    "not_paid": "The payment did not go through.",
    "refunded": "That payment has been refunded.",
    "unknown_charge": "We could not find that payment.",
}


@require_GET
def order_status(request: HttpRequest) -> HttpResponse:
    """Where django-accepton sends the customer after a payment: paid, refused or pending.

    ``SUCCESS_URL``, ``FAILURE_URL`` and ``PENDING_URL`` all point here, with
    ``?token=…&charge=…&reason=…``. Only the token is used to find the order; whether it is
    paid comes from the database, never from the query string.
    """
    token = TransactionToken.objects.filter(pk=request.GET.get("token", "")[:64]).first()
    order = token.target if token else None
    if not isinstance(order, Order):
        raise Http404("No such order.")
    charge = Charge.objects.filter(pk=request.GET.get("charge", "")[:64], token=token).first()
    if charge is not None and charge.verification == Verification.PENDING:
        # AcceptOn did not answer when the payment came back: ask again (at most every few
        # seconds), and keep the customer on a page that refreshes itself until it is decided.
        recheck_pending_charge(charge)
        charge.refresh_from_db()
    order.refresh_from_db()
    if order.status == Order.Status.PAID:
        messages.success(request, "Thank you! Your payment was received.")
    elif charge is not None and charge.verification == Verification.PENDING:
        return render(request, "store/confirming.html", {"order": order})
    else:
        reason = charge.reason if charge is not None else request.GET.get("reason", "")
        messages.error(
            request, REJECTION_MESSAGES.get(reason, "The payment could not be confirmed.")
        )
    return HttpResponseRedirect(order.get_absolute_url())


# ----- subscriptions ------------------------------------------------------------------------

SESSION_MEMBERSHIPS = "store_memberships"


def _remember(request: HttpRequest, membership: Membership) -> None:
    known = request.session.get(SESSION_MEMBERSHIPS, [])
    if str(membership.public_id) not in known:
        request.session[SESSION_MEMBERSHIPS] = [*known, str(membership.public_id)]


@require_GET
def subscriptions(request: HttpRequest) -> HttpResponse:
    try:
        plans = catalogue.offers()
        connection = get_connection()
    except AcceptOnError:
        logger.exception("Plans could not be loaded from AcceptOn")
        plans, connection = [], None
        messages.error(request, "Subscriptions are unavailable right now. Please try again soon.")
    mine = Membership.objects.filter(public_id__in=request.session.get(SESSION_MEMBERSHIPS, []))
    offers = [
        {
            "offer": offer,
            "redirect_uri": request.build_absolute_uri(
                reverse("store:subscribe_return", args=[offer.plan.id])
            ),
        }
        for offer in plans
    ]
    context = {"offers": offers, "connection": connection, "memberships": mine}
    return render(request, "store/subscriptions.html", context)


@csrf_exempt  # AcceptOn's form posts here cross-site and cannot send a CSRF token.
@require_POST
def subscribe_return(request: HttpRequest, plan_id: str) -> HttpResponse:
    """The recurring form's ``data-redirect-uri``: only the charge id is read from the post."""
    try:
        charge_id = charge_id_from_response(
            request.POST.get("response"), max_bytes=get_settings().max_response_bytes
        )
    except InvalidSubmission as exc:
        return HttpResponseBadRequest(str(exc))
    plan = catalogue.find_plan(plan_id)
    if plan is None:
        raise Http404("No such plan.")
    try:
        membership, created = subscriptions_service.confirm_subscription(plan, charge_id)
    except subscriptions_service.SubscriptionRefused as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("store:subscriptions"))
    except AcceptOnError:
        logger.exception("Charge %s for plan %s could not be checked", charge_id, plan_id)
        messages.error(
            request,
            "Your payment reached us but could not be confirmed yet. Please contact us rather "
            "than paying again.",
        )
        return HttpResponseRedirect(reverse("store:subscriptions"))
    _remember(request, membership)
    if created:
        messages.success(request, f"Welcome to {membership.plan_name}!")
    return HttpResponseRedirect(membership.get_absolute_url())


@require_GET
def membership_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = get_object_or_404(Membership, public_id=public_id)
    _remember(request, membership)
    return render(request, "store/membership_detail.html", {"membership": membership})


@require_POST
def membership_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = get_object_or_404(Membership, public_id=public_id)
    try:
        subscriptions_service.cancel_membership(membership)
    except AcceptOnError:
        logger.exception("Subscription %s could not be cancelled", membership.subscription_id)
        messages.error(request, "We could not reach the payment service. Please try again.")
    else:
        messages.success(request, "Your subscription is cancelled. You will not be billed again.")
    return HttpResponseRedirect(membership.get_absolute_url())
