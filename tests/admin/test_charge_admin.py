"""The charge admin: a fast list, the Refund button, the full-refund action, permissions."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_accepton.models import Charge, RefundRequest, RefundState
from django_accepton.services.sync import sync_charges
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import verify_charge
from tests.admin.conftest import messages_of, refund_through_button
from tests.mirror.helpers import fault, pay_token, refunds_announced, verified_charge

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:django_accepton_charge_changelist")


def change_url(charge: Charge) -> str:
    return reverse("admin:django_accepton_charge_change", args=[quote(charge.pk)])


def refund_url(charge: Charge) -> str:
    return reverse("admin:django_accepton_charge_refund", args=[quote(charge.pk)])


def remote_refunds(sandbox, charge: Charge) -> list[int]:
    return [item["amount"] for item in sandbox.state.refunds_for_charge(charge.pk)]


def changelist_queries(client, query: str = "") -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CHANGELIST + query).status_code == 200
    return [item["sql"] for item in captured.captured_queries]


def test_the_list_costs_the_same_queries_for_20_or_600_charges(accepton, superuser_client):
    accepton.state.seed("charges", 20)
    sync_charges()
    verified_charge(accepton, 5000)
    few = changelist_queries(superuser_client)
    accepton.state.seed("charges", 580)
    sync_charges(full=True)

    many = changelist_queries(superuser_client)

    assert len(many) == len(few)
    # One count for the paginator, none for the unfiltered total.
    assert sum("COUNT(" in sql.upper() for sql in many) == 1


@pytest.mark.parametrize(
    "query",
    [
        "?verification__exact=unclaimed",
        "?status=paid",
        "?status=other",
        "?environment__exact=sandbox",
        "?created__gte=2000-01-01+00%3A00%3A00%2B00%3A00",
        "?refunded__exact=1",
        "?q=chg_nothing",
    ],
)
def test_filters_and_search_answer(accepton, superuser_client, query):
    accepton.state.seed("charges", 5)
    sync_charges()

    assert len(changelist_queries(superuser_client, query)) <= 8


def test_refund_button_shows_for_refunders_only(accepton, superuser_client, staff_client):
    charge = verified_charge(accepton)

    assert refund_url(charge) in superuser_client.get(change_url(charge)).content.decode()
    viewer = staff_client("view_charge")
    page = viewer.get(change_url(charge))
    assert page.status_code == 200
    assert refund_url(charge) not in page.content.decode()


def test_staff_without_the_permission_gets_403_and_refunds_nothing(accepton, staff_client):
    charge = verified_charge(accepton)
    viewer = staff_client("view_charge", "change_charge")

    assert viewer.get(refund_url(charge)).status_code == 403
    answer = viewer.post(refund_url(charge), {"amount": "10.00", "confirmed": "on"})

    assert answer.status_code == 403
    assert not RefundRequest.objects.exists()
    assert remote_refunds(accepton, charge) == []


def test_partial_refund_through_the_button_asks_for_confirmation(accepton, staff_client):
    charge = verified_charge(accepton, 5000)
    refunder = staff_client("view_charge", "refund_charge")

    form = refunder.get(refund_url(charge))
    assert form.status_code == 200
    assert 'value="50.00"' in form.content.decode()
    confirm = refunder.post(refund_url(charge), {"amount": "15.00", "reason": "scratched"})
    assert confirm.status_code == 200
    assert "Refund $15.00 of" in confirm.content.decode()
    assert remote_refunds(accepton, charge) == []  # nothing happens before the confirmation

    done = refunder.post(
        refund_url(charge),
        {
            "amount": "15.00",
            "reason": "scratched",
            "confirmed": "on",
            "confirmation": confirm.context["confirmation"],
        },
    )

    assert done.status_code == 302
    assert done["Location"] == change_url(charge)
    assert messages_of(done) == [f"Refunded $15.00 of {charge.pk}."]
    assert remote_refunds(accepton, charge) == [1500]
    request = RefundRequest.objects.get()
    assert (request.amount, request.reason, request.state) == (1500, "scratched", "succeeded")
    assert request.requested_by.username.startswith("staff")
    charge.refresh_from_db()
    assert charge.amount_refunded == 1500
    page = refunder.get(change_url(charge)).content.decode()
    assert "scratched" in page  # the request is shown inline on the charge


def amount_row(page: str) -> str:
    """The amount field's row of the refund form: from its form-row to the reason's."""
    start = page.index("field-amount")
    return page[start : page.index("field-reason", start)]


def test_the_refund_page_is_a_django_admin_form(accepton, superuser_client):
    charge = verified_charge(accepton, 5000)

    answer = superuser_client.get(refund_url(charge))

    assert answer.status_code == 200
    assert isinstance(answer.context["adminform"], helpers.AdminForm)
    assert [t.name for t in answer.templates][:2] == [
        "admin/django_accepton/charge/refund.html",
        "admin/change_form.html",
    ]
    page = answer.content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'class="breadcrumbs"' in page
    assert change_url(charge) in page  # the breadcrumbs lead back to the charge
    assert '<div class="submit-row">' in page
    assert 'class="default" value="Continue"' in page
    assert "errornote" not in page
    assert 'value="50.00"' in amount_row(page)  # typed as money, not in cents
    assert "In USD, as money: $50.00 is left to refund." in amount_row(page)


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("50.01", "At most $50.00 is left to refund on this charge."),
        ("5000", "At most $50.00 is left to refund on this charge."),  # cents typed: refused
        ("0", "Enter an amount of at least $0.01."),
        ("-1", "Enter an amount of at least $0.01."),
        ("10.005", "USD has 2 decimal places."),
        ("10,00", "Enter a number."),
        ("NaN", "Enter a number."),
        ("ten dollars", "Enter a number."),
        ("", "This field is required."),
    ],
)
def test_an_invalid_amount_is_shown_under_the_field_and_refunds_nothing(
    accepton, superuser_client, amount, error
):
    charge = verified_charge(accepton, 5000)

    answer = superuser_client.post(
        refund_url(charge), {"amount": amount, "reason": "scratched", "confirmed": "on"}
    )

    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.index('class="errornote"') < page.index("field-amount")
    assert "Please correct the error below." in page
    assert 'class="errorlist' in amount_row(page)
    assert error in amount_row(page)
    assert not answer.context["confirming"]
    assert "accepton-confirm" not in page
    assert not RefundRequest.objects.exists()
    assert remote_refunds(accepton, charge) == []
    charge.refresh_from_db()
    assert charge.amount_refunded == 0


def test_acceptons_refusal_is_shown_and_recorded(accepton, superuser_client):
    charge = verified_charge(accepton, 5000)
    fault(
        accepton,
        status=400,
        path_prefix="/v1/refunds",
        error_type="invalid_amount",
        message="The processor refused this refund.",
    )

    answer = refund_through_button(superuser_client, refund_url(charge), {"amount": "10.00"})

    assert answer.status_code == 302
    assert messages_of(answer) == [f"{charge.pk}: The processor refused this refund."]
    assert RefundRequest.objects.get().state == RefundState.FAILED
    charge.refresh_from_db()
    assert charge.amount_refunded == 0


def test_lost_answer_is_a_warning_and_keeps_the_amount_reserved(accepton, superuser_client):
    charge = verified_charge(accepton, 5000)
    fault(accepton, status=500, path_prefix="/v1/refunds")

    answer = refund_through_button(superuser_client, refund_url(charge), {"amount": "10.00"})

    assert "stay reserved until the reconciliation" in messages_of(answer)[0]
    charge.refresh_from_db()
    assert charge.amount_refunded == 1000


def test_refund_in_full_action_confirms_then_refunds_what_is_left(accepton, staff_client):
    first = verified_charge(accepton, 5000, order="1")
    second = verified_charge(accepton, 3000, order="2")
    refunder = staff_client("view_charge", "refund_charge")
    refund_through_button(refunder, refund_url(second), {"amount": "10.00"})
    selection = {"action": "refund_in_full", "_selected_action": [first.pk, second.pk]}

    confirm = refunder.post(CHANGELIST, selection)

    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert f"{first.pk}: $50.00" in page
    assert f"{second.pk}: $20.00" in page
    assert remote_refunds(accepton, first) == []

    done = refunder.post(CHANGELIST, {**selection, "confirmed": "yes", "reason": "recall"})

    assert done.status_code == 302
    assert remote_refunds(accepton, first) == [5000]
    assert remote_refunds(accepton, second) == [1000, 2000]
    assert set(Charge.objects.values_list("refunded", flat=True)) == {True}
    assert RefundRequest.objects.filter(reason="recall").count() == 2


def test_refund_in_full_action_needs_the_permission(accepton, staff_client):
    charge = verified_charge(accepton, 5000)
    viewer = staff_client("view_charge")

    page = viewer.get(CHANGELIST).content.decode()
    answer = viewer.post(
        CHANGELIST,
        {"action": "refund_in_full", "_selected_action": [charge.pk], "confirmed": "yes"},
    )

    assert "refund_in_full" not in page
    assert answer.status_code in (200, 302)
    assert remote_refunds(accepton, charge) == []
    assert not RefundRequest.objects.exists()


def test_charges_cannot_be_added_edited_or_deleted(accepton, superuser_client):
    charge = verified_charge(accepton)

    assert superuser_client.get(reverse("admin:django_accepton_charge_add")).status_code == 403
    delete = reverse("admin:django_accepton_charge_delete", args=[quote(charge.pk)])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    page = superuser_client.get(change_url(charge)).content.decode()
    assert 'name="_save"' not in page
    assert Charge.objects.filter(pk=charge.pk).exists()


def test_a_confirmation_refunds_once_however_often_it_is_posted(accepton, staff_client):
    charge = verified_charge(accepton, 5000)
    refunder = staff_client("view_charge", "refund_charge")
    confirm = refunder.post(refund_url(charge), {"amount": "10.00"})
    posted = {"amount": "10.00", "confirmed": "on", "confirmation": confirm.context["confirmation"]}

    first = refunder.post(refund_url(charge), posted)
    again = refunder.post(refund_url(charge), posted)  # a double click, a back-and-resubmit

    assert messages_of(first) == [f"Refunded $10.00 of {charge.pk}."]
    # (The first post's message is still queued: this request was never followed by a GET.)
    assert any("changed since this refund was confirmed" in m for m in messages_of(again))
    assert remote_refunds(accepton, charge) == [1000]
    assert RefundRequest.objects.count() == 1


@pytest.mark.parametrize("confirmation", ["", "forged", "for another amount", "for another charge"])
def test_a_confirmation_that_is_not_this_ones_refunds_nothing(
    accepton, superuser_client, confirmation
):
    charge = verified_charge(accepton, 5000, order="1")
    other = verified_charge(accepton, 5000, order="2")
    if confirmation == "for another amount":
        confirmation = superuser_client.post(refund_url(charge), {"amount": "9.99"}).context[
            "confirmation"
        ]
    elif confirmation == "for another charge":
        confirmation = superuser_client.post(refund_url(other), {"amount": "10.00"}).context[
            "confirmation"
        ]

    answer = superuser_client.post(
        refund_url(charge), {"amount": "10.00", "confirmed": "on", "confirmation": confirmation}
    )

    assert messages_of(answer) == ["This confirmation is not valid any more; nothing was refunded."]
    assert not RefundRequest.objects.exists()
    assert remote_refunds(accepton, charge) == []


def test_paid_but_unfulfilled_charges_are_listed_refunded_or_settled(accepton, staff_client):
    order = {"amount": 3000, "currency": "usd", "description": "Order 5", "reference": "o-5"}
    tokens = [mint_token(order, reuse=False) for _ in range(3)]
    charges = [pay_token(accepton, token.pk)["id"] for token in tokens]
    for charge_id, token in zip(charges, tokens, strict=True):
        verify_charge(charge_id, token.pk)  # the first sells the order, the others do not
    refunder = staff_client("view_charge", "refund_charge")

    listed = refunder.get(CHANGELIST + "?attention=open").context["cl"].result_list
    assert sorted(charge.pk for charge in listed) == sorted(charges[1:])

    refunder.post(CHANGELIST, {"action": "mark_settled", "_selected_action": [charges[1]]})
    refund_through_button(
        refunder, refund_url(Charge.objects.get(pk=charges[2])), {"amount": "30.00"}
    )

    assert not refunder.get(CHANGELIST + "?attention=open").context["cl"].result_list
    settled = refunder.get(CHANGELIST + "?attention=settled").context["cl"].result_list
    assert sorted(charge.pk for charge in settled) == sorted(charges[1:])
    assert remote_refunds(accepton, Charge.objects.get(pk=charges[2])) == [3000]
    assert remote_refunds(accepton, Charge.objects.get(pk=charges[1])) == []


def test_the_charge_page_shows_its_amounts_as_money(accepton, superuser_client):
    charge = verified_charge(accepton, 5000)
    refund_through_button(superuser_client, refund_url(charge), {"amount": "15.00"})

    answer = superuser_client.get(change_url(charge))

    fieldsets = answer.context["adminform"].fieldsets
    shown = [name for _, options in fieldsets for name in options["fields"]]
    assert "amount" not in shown
    assert "amount_refunded" not in shown
    assert shown[:3] == ["id", "charged", "amount_refunded_money"]
    assert fieldsets[-1][1] == {"fields": ["metadata", "raw"], "classes": ["collapse"]}
    page = answer.content.decode()
    row = page[page.index("field-charged") : page.index("field-amount_refunded_money")]
    assert "$50.00" in row
    assert "$15.00" in page[page.index("field-amount_refunded_money") :]


REQUESTS = reverse("admin:django_accepton_refundrequest_changelist")


def unknown_refund(accepton, amount: int = 1000):
    """A partial refund answered 503: unknown, reserved, left for a human."""
    from django_accepton.services.refunds import RefundOutcomeUnknown, refund

    charge = verified_charge(accepton, 5000)
    fault(accepton, status=503, path_prefix="/v1/refunds", count=3)
    with pytest.raises(RefundOutcomeUnknown):
        refund(charge, amount)
    request = RefundRequest.objects.get(charge=charge)
    assert request.state == RefundState.UNKNOWN
    return charge, request


@pytest.mark.parametrize("seen", ["refunded", "not refunded"])
def test_a_refund_of_unknown_outcome_is_settled_by_hand_from_what_the_dashboard_shows(
    accepton, staff_client, seen, django_capture_on_commit_callbacks
):
    charge, request = unknown_refund(accepton)
    refunder = staff_client("view_refundrequest", "refund_charge")
    action = "settle_refunded" if seen == "refunded" else "settle_not_refunded"
    selection = {"action": action, "_selected_action": [request.pk]}
    with refunds_announced() as heard:
        confirm = refunder.post(REQUESTS, selection)
        assert confirm.status_code == 200
        assert f"{request.pk}: {charge.pk}, $10.00" in confirm.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            done = refunder.post(REQUESTS, {**selection, "confirmed": "yes"})
    announced = [(a["amount"], a["full"], a["source"]) for a in heard]

    assert done.status_code == 302
    request.refresh_from_db()
    charge.refresh_from_db()
    if seen == "refunded":
        assert request.state == RefundState.SUCCEEDED
        assert (charge.amount_refunded, charge.refunded) == (1000, False)
        assert announced == [(1000, False, "reconciliation")]
    else:
        assert request.state == RefundState.FAILED
        assert (charge.amount_refunded, charge.refundable_amount) == (0, 5000)
        assert announced == []
    assert "Settled by staff" in request.error
    # Settled once: a second settling changes nothing.
    again = refunder.post(REQUESTS, {**selection, "confirmed": "yes"})
    assert "only one of unknown outcome" in " ".join(messages_of(again))


def test_settling_a_refund_by_hand_needs_the_refund_permission(accepton, staff_client):
    _, request = unknown_refund(accepton)
    viewer = staff_client("view_refundrequest")

    page = viewer.get(REQUESTS).content.decode()
    viewer.post(
        REQUESTS,
        {"action": "settle_not_refunded", "_selected_action": [request.pk], "confirmed": "yes"},
    )

    assert "settle_not_refunded" not in page
    request.refresh_from_db()
    assert request.state == RefundState.UNKNOWN
