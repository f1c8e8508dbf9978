"""Who may change money and prices: every admin path to a refund or a promo code change,
tried by staff without the permission, and cross-site posts to the JSON route.

Each attempt is a request that would change something if it were allowed; it counts as refused
if nothing changed here or on AcceptOn (and the answer is no 500). The same attempts by a user
who holds the permission must get through, or the refusals would prove nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse

from django_accepton.models import Charge, PromoCode, RefundRequest
from django_accepton.services.promo_codes import create_promo_code
from tests.admin.conftest import refund_through_button
from tests.checkout.conftest import pay, render_form, token_in
from tests.mirror.helpers import verified_charge

pytestmark = pytest.mark.django_db

CHARGES = reverse("admin:django_accepton_charge_changelist")
PROMO_MODEL = ("view_promocode", "add_promocode", "change_promocode", "delete_promocode")
Attempt = Callable[[Client], int]


def user(*codenames: str) -> Client:
    staff = get_user_model().objects.create_user(
        f"staff{get_user_model().objects.count()}", is_staff=True
    )
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_accepton", codename__in=codenames)
    )
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    return client


def refund_attempts(charge: Charge) -> dict[str, Attempt]:
    url = reverse("admin:django_accepton_charge_refund", args=[quote(charge.pk)])
    action = {"action": "refund_in_full", "_selected_action": [charge.pk], "confirmed": "yes"}
    return {
        "refund button, confirmed": lambda c: (
            refund_through_button(c, url, {"amount": "7.00"}).status_code
        ),
        "refund in full action, confirmed": lambda c: c.post(CHARGES, action).status_code,
    }


def promo_attempts(promo: PromoCode) -> dict[str, Attempt]:
    change = reverse("admin:django_accepton_promocode_change", args=[promo.pk])
    delete = reverse("admin:django_accepton_promocode_delete", args=[promo.pk])
    add = reverse("admin:django_accepton_promocode_add")
    return {
        "promo code add": lambda c: (
            c.post(add, {"name": "FREE", "promo_type": "fixed_price", "value": "0"}).status_code
        ),
        "promo code change": lambda c: (
            c.post(
                change, {"name": promo.name, "promo_type": "percentage", "value": "100"}
            ).status_code
        ),
        "promo code delete": lambda c: c.post(delete, {"post": "yes"}).status_code,
    }


def money_state(sandbox, charge: Charge) -> tuple[object, ...]:
    charge.refresh_from_db()
    codes = sandbox.state.list_promo_codes(per_page=100)["data"]
    return (
        RefundRequest.objects.count(),
        charge.amount_refunded,
        len(sandbox.state.refunds_for_charge(charge.pk)),
        sorted(PromoCode.objects.values_list("name", "promo_type", "value")),
        sorted((code["name"], code["promo_type"], str(code["value"])) for code in codes),
    )


def test_refunds_and_promo_codes_are_refused_to_staff_without_the_permission(accepton, proof):
    charge = verified_charge(accepton, 5000)
    promo = create_promo_code("WELCOME", "amount", 500)
    attempts = {**refund_attempts(charge), **promo_attempts(promo)}
    # Staff who can see everything, and hold every model permission Django offers, but not
    # refund_charge / manage_promo_codes.
    lacking = {
        "staff, no permission": user(),
        "viewer of charges and codes": user("view_charge", "view_promocode"),
        "all model permissions": user(
            "view_charge", "change_charge", "delete_charge", "add_charge", *PROMO_MODEL
        ),
    }
    refused = tried = 0
    statuses: list[int] = []
    for client in lacking.values():
        for attempt in attempts.values():
            before = money_state(accepton, charge)
            statuses.append(attempt(client))
            tried += 1
            refused += money_state(accepton, charge) == before and statuses[-1] < 500

    # The same attempts with the permissions: each one changes something.
    allowed = user("view_charge", "refund_charge", *PROMO_MODEL, "manage_promo_codes")
    went_through = 0
    for attempt in attempts.values():
        before = money_state(accepton, charge)
        status = attempt(allowed)
        went_through += money_state(accepton, charge) != before and status in (200, 302)

    proof(
        "permissions: changes refused to staff lacking them",
        f"{refused} of {tried}",
        f"{tried} of {tried}",
    )
    proof(
        "permissions: the same with the permission went through",
        f"{went_through} of {len(attempts)}",
        f"{len(attempts)} of {len(attempts)}",
    )
    assert tried == len(lacking) * len(attempts)
    assert refused == tried
    assert 403 in statuses
    assert went_through == len(attempts)
    assert [request.amount for request in RefundRequest.objects.order_by("pk")] == [700, 4300]


def test_the_json_route_refuses_cross_site_posts(accepton, proof):
    token_id = token_in(render_form({"amount": 1200, "currency": "usd", "description": "CSRF"}))
    body = {"charge_id": pay(accepton, token_id).json()["id"], "token": token_id}
    url = reverse("accepton:verify")
    secret = _get_new_csrf_string()

    def post(cookie: str | None, headers: dict[str, str]) -> int:
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        if cookie is not None:
            client.cookies["csrftoken"] = cookie
        return client.post(
            url, json.dumps(body), content_type="application/json", headers=headers
        ).status_code

    cross_site = {
        "no cookie, no token": post(None, {}),
        "cookie, no token": post(secret, {}),
        "cookie, another token": post(secret, {"X-CSRFToken": _get_new_csrf_string()}),
        "token, no cookie": post(None, {"X-CSRFToken": secret}),
        "valid token from another origin": post(
            secret, {"X-CSRFToken": secret, "Origin": "https://shop.attacker.example"}
        ),
    }
    refused = sum(1 for status in cross_site.values() if status == 403)
    unchanged = not Charge.objects.exists()
    same_site = post(secret, {"X-CSRFToken": secret, "Origin": "http://testserver"})

    proof(
        "csrf: cross-site posts to the JSON route refused",
        f"{refused} of {len(cross_site)}",
        f"{len(cross_site)} of {len(cross_site)}",
    )
    proof("csrf: the same post from the store's own page", same_site, 200)
    assert cross_site == dict.fromkeys(cross_site, 403)
    assert unchanged
    assert same_site == 200
