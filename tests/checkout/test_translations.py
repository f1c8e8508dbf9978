"""Every page a customer sees, and the admin, in the shipped German locale."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse
from django.utils import translation

from django_accepton.models import Charge
from django_accepton.services.verification import verify_charge
from tests.checkout.conftest import control, pay, render_form, token_in

pytestmark = pytest.mark.django_db

PRODUCT = {"amount": 1200, "currency": "eur", "description": "Tintenfass", "reference": "o-9"}


@pytest.fixture
def german(settings):
    settings.LANGUAGE_CODE = "de"
    with translation.override("de"):
        yield


def test_the_outcome_pages_speak_german(accepton, german):
    token_id = token_in(render_form(PRODUCT))
    charge_id = pay(accepton, token_id).json()["id"]
    assert verify_charge(charge_id, token_id).ok
    client = Client()

    paid = client.get(reverse("accepton:success"), {"token": token_id, "charge": charge_id})
    failed = client.get(reverse("accepton:failure"), {"reason": "amount_mismatch"})
    bad = client.post(reverse("accepton:return"), {})

    assert "Vielen Dank, Ihre Zahlung ist eingegangen." in paid.content.decode()
    assert '<html lang="de">' in paid.content.decode()
    assert "Die Zahlung passt nicht zur Bestellung." in failed.content.decode()
    assert "Diese Anfrage konnte nicht verarbeitet werden." in bad.content.decode()


def test_an_unavailable_form_says_so_in_german(accepton, german):
    control(accepton, "faults", {"status": 503, "count": 3, "path_prefix": "/v1/tokens"})
    html = render_form(PRODUCT)
    assert "Die Zahlung ist vorübergehend nicht möglich." in html


def test_the_admin_speaks_german_and_writes_money_the_german_way(accepton, german):
    from django.contrib.auth import get_user_model

    token_id = token_in(render_form(PRODUCT))
    charge_id = pay(accepton, token_id).json()["id"]
    assert verify_charge(charge_id, token_id).ok
    admin = get_user_model().objects.create_superuser("chef", "chef@example.com", None)
    client = Client()
    client.force_login(admin)

    listing = client.get(reverse("admin:django_accepton_charge_changelist")).content.decode()
    refund = client.get(
        reverse("admin:django_accepton_charge_refund", args=[quote(charge_id)])
    ).content.decode()

    assert "CSV exportieren" in listing
    assert "€12,00" in listing
    assert "Belastet €12,00" in refund
    assert Charge.objects.get(pk=charge_id).get_verification_display() == "Bestätigt"


def test_the_german_catalogue_translates_every_string_it_holds():
    import re
    from pathlib import Path

    import django_accepton

    po = Path(django_accepton.__file__).parent / "locale/de/LC_MESSAGES/django.po"
    entries = po.read_text().split("\n\n")[1:]  # the first is the header
    untranslated = [
        entry for entry in entries if re.search(r'(?m)^msgstr(\[\d\])? ""\n(?!")', entry + "\n")
    ]
    assert entries
    assert untranslated == []
    assert "#, fuzzy" not in po.read_text()
