from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client


@pytest.fixture
def staff_client(db) -> Callable[..., Client]:
    """A logged-in staff user holding exactly the given ``django_accepton`` permissions."""

    def make(*codenames: str) -> Client:
        # No password: force_login needs none, and hashing one costs most of a test's time.
        user = get_user_model().objects.create_user(
            f"staff{get_user_model().objects.count()}", is_staff=True
        )
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="django_accepton", codename__in=codenames
            )
        )
        client = Client()
        client.force_login(user)
        return client

    return make


def messages_of(response: HttpResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def superuser_client(db) -> Client:
    """pytest-django's ``admin_client`` without the password hashing."""
    user = get_user_model().objects.create_superuser("root", email="root@example.com")
    client = Client()
    client.force_login(user)
    return client


def refund_through_button(client: Client, url: str, data: dict[str, object]) -> HttpResponse:
    """The refund page's two steps: the form, then its confirmation page's "Yes, refund" with
    the signed confirmation it carries. Answers the last response (the form again, a 403, or
    the redirect after the refund)."""
    first = client.post(url, {key: value for key, value in data.items() if key != "confirmed"})
    confirmation = (first.context or {}).get("confirmation") if first.status_code == 200 else None
    if not confirmation:
        return first
    return client.post(url, {**data, "confirmed": "on", "confirmation": confirmation})
