"""Promo codes: AcceptOn first, the local row only once AcceptOn said yes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from django_accepton.client import APIError, InvalidRequestError, NotFoundError
from django_accepton.models import PromoCode
from django_accepton.services.environments import EnvironmentMismatch
from django_accepton.services.promo_codes import (
    create_promo_code,
    delete_promo_code,
    update_promo_code,
)
from tests.mirror.helpers import fault

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]


def remote_codes(sandbox) -> dict[str, tuple[str, object]]:
    listed = sandbox.state.list_promo_codes(per_page=100)["data"]
    return {code["name"]: (code["promo_type"], code["value"]) for code in listed}


def test_create_mirrors_what_acceptOn_stored(accepton):
    # A percentage is given as a percent and sent in the account's scale (fraction here).
    promo = create_promo_code("SPRING10", "percentage", 10)

    sent = 10 if accepton.state.dialect.percent_scale == "percent" else 0.1
    assert remote_codes(accepton) == {"SPRING10": ("percentage", sent)}
    promo.refresh_from_db()
    assert (promo.environment, promo.name, promo.promo_type) == (
        "sandbox",
        "SPRING10",
        "percentage",
    )
    assert promo.value == Decimal(str(sent))
    assert promo.raw["object"] == "promo_code"
    assert promo.synced_at is not None


def test_update_renames_on_acceptOn_and_keeps_the_row(accepton):
    promo = create_promo_code("SPRING10", "percentage", "10")

    updated = update_promo_code(promo, name="SUMMER5", promo_type="amount", value=500)

    assert remote_codes(accepton) == {"SUMMER5": ("amount", 500)}
    assert updated.pk == promo.pk
    promo.refresh_from_db()
    assert (promo.name, promo.promo_type, promo.value) == ("SUMMER5", "amount", Decimal(500))


def test_a_refused_change_leaves_the_row_unchanged(accepton):
    create_promo_code("TAKEN", "amount", 100)
    promo = create_promo_code("MINE", "amount", 200)
    before = PromoCode.objects.values().get(pk=promo.pk)

    with pytest.raises(InvalidRequestError, match="already taken"):
        update_promo_code(promo, name="TAKEN", promo_type="amount", value=300)
    with pytest.raises(InvalidRequestError, match="already taken"):
        create_promo_code("MINE", "amount", 1)

    assert PromoCode.objects.values().get(pk=promo.pk) == before
    assert PromoCode.objects.count() == 2
    assert remote_codes(accepton) == {"TAKEN": ("amount", 100), "MINE": ("amount", 200)}


def test_a_server_error_on_delete_leaves_the_row(accepton):
    promo = create_promo_code("KEEP", "fixed_price", 1500)
    fault(accepton, status=500, path_prefix="/v1/promo_codes/KEEP", method="DELETE")

    with pytest.raises(APIError, match="500"):
        delete_promo_code(promo)

    assert PromoCode.objects.filter(pk=promo.pk).exists()
    assert "KEEP" in remote_codes(accepton)


def test_a_refused_delete_of_a_live_code_leaves_the_row(accepton):
    # A 400 to a delete is not "not found" until the code itself cannot be found.
    promo = create_promo_code("LIVE", "percentage", 90)
    fault(accepton, status=400, path_prefix="/v1/promo_codes/LIVE", method="DELETE")

    with pytest.raises(InvalidRequestError):
        delete_promo_code(promo)

    assert PromoCode.objects.filter(pk=promo.pk).exists()
    assert "LIVE" in remote_codes(accepton)


def test_delete_removes_it_on_both_sides(accepton):
    promo = create_promo_code("GONE", "amount", 100)

    delete_promo_code(promo)

    assert remote_codes(accepton) == {}
    assert not PromoCode.objects.exists()


def test_deleting_a_code_acceptOn_no_longer_has_removes_the_row(accepton):
    promo = create_promo_code("STALE", "amount", 100)
    accepton.state.delete_promo_code("STALE")

    delete_promo_code(promo)

    assert not PromoCode.objects.exists()


def test_updating_a_code_acceptOn_no_longer_has_is_refused(accepton):
    promo = create_promo_code("STALE", "amount", 100)
    accepton.state.delete_promo_code("STALE")

    with pytest.raises(NotFoundError):
        update_promo_code(promo, name="STALE", promo_type="amount", value=200)

    promo.refresh_from_db()
    assert promo.value == Decimal(100)


def test_a_rename_onto_a_stale_row_replaces_it(accepton):
    stale = create_promo_code("OLD", "amount", 100)
    accepton.state.delete_promo_code("OLD")  # gone on AcceptOn, not yet synced here
    promo = create_promo_code("NEW", "amount", 200)

    update_promo_code(promo, name="OLD", promo_type="amount", value=200)

    assert list(PromoCode.objects.values_list("pk", "name")) == [(promo.pk, "OLD")]
    assert not PromoCode.objects.filter(pk=stale.pk).exists()


def test_rows_of_another_environment_are_not_sent(accepton):
    promo = create_promo_code("PROD", "amount", 100)
    PromoCode.objects.filter(pk=promo.pk).update(environment="production")

    with pytest.raises(EnvironmentMismatch):
        delete_promo_code(promo)

    assert "PROD" in remote_codes(accepton)
