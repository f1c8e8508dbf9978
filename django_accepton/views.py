"""Thin HTTP entry points: parse, call a service, answer."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from django_accepton.conf import get_settings
from django_accepton.form_response import charge_id_from_response
from django_accepton.models import Charge, TransactionToken, Verification
from django_accepton.outcomes import destination, outcome_ids
from django_accepton.services.verification import (
    InvalidSubmission,
    Reason,
    VerificationResult,
    recheck_pending_charge,
    verify_charge,
)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "django_accepton/bad_request.html", {"message": message}, status=400)


# Charge ids AcceptOn does not know, per client address, before the routes stop asking AcceptOn
# at once for that address's submissions a while: made-up ids each cost a call with the secret
# key. Such a submission is still recorded (a pending claim the reconciliation judges), never
# dropped: a paying customer behind the same address loses nothing but a few minutes.
UNKNOWN_CHARGES_ALLOWED = 10
UNKNOWN_CHARGES_WINDOW = 10 * 60


def _guessing_key(request: HttpRequest) -> str:
    return f"django_accepton:unknown-charges:{request.META.get('REMOTE_ADDR', '')}"


def _guessing(request: HttpRequest) -> bool:
    """This address submitted too many charge ids AcceptOn does not know, lately."""
    return int(cache.get(_guessing_key(request), 0)) >= UNKNOWN_CHARGES_ALLOWED


def _count_guess(request: HttpRequest, result: VerificationResult) -> None:
    if result.reason is Reason.UNKNOWN_CHARGE:
        key = _guessing_key(request)
        cache.add(key, 0, UNKNOWN_CHARGES_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.set(key, 1, UNKNOWN_CHARGES_WINDOW)


def _submit(request: HttpRequest, charge_id: object, token_id: object) -> VerificationResult:
    """What both checkout routes do with a submitted charge: verify it for the signed-in user
    (deferred for an address that has been guessing), and count it if AcceptOn does not know
    it. Raises ``InvalidSubmission`` for ids not shaped like ids."""
    result = verify_charge(
        charge_id,
        token_id,
        defer=_guessing(request),
        user=getattr(request, "user", None),
    )
    _count_guess(request, result)
    return result


# The claim must commit on its own (it is what makes a submission count once), and the verdict
# must be committed, and announced, before the customer lands on a page that reads the order:
# so the checkout routes never run inside ATOMIC_REQUESTS' transaction.
@transaction.non_atomic_requests
@csrf_exempt  # AcceptOn's form posts cross-site and cannot send a CSRF token; see docs/security.md
@require_POST
def charge_return(request: HttpRequest) -> HttpResponse:
    """The form's ``data-redirect-uri``: the customer's browser arrives here after paying."""
    try:
        charge_id = charge_id_from_response(
            request.POST.get("response"), max_bytes=get_settings().max_response_bytes
        )
        result = _submit(request, charge_id, request.GET.get("token", ""))
    except InvalidSubmission as exc:
        return _bad_request(request, str(exc))
    if result.reason is Reason.UNKNOWN_TOKEN:
        return _bad_request(
            request, _("This payment form has expired or does not belong to this store.")
        )
    return HttpResponseRedirect(destination(result))


def json_route_unavailable(request: HttpRequest) -> HttpResponse:
    """The JSON routes (the verification and its OpenAPI schema) when djangorestframework or
    drf-spectacular is not installed (they are the ``drf`` extra)."""
    return JsonResponse(
        {
            "detail": "This route needs djangorestframework and drf-spectacular: "
            "pip install 'django-accepton[drf]' and add 'rest_framework' to INSTALLED_APPS."
        },
        status=501,
    )


def _context(request: HttpRequest) -> dict[str, Any]:
    token_id, charge_id = outcome_ids(request.GET)
    return {
        "token": TransactionToken.objects.filter(pk=token_id).first() if token_id else None,
        "charge": Charge.objects.filter(pk=charge_id, token_id=token_id).first()
        if charge_id and token_id
        else None,
        "reason": request.GET.get("reason", "")[:32],
    }


@require_GET
def paid(request: HttpRequest) -> HttpResponse:
    """Thanks only for a charge verified for the token in the link: the query string alone
    proves nothing."""
    context = _context(request)
    charge = context["charge"]
    context["verified"] = charge is not None and charge.verification == Verification.VERIFIED
    return render(request, "django_accepton/paid.html", context)


@require_GET
def failed(request: HttpRequest) -> HttpResponse:
    return render(request, "django_accepton/failed.html", _context(request))


@transaction.non_atomic_requests
@require_GET
def confirming(request: HttpRequest) -> HttpResponse:
    """Shown while AcceptOn is unreachable; it refreshes itself until the claim is decided."""
    context = _context(request)
    charge = context["charge"]
    if charge is not None and charge.verification == Verification.PENDING:
        result = recheck_pending_charge(charge)
        if result is not None and result.reason is not Reason.API_UNAVAILABLE:
            return HttpResponseRedirect(destination(result))
    elif charge is not None:
        result = VerificationResult(
            Reason(charge.reason or "ok"), charge.pk, str(charge.token_id), charge
        )
        return HttpResponseRedirect(destination(result))
    return render(request, "django_accepton/confirming.html", context)
