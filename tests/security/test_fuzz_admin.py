"""Property tests of the admin forms that reach AcceptOn, for a staff user allowed to use them:
the refund form (amount, reason) and the promo code form (name, type, value).

Whatever is typed: no 500; input the page refuses changes nothing, here or on AcceptOn; input
it accepts leaves the store and AcceptOn agreeing.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation

import pytest
from django import forms
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from django_accepton.models import Charge, PromoCode, RefundRequest
from django_accepton.money import to_minor
from django_accepton.services.promo_codes import create_promo_code
from tests.mirror.helpers import verified_charge
from tests.security.test_fuzz_routes import FUZZ

pytestmark = pytest.mark.django_db


def staff(*codenames: str) -> Client:
    user = get_user_model().objects.create_user(
        f"fuzz{get_user_model().objects.count()}", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_accepton", codename__in=codenames)
    )
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.sampled_from(["", " 7 ", "1e3", "0x10", "1_000", "\u0663", "0", "-0", "1.0", "NaN"]),
    st.text(max_size=20),
)


# ----- the refund form --------------------------------------------------------------------------

CHARGED = 1_000_000


def refund_state(sandbox, charge: Charge) -> tuple[int, int, int]:
    charge.refresh_from_db()
    remote = sum(item["amount"] for item in sandbox.state.refunds_for_charge(charge.pk))
    return RefundRequest.objects.filter(charge=charge).count(), charge.amount_refunded, remote


def test_refund_form_takes_any_input_without_error_or_stray_change(accepton, proof):
    refunder = staff("view_charge", "refund_charge")
    charges = [verified_charge(accepton, CHARGED, order="fuzz-0")]
    seen: Counter[str] = Counter()

    @FUZZ
    @given(
        amount=numbers
        | st.integers(1, 20_000).map(lambda cents: f"{cents // 100}.{cents % 100:02d}")
        | st.decimals(0, 200, places=3).map(str),
        reason=st.text(max_size=300),
        confirmed=st.sampled_from([None, "on", "", "True", "false", "0", "yes"]) | st.just("on"),
        signed=st.booleans() | st.just(True),
    )
    def run(amount: str, reason: str, confirmed: str | None, signed: bool) -> None:
        charge = charges[-1]
        if charge.refundable_amount < 10_000:
            charge = verified_charge(accepton, CHARGED, order=f"fuzz-{len(charges)}")
            charges.append(charge)
        before = refund_state(accepton, charge)
        data = {"amount": amount, "reason": reason}
        url = reverse("admin:django_accepton_charge_refund", args=[quote(charge.pk)])
        if confirmed is not None:
            data["confirmed"] = confirmed
            # The confirmation page's signed note, or a forged one.
            shown = refunder.post(url, {"amount": amount, "reason": reason})
            note = (shown.context or {}).get("confirmation", "") if shown.status_code == 200 else ""
            data["confirmation"] = note if signed else note[::-1]

        answer = refunder.post(url, data)

        seen[str(answer.status_code)] += 1
        assert answer.status_code in (200, 302), answer.status_code
        after = refund_state(accepton, charge)
        if answer.status_code == 200:  # the form again, or its confirmation page
            assert after == before
            seen["unchanged"] += 1
            return
        if after == before:  # a confirmation that is not the page's own refunds nothing
            assert not (signed and confirmed in ("on", "True", "yes"))
            seen["unchanged"] += 1
            seen["refused"] += 1
            return
        # Only a confirmed form with its page's note refunds ("", "0" and "false" read as no).
        assert confirmed in ("on", "True", "yes")
        assert signed
        requests, reserved, remote = after
        assert requests == before[0] + 1
        asked = to_minor(forms.DecimalField().clean(amount), "usd")
        assert reserved - before[1] == remote - before[2] == asked
        seen["refunded"] += 1

    run()
    total = sum(seen[str(status)] for status in (200, 302, 500))
    proof(
        "fuzz refund form: posts, 5xx; refused unchanged, refunded agreeing",
        f"{total}, {total - seen['200'] - seen['302']}; {seen['unchanged']}, {seen['refunded']}",
        "N, 0; 200s, 302s",
    )
    assert seen["unchanged"] == seen["200"] + seen["refused"]
    assert seen["refunded"] + seen["refused"] == seen["302"]


# ----- the promo code form ----------------------------------------------------------------------

PROMO_PERMISSIONS = (
    "view_promocode",
    "add_promocode",
    "change_promocode",
    "delete_promocode",
    "manage_promo_codes",
)


def as_number(value: object) -> Decimal:
    try:
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return Decimal("NaN")


def remote_codes(sandbox) -> dict[str, tuple[str, Decimal]]:
    codes: dict[str, tuple[str, Decimal]] = {}
    page = 1
    while True:
        listed = sandbox.state.list_promo_codes(page=page, per_page=100)["data"]
        codes.update(
            {item["name"]: (item["promo_type"], as_number(item["value"])) for item in listed}
        )
        if len(listed) < 100:
            return codes
        page += 1


def local_codes() -> dict[str, tuple[str, Decimal]]:
    return {
        name: (kind, as_number(value))
        for name, kind, value in PromoCode.objects.filter(deleted_at__isnull=True).values_list(
            "name", "promo_type", "value"
        )
    }


names = st.one_of(
    st.from_regex(r"\A[A-Z0-9]{1,12}\Z"),
    st.text(max_size=40),
    st.text(max_size=300),
    st.sampled_from(["WELCOME", "A/B", " padded ", "%41", "?x=1", "#top", ".", "..", "\x00"]),
)
plausible_kinds = st.sampled_from(["amount", "fixed_price", "percentage"])
kinds = plausible_kinds | plausible_kinds | st.text(max_size=15)


def test_promo_code_form_takes_any_input_without_error_or_stray_change(accepton, proof):
    manager = staff(*PROMO_PERMISSIONS)
    create_promo_code("WELCOME", "amount", 500)
    seen: Counter[str] = Counter()

    @FUZZ
    @given(
        change=st.booleans(),
        target=st.integers(min_value=0),
        name=names,
        promo_type=kinds,
        value=numbers | st.integers(0, 10_000).map(str) | st.decimals(0, 100, places=2).map(str),
    )
    def run(change: bool, target: int, name: str, promo_type: str, value: str) -> None:
        rows = list(PromoCode.objects.order_by("pk").values_list("pk", flat=True))
        if change and rows:
            pk = rows[target % len(rows)]
            url = reverse("admin:django_accepton_promocode_change", args=[pk])
        else:
            url = reverse("admin:django_accepton_promocode_add")
        before_local, before_remote = local_codes(), remote_codes(accepton)

        answer = manager.post(url, {"name": name, "promo_type": promo_type, "value": value})

        seen[str(answer.status_code)] += 1
        assert answer.status_code in (200, 302), answer.status_code
        after_local, after_remote = local_codes(), remote_codes(accepton)
        if answer.status_code == 200:  # the form again, with its errors
            assert (after_local, after_remote) == (before_local, before_remote)
            seen["unchanged"] += 1
            return
        assert after_local == after_remote, (name, promo_type, value)
        seen["agreeing"] += 1

    run()
    total = sum(seen[str(status)] for status in (200, 302, 500))
    proof(
        "fuzz promo code form: posts, 5xx; refused unchanged, saved agreeing",
        f"{total}, {total - seen['200'] - seen['302']}; {seen['unchanged']}, {seen['agreeing']}",
        "N, 0; 200s, 302s",
    )
    assert seen["unchanged"] == seen["200"]
    assert seen["agreeing"] == seen["302"]
