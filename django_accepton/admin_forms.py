"""Forms of the AcceptOn admin.

The model forms of promo codes and plans push to AcceptOn as the last step of validation, so
that AcceptOn's refusal is shown on the form like any other error and nothing local changes;
the admin's ``save_model`` then only takes the row the service already wrote.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from django_accepton.client import AcceptOnError, NotFoundError, pricing
from django_accepton.models import Charge, Plan, PromoCode
from django_accepton.money import decimals, format_money, to_major, to_minor
from django_accepton.services import plans, promo_codes, recurring
from django_accepton.services.environments import EnvironmentMismatch


class RefundForm(forms.Form):
    # Typed as money with a decimal point (45.00), kept in minor units (cleaned_data["amount"]
    # is 4500) like every amount of the package. Not localized: where "." groups thousands,
    # "45.00" would be read as 4500 dollars; a comma is refused with a clear error instead.
    amount = forms.DecimalField(label=_("Amount"), max_digits=20)
    reason = forms.CharField(max_length=255, required=False, label=_("Reason"))
    # Set by the confirmation page: the first valid submission only asks for confirmation.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The confirmation page's signed note of the charge, the amount and the charge's refunds
    # as they were when it was shown: a confirmation refunds once (see confirmation()).
    confirmation = forms.CharField(required=False, widget=forms.HiddenInput)

    SALT = "django_accepton.refund-confirmation"
    MAX_AGE = 15 * 60

    def __init__(self, *args: Any, charge: Charge, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.charge = charge
        self.fields["amount"].initial = to_major(charge.refundable_amount, charge.currency)
        self.fields["amount"].help_text = _(
            "In %(currency)s, as money: %(money)s is left to refund."
        ) % {
            "currency": charge.currency.upper(),
            "money": format_money(charge.refundable_amount, charge.currency),
        }

    def sign(self) -> str:
        """What the confirmation page posts back: bound to this charge, this amount and the
        refunds the charge had when the page was shown."""
        return signing.dumps(
            {
                "charge": self.charge.pk,
                "amount": self.cleaned_data["amount"],
                "refunded": self.charge.amount_refunded,
            },
            salt=self.SALT,
        )

    def confirmed_refunds(self) -> int | None:
        """The charge's refunds total the person confirming saw, or ``None`` when the
        confirmation is missing, forged, stale or for another charge or amount."""
        try:
            note = signing.loads(
                self.cleaned_data.get("confirmation") or "", salt=self.SALT, max_age=self.MAX_AGE
            )
        except signing.BadSignature:
            return None
        if note.get("charge") != self.charge.pk or note.get("amount") != self.cleaned_data.get(
            "amount"
        ):
            return None
        refunded = note.get("refunded")
        return refunded if isinstance(refunded, int) else None

    def clean_amount(self) -> int:
        typed: Decimal = self.cleaned_data["amount"]
        currency = self.charge.currency
        try:
            amount = to_minor(typed, currency)
        except ValueError:
            raise forms.ValidationError(
                _("%(currency)s has %(places)s decimal places."),
                params={"currency": currency.upper(), "places": decimals(currency)},
            ) from None
        if amount < 1:
            raise forms.ValidationError(
                _("Enter an amount of at least %(money)s."),
                params={"money": format_money(1, currency)},
            )
        # Checked again under a row lock by the refund service; this is for a clear message.
        if amount > self.charge.refundable_amount:
            raise forms.ValidationError(
                _("At most %(money)s is left to refund on this charge."),
                params={"money": format_money(self.charge.refundable_amount, currency)},
            )
        return amount


class _PushedToAcceptOn(forms.ModelForm):  # type: ignore[type-arg]
    """A model form whose validation ends by making the change on AcceptOn.

    ``pushed`` is the row the service wrote once AcceptOn accepted the change. It must stay the
    last step of validation (and the admin using it must have no inlines): anything that could
    still fail after it would leave AcceptOn changed and the page showing an error.
    """

    pushed: Any = None

    def push(self) -> Any:
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        try:
            self.pushed = self.push()
        except AcceptOnError as exc:
            self.add_error(None, _("AcceptOn refused the change: %s") % exc.message)
        except EnvironmentMismatch as exc:
            self.add_error(None, str(exc))
        except ValueError as exc:
            field, message = _placed(str(exc), list(self.fields))
            self.add_error(field, message)


def _placed(message: str, fields: list[str]) -> tuple[str | None, str]:
    """Where a service's ``ValueError`` belongs on the form: under the field it names (the
    services name their parameter first, ``value must be …``), in words, without the Python
    ``repr`` of the value that it ends with."""
    text = re.sub(r",? got .*$", "", message).strip()
    text = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    words = re.findall(r"[a-z_]+", message.lower())
    for field in fields:
        if field in words[:4]:
            return field, text
    return None, text


class PromoCodeForm(_PushedToAcceptOn):
    """A percentage is typed as a percent (15 for 15 % off) and sent in the account's scale
    (``PROMO_PERCENT_SCALE``); a value of 1 or less is refused, since AcceptOn's documents read
    it as 100 % off or as 1 % depending on the scale."""

    class Meta:
        model = PromoCode
        fields = ("name", "promo_type", "value")
        help_texts = {
            "value": _(
                "Amount off and fixed price in minor units (1050 is 10.50); a percentage as a "
                "percent: 15 for 15 percent off."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance: PromoCode = self.instance
        if instance.pk and instance.promo_type == "percentage" and "value" in self.fields:
            self.initial["value"] = pricing.plain(promo_codes.percent_of(instance))

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        value = data.get("value")
        if data.get("promo_type") == "percentage" and value is not None:
            if pricing.ambiguous(value):
                self.add_error(
                    "value",
                    _(
                        "Type the percentage as a percent (15 for 15 percent off). A value of 1 "
                        "or less reads as 100 percent off or as 1 percent depending on how "
                        "AcceptOn reads it, so it is refused."
                    ),
                )
            elif value > 100:
                self.add_error("value", _("A percentage is at most 100."))
        elif (
            data.get("promo_type") in ("amount", "fixed_price")
            and value is not None
            and (value != value.to_integral_value() or value < 0)
        ):
            self.add_error("value", _("Whole minor units (cents), 0 or more: 1050 is 10.50."))
        return data

    def push(self) -> PromoCode:
        data = self.cleaned_data
        if self.instance._state.adding:
            return promo_codes.create_promo_code(data["name"], data["promo_type"], data["value"])
        if not self.has_changed():
            instance: PromoCode = self.instance
            return instance
        return promo_codes.update_promo_code(
            self.instance.pk, name=data["name"], promo_type=data["promo_type"], value=data["value"]
        )


class PlanForm(_PushedToAcceptOn):
    class Meta:
        model = Plan
        fields = ("name", "amount", "currency", "period_unit")
        help_texts = {"currency": _("ISO 4217, such as usd.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The read-only view of a plan renders this form without fields.
        if "amount" in self.fields:
            self.fields["amount"].validators.append(MinValueValidator(1))
            self.fields["currency"].initial = "usd"

    def push(self) -> Plan:
        data = self.cleaned_data
        return plans.create_plan(
            data["name"], data["amount"], data["currency"].lower(), data["period_unit"]
        )


class RecurringTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    """The one column of a plan that can change: its ``rtx_`` token, made in AcceptOn's
    dashboard. AcceptOn is asked about the token before it is stored (see
    :func:`django_accepton.services.recurring.set_recurring_token`); ``pushed`` is the plan
    as saved."""

    pushed: Any = None
    # AcceptOn answered "not found" for the token: it was taken on the merchant's word.
    unconfirmed = False

    class Meta:
        model = Plan
        fields = ("recurring_token",)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        if not self.has_changed():
            self.pushed = self.instance
            return
        token_id = self.cleaned_data["recurring_token"]
        try:
            self.pushed = recurring.set_recurring_token(self.instance, token_id)
        except NotFoundError:
            self.add_error("recurring_token", _("AcceptOn has no such token on this account."))
        except AcceptOnError as exc:
            self.add_error(None, _("AcceptOn could not be asked about the token: %s") % exc.message)
        except (recurring.RecurringTokenMismatch, EnvironmentMismatch) as exc:
            self.add_error("recurring_token", str(exc))
        else:
            self.unconfirmed = bool(token_id) and not recurring.confirmed(token_id)
