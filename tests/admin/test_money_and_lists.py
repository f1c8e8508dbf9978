"""The admin shows money as money, finds charges the way people look for them, and hides what
AcceptOn deleted until asked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from django_accepton.models import Charge, Plan, Verification
from django_accepton.money import describe_promo, format_money, to_minor

pytestmark = pytest.mark.django_db

CHARGES = reverse("admin:django_accepton_charge_changelist")
PLANS = reverse("admin:django_accepton_plan_changelist")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (4500, "usd", "$45.00"),
        (1250, "jpy", "¥1,250"),
        (1500, "kwd", "1.500 KWD"),
        (990, "chf", "9.90 CHF"),
        (None, "usd", ""),
    ],
)
def test_minor_units_read_as_money(amount, currency, text):
    assert format_money(amount, currency) == text


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("45.5", "usd", 4550),
        ("45.00", "usd", 4500),
        ("1250", "jpy", 1250),
        ("1.234", "kwd", 1234),
        ("0", "usd", 0),
    ],
)
def test_money_typed_in_major_units_is_kept_in_minor_units(typed, currency, minor):
    assert to_minor(Decimal(typed), currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency"),
    [("45.005", "usd"), ("1250.5", "jpy"), ("1.2345", "kwd"), ("NaN", "usd"), ("Infinity", "eur")],
)
def test_money_with_more_decimals_than_its_currency_is_no_amount(typed, currency):
    with pytest.raises(ValueError, match=r"decimal places|not an amount"):
        to_minor(Decimal(typed), currency)


def test_money_follows_the_active_locale(settings):
    settings.USE_I18N = True
    with translation.override("de"):
        assert format_money(123456789, "eur") == "€1.234.567,89"
        assert describe_promo("percentage", Decimal("12.50")) == "12,5 % Rabatt"


@pytest.mark.parametrize(
    ("promo_type", "value", "text"),
    [
        ("percentage", Decimal("15.000000"), "15 % off"),
        ("amount", 500, "$5.00 off"),
        ("fixed_price", 2000, "fixed price $20.00"),
    ],
)
def test_a_promo_rule_reads_as_words(promo_type, value, text):
    assert describe_promo(promo_type, value, "usd") == text


def charge(pk: str, **fields) -> Charge:
    return Charge.objects.create(
        id=pk,
        environment="sandbox",
        amount=4500,
        currency="usd",
        verification=Verification.UNCLAIMED,
        created=timezone.now(),
        **fields,
    )


def test_the_charge_list_shows_money(superuser_client):
    charge("chg_money1", amount_refunded=1500)

    page = superuser_client.get(CHARGES).content.decode()

    assert "$45.00" in page
    assert "$15.00" in page


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("chg_ann", {"chg_ann1"}),  # the beginning of an id
        ("ann@example", {"chg_ann1"}),  # the payer's email
        ("Walnut", {"chg_bob1"}),  # words of the description
        ("ch_remote9", {"chg_bob1"}),  # AcceptOn's processor id
    ],
)
def test_charges_are_found_by_id_prefix_email_description_and_remote_id(
    superuser_client, query, found
):
    charge("chg_ann1", metadata={"email": "Ann@Example.com"}, description="Ink pot")
    charge(
        "chg_bob1",
        metadata={"email": "bob@example.com"},
        description="Walnut desk",
        remote_id="ch_remote9",
    )

    answer = superuser_client.get(CHARGES, {"q": query})

    shown = {row.pk for row in answer.context["cl"].result_list}
    assert shown == found


def test_deleted_plans_are_hidden_until_asked_for(superuser_client):
    Plan.objects.create(
        id="pln_old",
        environment="sandbox",
        name="Gold",
        amount=900,
        currency="usd",
        period_unit="month",
        deleted_at=timezone.now(),
    )
    Plan.objects.create(
        id="pln_new",
        environment="sandbox",
        name="Gold",
        amount=900,
        currency="usd",
        period_unit="month",
    )

    default = superuser_client.get(PLANS)
    deleted = superuser_client.get(PLANS, {"deleted": "yes"})
    every = superuser_client.get(PLANS, {"deleted": "all"})

    assert [row.pk for row in default.context["cl"].result_list] == ["pln_new"]
    assert [row.pk for row in deleted.context["cl"].result_list] == ["pln_old"]
    assert {row.pk for row in every.context["cl"].result_list} == {"pln_old", "pln_new"}
    assert "$9.00" in default.content.decode()


def test_an_order_and_its_charges_link_to_each_other(superuser_client, accepton):
    from django.contrib.admin.utils import quote
    from store.models import Order, Product

    from django_accepton.services.verification import verify_charge
    from tests.checkout.conftest import pay, render_form, token_in

    product = Product.objects.create(slug="pen", name="Pen", price=4500)
    order = Order.objects.create(product=product, amount=4500, currency="usd")
    token_id = token_in(render_form(order))
    charge_id = pay(accepton, token_id).json()["id"]
    assert verify_charge(charge_id, token_id).ok

    charge_page = superuser_client.get(
        reverse("admin:django_accepton_charge_change", args=[quote(charge_id)])
    ).content.decode()
    order_page = superuser_client.get(
        reverse("admin:store_order_change", args=[order.pk])
    ).content.decode()
    token_page = superuser_client.get(reverse("admin:django_accepton_transactiontoken_changelist"))

    assert reverse("admin:store_order_change", args=[order.pk]) in charge_page
    assert reverse("admin:django_accepton_charge_change", args=[quote(charge_id)]) in order_page
    assert token_id in token_page.content.decode()


def test_admin_refunds_and_cancellations_leave_history(superuser_client, accepton):
    from django.contrib.admin.models import LogEntry

    from tests.mirror.helpers import verified_charge

    charge_row = verified_charge(accepton, 4000, order="9")
    from django.contrib.admin.utils import quote

    url = reverse("admin:django_accepton_charge_refund", args=[quote(charge_row.pk)])
    first = superuser_client.post(url, {"amount": "10.00", "reason": "broken"})
    confirmation = first.context["confirmation"]
    superuser_client.post(
        url,
        {"amount": "10.00", "reason": "broken", "confirmed": "on", "confirmation": confirmation},
    )

    entry = LogEntry.objects.get(object_id=charge_row.pk)
    assert entry.get_change_message() == "Refunded $10.00 on AcceptOn: broken"


def test_the_filtered_charge_list_exports_as_csv_streamed(superuser_client):
    import csv
    import io

    charge("chg_exp1", metadata={"email": '=HYPERLINK("http://evil")'}, description="Ink pot")
    charge("chg_exp2", description="Walnut desk")

    page = superuser_client.get(CHARGES, {"q": "Ink"}).content.decode()
    answer = superuser_client.get(reverse("admin:django_accepton_charge_export"), {"q": "Ink"})

    assert 'class="accepton-export"' in page
    assert answer.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert [row["id"] for row in rows] == ["chg_exp1"]
    assert rows[0]["amount"] == "45.00"
    assert rows[0]["email"].startswith("'=")  # never a formula in a spreadsheet


def test_exporting_needs_the_view_permission(staff_client):
    assert staff_client().get(reverse("admin:django_accepton_charge_export")).status_code == 403


@pytest.mark.django_db(transaction=True)  # the change is announced when it commits
def test_resync_selected_reads_the_rows_from_acceptOn_and_announces_once(
    superuser_client, accepton
):
    from tests.mirror.helpers import refunds_announced, verified_charge

    sold = verified_charge(accepton, 3000, order="11")
    accepton.state.create_refund(sold.pk, 3000)  # in AcceptOn's dashboard
    with refunds_announced() as announced:
        for _ in range(2):
            answer = superuser_client.post(
                CHARGES,
                {"action": "resync_selected", "_selected_action": [sold.pk]},
                follow=True,
            )
    heard = [a["charge"].pk for a in announced]

    assert Charge.objects.get(pk=sold.pk).refunded
    assert heard == [sold.pk]  # the second re-sync finds nothing new
    assert "0 changed, 1 unchanged, 0 failed" in answer.content.decode()
