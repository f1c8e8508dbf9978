"""The AcceptOn admin: mirrors you can read, and the few changes AcceptOn's API allows.

Mirrored rows are read-only: only a sync writes them. What can change goes to AcceptOn first,
through the services, and the page says what AcceptOn answered:

- charges: the "Refund" button (a partial amount, a reason, a confirmation step) and the
  "Refund in full" action, both for users with ``django_accepton.refund_charge``;
- promo codes: add, change (including a rename) and delete, for users with
  ``django_accepton.manage_promo_codes`` on top of Django's model permissions;
- plans: the add form creates the plan on AcceptOn (AcceptOn cannot change or delete one);
  the change form sets the plan's recurring token, for users with ``change_plan``;
- subscriptions: the "Cancel" action, for users with ``django_accepton.cancel_subscription``.

Lists stay fast on large tables: no full counts, related rows joined up front, and every
filter backed by an index or answered without a query.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import django
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_accepton.admin_forms import PlanForm, PromoCodeForm, RecurringTokenForm, RefundForm
from django_accepton.client import AcceptOnError, pricing
from django_accepton.client.resources import PAID_STATUSES
from django_accepton.conf import get_settings
from django_accepton.models import (
    Charge,
    Plan,
    PromoCode,
    Refund,
    RefundRequest,
    Subscription,
    SyncState,
    TransactionToken,
)
from django_accepton.money import describe_promo, format_money, format_number, to_major
from django_accepton.services import attention
from django_accepton.services.environments import EnvironmentMismatch
from django_accepton.services.promo_codes import delete_promo_code
from django_accepton.services.refunds import (
    RefundError,
    RefundOutcomeUnknown,
    refund,
    settle_by_hand,
)
from django_accepton.services.subscriptions import cancel_subscription
from django_accepton.services.sync import resync

# Actions that call AcceptOn once per row list the rows on their confirmation page; past this
# many the page (and the wait) would be unreasonable.
MAX_ACTION_ROWS = 100
CONFIRM_TEMPLATE = "admin/django_accepton/confirm_action.html"
# Django 6.1's admin styles its breadcrumbs as an ordered list, earlier versions as a div: the
# package's own pages follow the running version (admin/django_accepton/includes/breadcrumbs.html).
OL_BREADCRUMBS = django.VERSION >= (6, 1)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows only a sync or a service writes."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundPermissionMixin:
    """The ``refund`` permission of admin actions that move money: ``refund_charge``."""

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_accepton.refund_charge")


def _confirm_action(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    question: str,
    items: Sequence[str],
    confirm_label: str,
    ask_reason: bool = False,
) -> TemplateResponse:
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "items": items,
        "queryset": queryset,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirm_label": confirm_label,
        "ask_reason": ask_reason,
        "opts": opts,
        "app_label": opts.app_label,
        "ol_breadcrumbs": OL_BREADCRUMBS,
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)


def _too_many(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> bool:
    # One query, bounded: never a count of a whole table.
    if len(queryset[: MAX_ACTION_ROWS + 1]) > MAX_ACTION_ROWS:
        model_admin.message_user(
            request,
            _("Select at most %(max)s rows for this action.") % {"max": MAX_ACTION_ROWS},
            messages.ERROR,
        )
        return True
    return False


def _adopt_pushed(obj: Any, form: Any) -> None:
    """Point the admin's instance at the row the form's service wrote (``form.pushed``).

    The forms of the rows AcceptOn owns make the change on AcceptOn and let the service write
    the row; the admin must not save ``obj`` again, only show and log that row.
    """
    pushed = getattr(form, "pushed", None)
    if pushed is None:
        return
    obj.pk = pushed.pk
    obj._state.adding = False
    obj._state.db = pushed._state.db
    obj.refresh_from_db()


# ----- charges ----------------------------------------------------------------------------------


class ChargeStatusFilter(admin.SimpleListFilter):
    """Fixed choices: listing the distinct statuses would scan the whole table."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            *[(status, status) for status in sorted(PAID_STATUSES)],
            ("other", str(_("other (not paid)"))),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in PAID_STATUSES:
            return queryset.filter(status=value)
        if value == "other":
            return queryset.exclude(status__in=PAID_STATUSES)
        return queryset


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Money AcceptOn took that the store did not fulfil (see services.attention)."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", str(_("yes, open"))), ("settled", str(_("settled")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(attention__gt="", attention_resolved_at__isnull=True)
        if self.value() == "settled":
            return queryset.filter(attention__gt="", attention_resolved_at__isnull=False)
        return queryset


CHARGE_COLUMNS = (
    "id",
    "created",
    "amount",
    "currency",
    "status",
    "verification",
    "reason",
    "refunded",
    "amount_refunded",
    "description",
    "email",
    "promo_code",
    "token",
    "paid_for",
    "environment",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula: customers type emails and
    # descriptions (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(header: Sequence[str], rows: Any) -> Any:
    """Lines of CSV, one at a time, for a StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def charge_cells(charge: Charge) -> list[object]:
    """One charge as CHARGE_COLUMNS; amounts in the currency's major unit."""
    email = charge.metadata.get("email") if isinstance(charge.metadata, dict) else ""
    token = charge.token
    paid_for = ""
    if token is not None:
        paid_for = (
            f"{token.content_type_id}:{token.object_id}" if token.object_id else token.reference
        )
    return [
        charge.pk,
        charge.created.isoformat() if charge.created else "",
        to_major(charge.amount, charge.currency) if charge.amount is not None else "",
        charge.currency,
        charge.status,
        charge.verification,
        charge.reason,
        charge.refunded,
        to_major(charge.amount_refunded, charge.currency),
        charge.description,
        email if isinstance(email, str) else "",
        charge.promo_code,
        charge.token_id or "",
        paid_for,
        charge.environment,
    ]


def _target_link(token: TransactionToken | None) -> str:
    """What a token was minted for, linked to its admin page where it has one."""
    if token is None:
        return "-"
    if token.content_type_id and token.object_id:
        content_type = token.content_type
        assert content_type is not None
        label = f"{content_type.name} {token.object_id}"
        try:
            url = reverse(
                f"admin:{content_type.app_label}_{content_type.model}_change",
                args=[quote(token.object_id)],
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)
    return token.reference or "-"


class ResyncMixin:
    """The "Re-sync from AcceptOn" action: the selected rows read from AcceptOn now and written
    as the sync writes them (services.sync.resync), for whoever may view them."""

    resource = ""

    @admin.action(description=_("Re-sync selected from AcceptOn"), permissions=["view"])
    def resync_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        admin_: Any = self
        if _too_many(admin_, request, queryset):
            return
        key_field = "name" if self.resource == "promo_codes" else "pk"
        keys = [str(key) for key in queryset.values_list(key_field, flat=True)]
        try:
            result = resync(self.resource, keys)
        except (AcceptOnError, EnvironmentMismatch) as exc:
            admin_.message_user(request, str(exc), messages.ERROR)
            return
        counts = {
            "updated": result.updated + result.created,
            "unchanged": result.unchanged,
            "failed": result.failed,
        }
        done = _(
            "Re-synced from AcceptOn: %(updated)d changed, %(unchanged)d unchanged, %(failed)d failed."  # noqa: E501 - one sentence to translate
        )
        admin_.message_user(
            request,
            done % counts,
            messages.WARNING if result.failed else messages.SUCCESS,
        )


class AcceptOnChargesMixin:
    """For a store's own model admin: the AcceptOn charges of the tokens minted for an object
    (an order, say), each linked to its page in the AcceptOn admin.

    ``class OrderAdmin(AcceptOnChargesMixin, admin.ModelAdmin): readonly_fields =
    ("accepton_charges", …)``
    """

    @admin.display(description=_("AcceptOn charges"))
    def accepton_charges(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "-"
        content_type = ContentType.objects.get_for_model(obj)
        charges = Charge.objects.filter(
            token__content_type=content_type, token__object_id=str(obj.pk)
        ).order_by("-created")[:20]
        if not charges:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({}, {})',
            (
                (
                    reverse("admin:django_accepton_charge_change", args=[quote(charge.pk)]),
                    charge.pk,
                    format_money(charge.amount, charge.currency),
                    charge.get_verification_display(),
                )
                for charge in charges
            ),
        )


class DeletedFilter(admin.SimpleListFilter):
    """Plans and promo codes AcceptOn no longer has are hidden unless asked for: a deleted
    plan listed beside its successor of the same name looks like a duplicate."""

    title = _("deleted at AcceptOn")
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", str(_("deleted"))), ("all", str(_("all")))]

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            if choice["query_string"] == changelist.get_query_string(remove=[self.parameter_name]):
                choice["display"] = _("not deleted")  # the default
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)


class RefundRequestInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RefundRequest
    fields = ("created", "money", "reason", "state", "requested_by", "refund", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RefundRequest]:
        return super().get_queryset(request).select_related("charge", "requested_by", "refund")

    @admin.display(description=_("amount"))
    def money(self, obj: RefundRequest) -> str:
        return format_money(obj.amount, obj.charge.currency)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may see the charge sees how it was refunded.
        return request.user.has_perm("django_accepton.view_charge") or request.user.has_perm(
            "django_accepton.change_charge"
        )


# The charge's page: what support reads first, and what AcceptOn sent, folded.
CHARGE_SUMMARY = (
    "id",
    "charged",
    "amount_refunded_money",
    "refunded",
    "verification",
    "status",
    "reason",
    "attention",
    "attention_resolved_at",
    "description",
    "promo_code",
    "paid_for",
    "token",
    "user",
    "environment",
    "created",
)
CHARGE_AS_SENT = ("metadata", "raw")


@admin.register(Charge)
class ChargeAdmin(RefundPermissionMixin, ResyncMixin, ReadOnlyAdmin):
    # The key columns first, and few enough to fit 1280 px beside the filters (the navigation
    # sidebar folded) without scrolling: a browser test measures it. The environment is a
    # filter rather than a column.
    list_display = (
        "id",
        "charged",
        "verification",
        "status",
        "refunded_money",
        "attention",
        "created",
        "user",
    )
    list_filter = (
        NeedsAttentionFilter,
        "verification",
        ChargeStatusFilter,
        "environment",
        ("created", admin.DateFieldListFilter),
        "refunded",
    )
    list_select_related = ("token", "user")
    raw_id_fields = ("token", "user")
    # A charge id or its beginning (the primary key's index), AcceptOn's processor id, the
    # token, the payer's email (the form's metadata) or words of the description.
    search_fields = ("^id", "=remote_id", "=token__id", "metadata__email", "description")
    ordering = ("-created",)
    inlines = (RefundRequestInline,)
    actions = ("refund_in_full", "mark_settled", "resync_selected")
    resource = "charges"

    readonly_fields = ("paid_for", "charged", "amount_refunded_money")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The amounts as money, in the places of their minor-unit columns.
        shown = {"amount": "charged", "amount_refunded": "amount_refunded_money"}
        names: list[str] = [str(name) for name in super().get_fields(request, obj)]
        return [shown.get(name, name) for name in names if name not in shown.values()]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """What support reads first, then the checkout's and the sync's bookkeeping, then the
        charge as AcceptOn sent it (folded: its amounts are AcceptOn's minor units)."""
        fields = list(self.get_fields(request, obj))
        summary = [name for name in CHARGE_SUMMARY if name in fields]
        sent = [name for name in CHARGE_AS_SENT if name in fields]
        rest = [name for name in fields if name not in summary and name not in sent]
        return [
            (None, {"fields": summary}),
            (_("Checkout and sync"), {"fields": rest}),
            (_("As AcceptOn sent it"), {"fields": sent, "classes": ["collapse"]}),
        ]

    @admin.display(description=_("paid for"))
    def paid_for(self, obj: Charge) -> str:
        return _target_link(obj.token)

    @admin.display(description=_("amount refunded"))
    def amount_refunded_money(self, obj: Charge) -> str:
        return format_money(obj.amount_refunded, obj.currency)

    @admin.display(description=_("charged"), ordering="amount")
    def charged(self, obj: Charge) -> str:
        return format_money(obj.amount, obj.currency)

    @admin.display(description=_("refunded"), ordering="amount_refunded")
    def refunded_money(self, obj: Charge) -> str:
        if not obj.amount_refunded:
            return str(_("yes")) if obj.refunded else "-"
        return format_money(obj.amount_refunded, obj.currency)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        # Not inside the request's transaction (ATOMIC_REQUESTS): the refund request must be
        # committed before AcceptOn is called.
        view = transaction.non_atomic_requests(self.admin_site.admin_view(self.refund_view))
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("export.csv", export, name="{}_{}_export".format(*info)),
            path("<path:object_id>/refund/", view, name="{}_{}_refund".format(*info)),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The charge list as filtered and searched on the page, as CSV, streamed a row at a
        time (constant memory whatever the number of charges)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).select_related("token").iterator(chunk_size=2000)
        response = StreamingHttpResponse(
            csv_rows(CHARGE_COLUMNS, (charge_cells(charge) for charge in rows)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="accepton-charges.csv"'
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_refund": self.has_refund_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _change_url(self, charge: Charge) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(charge.pk)],
            current_app=self.admin_site.name,
        )

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_refund_permission(request):
            raise PermissionDenied
        charge = self.get_object(request, unquote(object_id))
        if charge is None:
            raise Http404(_("There is no such charge."))
        change_url = self._change_url(charge)
        if not charge.is_refundable:
            self.message_user(request, _("This charge cannot be refunded."), messages.ERROR)
            return HttpResponseRedirect(change_url)
        form = RefundForm(request.POST or None, charge=charge)
        confirming = False
        if request.method == "POST" and form.is_valid():
            if form.cleaned_data["confirmed"]:
                seen = form.confirmed_refunds()
                if seen is None:
                    self.message_user(
                        request,
                        _("This confirmation is not valid any more; nothing was refunded."),
                        messages.ERROR,
                    )
                else:
                    self._refund(
                        request,
                        charge,
                        form.cleaned_data["amount"],
                        form.cleaned_data["reason"],
                        expected_refunded=seen,
                    )
                return HttpResponseRedirect(change_url)
            confirming = True
        # Django's own admin form machinery, as on a change page: fieldsets, the error note,
        # each error under its field. (The stubs ask for a model form; any form works.)
        admin_form: Any = form
        adminform = helpers.AdminForm(
            admin_form, [(None, {"fields": ["amount", "reason"]})], {}, model_admin=self
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refund %(charge)s") % {"charge": charge.pk},
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": charge,
            "charge": charge,
            "form": form,
            "adminform": adminform,
            "errors": helpers.AdminErrorList(admin_form, []),
            "inline_admin_formsets": [],
            "media": self.media + adminform.media,
            "add": False,
            "change": False,
            "is_popup": False,
            "save_on_top": False,
            "has_file_field": False,
            "has_view_permission": self.has_view_permission(request, charge),
            "ol_breadcrumbs": OL_BREADCRUMBS,
            "confirming": confirming,
            "confirmation": form.sign() if confirming else "",
            "change_url": change_url,
            "money": {
                "charged": format_money(charge.amount, charge.currency),
                "refunded": format_money(charge.amount_refunded, charge.currency),
                "left": format_money(charge.refundable_amount, charge.currency),
                "asked": format_money(
                    form.cleaned_data.get("amount") if confirming else None, charge.currency
                ),
            },
        }
        return TemplateResponse(request, "admin/django_accepton/charge/refund.html", context)

    def _refund(
        self,
        request: HttpRequest,
        charge: Charge,
        amount: int,
        reason: str,
        *,
        expected_refunded: int | None = None,
    ) -> bool:
        try:
            refund(
                charge,
                amount,
                reason,
                requested_by=request.user,
                expected_refunded=expected_refunded,
            )
        except RefundOutcomeUnknown as exc:
            self.log_change(
                request,
                charge,
                f"Refund of {format_money(amount, charge.currency)} asked; AcceptOn's answer "
                "was lost (reserved until reconciled).",
            )
            self.message_user(
                request,
                _(
                    "%(charge)s: AcceptOn's answer was lost (%(error)s). The %(amount)s stay "
                    "reserved until the reconciliation finds out whether they were refunded."
                )
                % {
                    "charge": charge.pk,
                    "error": exc.message,
                    "amount": format_money(amount, charge.currency),
                },
                messages.WARNING,
            )
            return False
        except RefundError as exc:
            self.message_user(request, f"{charge.pk}: {exc.message}", messages.ERROR)
            return False
        self.log_change(
            request,
            charge,
            f"Refunded {format_money(amount, charge.currency)} on AcceptOn"
            + (f": {reason}" if reason else "."),
        )
        self.message_user(
            request,
            _("Refunded %(amount)s of %(charge)s.")
            % {"amount": format_money(amount, charge.currency), "charge": charge.pk},
            messages.SUCCESS,
        )
        return True

    @admin.action(description=_("Refund in full on AcceptOn"), permissions=["refund"])
    def refund_in_full(
        self, request: HttpRequest, queryset: QuerySet[Charge]
    ) -> TemplateResponse | None:
        if _too_many(self, request, queryset):
            return None
        charges = list(queryset)
        if request.POST.get("confirmed") != "yes":
            return _confirm_action(
                self,
                request,
                queryset,
                action="refund_in_full",
                title=str(_("Refund in full")),
                question=str(_("Refund what is left of these charges on AcceptOn?")),
                items=[
                    f"{charge.pk}: {format_money(charge.refundable_amount, charge.currency)}"
                    for charge in charges
                ],
                confirm_label=str(_("Yes, refund them")),
                ask_reason=True,
            )
        reason = request.POST.get("reason", "")
        for charge in charges:
            if not charge.is_refundable:
                self.message_user(
                    request, _("%(charge)s: nothing to refund.") % {"charge": charge.pk}
                )
                continue
            self._refund(request, charge, charge.refundable_amount, reason)
        return None

    @admin.action(
        description=_("Mark paid-but-unfulfilled charges settled (dealt with elsewhere)"),
        permissions=["refund"],
    )
    def mark_settled(self, request: HttpRequest, queryset: QuerySet[Charge]) -> None:
        settled = 0
        for charge in queryset.iterator():
            if attention.settle(charge, note=f"by {request.user}"):
                settled += 1
                self.log_change(request, charge, "Marked settled (paid but not fulfilled).")
        self.message_user(
            request,
            ngettext(
                "%(count)d charge marked settled.", "%(count)d charges marked settled.", settled
            )
            % {"count": settled},
        )


# ----- tokens -----------------------------------------------------------------------------------


@admin.register(TransactionToken)
class TransactionTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "price", "description", "target", "consumed_at", "created", "environment")
    list_filter = ("environment", "sold_once", ("consumed_at", admin.EmptyFieldListFilter))
    list_select_related = ("content_type",)
    search_fields = ("^id", "description", "=reference")
    ordering = ("-created",)

    @admin.display(description=_("price"), ordering="amount")
    def price(self, obj: TransactionToken) -> str:
        return format_money(obj.amount, obj.currency)

    @admin.display(description=_("minted for"))
    def target(self, obj: TransactionToken) -> str:
        return _target_link(obj)


# ----- refunds ----------------------------------------------------------------------------------


@admin.register(RefundRequest)
class RefundRequestAdmin(RefundPermissionMixin, ReadOnlyAdmin):
    list_display = ("id", "charge", "money", "state", "requested_by", "refund", "created")
    list_filter = ("state", "environment")
    list_select_related = ("charge", "requested_by", "refund")
    raw_id_fields = ("charge", "refund")
    search_fields = ("=charge__id",)
    actions = ("settle_refunded", "settle_not_refunded")

    def _settle(
        self, request: HttpRequest, queryset: QuerySet[RefundRequest], *, refunded: bool
    ) -> TemplateResponse | None:
        if _too_many(self, request, queryset):
            return None
        chosen = list(queryset.select_related("charge"))
        if request.POST.get("confirmed") != "yes":
            return _confirm_action(
                self,
                request,
                queryset,
                action="settle_refunded" if refunded else "settle_not_refunded",
                title=str(_("Settle refunds of unknown outcome")),
                question=str(
                    _("AcceptOn's dashboard shows these refunds made?")
                    if refunded
                    else _("AcceptOn's dashboard shows these refunds not made?")
                ),
                items=[
                    f"{item.pk}: {item.charge_id}, "
                    f"{format_money(item.amount, item.charge.currency)} "
                    f"({item.get_state_display()})"
                    for item in chosen
                ],
                confirm_label=str(_("Yes, settle them")),
            )
        for item in chosen:
            try:
                settled = settle_by_hand(item, refunded=refunded, settled_by=request.user)
            except RefundError as exc:
                self.message_user(request, f"{item.pk}: {exc.message}", messages.ERROR)
                continue
            self.log_change(request, settled, settled.error)
            self.message_user(request, f"{item.pk}: {settled.error}", messages.SUCCESS)
        return None

    @admin.action(
        description=_("Settle as refunded (seen on AcceptOn's dashboard)"), permissions=["refund"]
    )
    def settle_refunded(
        self, request: HttpRequest, queryset: QuerySet[RefundRequest]
    ) -> TemplateResponse | None:
        return self._settle(request, queryset, refunded=True)

    @admin.action(
        description=_("Settle as not refunded (not on AcceptOn's dashboard)"),
        permissions=["refund"],
    )
    def settle_not_refunded(
        self, request: HttpRequest, queryset: QuerySet[RefundRequest]
    ) -> TemplateResponse | None:
        return self._settle(request, queryset, refunded=False)

    @admin.display(description=_("amount"), ordering="amount")
    def money(self, obj: RefundRequest) -> str:
        return format_money(obj.amount, obj.charge.currency)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "charge", "money", "reason", "created")
    list_filter = ("environment",)
    list_select_related = ("charge",)
    raw_id_fields = ("charge",)
    search_fields = ("=id", "=charge__id")

    @admin.display(description=_("amount"), ordering="amount")
    def money(self, obj: Refund) -> str:
        return format_money(obj.amount, obj.currency or obj.charge.currency)


# ----- promo codes ------------------------------------------------------------------------------


@admin.register(PromoCode)
class PromoCodeAdmin(ResyncMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = PromoCodeForm
    actions = ("resync_selected",)
    resource = "promo_codes"
    list_display = ("name", "promo_type", "effect", "environment", "deleted_at", "synced_at")
    list_filter = (DeletedFilter, "promo_type", "environment")
    search_fields = ("name",)
    readonly_fields = (
        "effect",
        "environment",
        "created",
        "synced_at",
        "last_seen_at",
        "deleted_at",
    )
    show_full_result_count = False

    @admin.display(description=_("effect"))
    def effect(self, obj: PromoCode) -> str:
        """What the code does, read in the account's scale, on an example price of 100.00.
        AcceptOn's codes have no currency: amounts are shown in the major unit of a
        two-decimal currency."""
        if obj.pk is None or obj.value is None:
            return "-"
        example = 10_000
        value = Decimal(obj.value)
        scale = get_settings().promo_percent_scale
        shown = pricing.percent_off(value, scale) if obj.promo_type == "percentage" else value
        if obj.promo_type == "percentage" and shown > 100:
            # 10 stored under the fraction scale: AcceptOn's documents read a percentage two
            # ways (PROMO_PERCENT_SCALE), and this account's codes may be in the other one.
            return _(
                "%(value)s reads as %(percent)s %% off under PROMO_PERCENT_SCALE "
                '"%(scale)s": check that setting against this account'
            ) % {
                "value": format_number(value),
                "percent": format_number(shown),
                "scale": scale,
            }
        what = describe_promo(obj.promo_type, shown, "")
        try:
            after = pricing.price_after(example, obj.promo_type, value, scale)
        except ValueError:
            return what
        return _("%(what)s: %(before)s becomes %(after)s") % {
            "what": what,
            "before": format_money(example, ""),
            "after": format_money(after, ""),
        }

    def _can_manage(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_accepton.manage_promo_codes")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self._can_manage(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._can_manage(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._can_manage(request)

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes where the actions are shown (the list or, new, a change page);
        # earlier versions call with the request only.
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location=action_location)  # type: ignore[call-arg]
        # A bulk delete would skip AcceptOn; codes are deleted one at a time, through it.
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self,
        request: HttpRequest,
        obj: PromoCode,
        form: ModelForm[PromoCode],
        change: bool,
    ) -> None:
        _adopt_pushed(obj, form)

    def delete_model(self, request: HttpRequest, obj: PromoCode) -> None:
        delete_promo_code(obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Django deletes inside one transaction: when AcceptOn refuses, the exception rolls
        # back the log entry too, and the code stays as it was on both sides.
        try:
            return super().delete_view(request, object_id, extra_context)
        except (AcceptOnError, EnvironmentMismatch) as exc:
            message = exc.message if isinstance(exc, AcceptOnError) else str(exc)
            self.message_user(
                request,
                _("AcceptOn refused to delete the promo code: %(error)s") % {"error": message},
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[quote(object_id)],
                    current_app=self.admin_site.name,
                )
            )


# ----- plans and subscriptions ------------------------------------------------------------------


# What AcceptOn says about a plan: shown, never edited (AcceptOn has no call to change a plan).
PLAN_MIRRORED_COLUMNS = (
    "id",
    "name",
    "amount",
    "currency",
    "period_unit",
    "environment",
    "created",
    "synced_at",
    "last_seen_at",
    "deleted_at",
)


@admin.register(Plan)
class PlanAdmin(ResyncMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = PlanForm
    actions = ("resync_selected",)
    resource = "plans"
    list_display = (
        "name",
        "price",
        "period_unit",
        "id",
        "recurring_token",
        "environment",
    )
    list_filter = (DeletedFilter, "period_unit", "environment")
    search_fields = ("=id", "name", "=recurring_token")
    show_full_result_count = False

    @admin.display(description=_("price"), ordering="amount")
    def price(self, obj: Plan) -> str:
        return format_money(obj.amount, obj.currency)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            # An existing plan: only the store's own column, the recurring token, is a field.
            kwargs["form"] = RecurringTokenForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return super().get_fields(request, obj)
        return (*PLAN_MIRRORED_COLUMNS, "recurring_token")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return PLAN_MIRRORED_COLUMNS if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nor to delete one

    def save_model(
        self,
        request: HttpRequest,
        obj: Plan,
        form: ModelForm[Plan],
        change: bool,
    ) -> None:
        _adopt_pushed(obj, form)
        if getattr(form, "unconfirmed", False):
            self.message_user(
                request,
                _(
                    "AcceptOn could not describe this recurring token, so it could not be "
                    "checked: make sure it is the one AcceptOn's dashboard shows for this plan."
                ),
                messages.WARNING,
            )


@admin.register(Subscription)
class SubscriptionAdmin(ResyncMixin, ReadOnlyAdmin):
    list_display = (
        "id",
        "email",
        "plan",
        "active",
        "last_billed_at",
        "environment",
        "created",
        "user",
    )
    list_filter = ("active", "environment")
    list_select_related = ("plan", "user")
    raw_id_fields = ("plan", "user")
    search_fields = ("=id", "^email", "=plan__id")
    actions = ("cancel_on_accepton", "resync_selected")
    resource = "subscriptions"

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_accepton.cancel_subscription")

    @admin.action(description=_("Cancel on AcceptOn"), permissions=["cancel"])
    def cancel_on_accepton(
        self, request: HttpRequest, queryset: QuerySet[Subscription]
    ) -> TemplateResponse | None:
        if _too_many(self, request, queryset):
            return None
        subscriptions = list(queryset)
        if request.POST.get("confirmed") != "yes":
            return _confirm_action(
                self,
                request,
                queryset,
                action="cancel_on_accepton",
                title=str(_("Cancel subscriptions")),
                question=str(_("Cancel these subscriptions on AcceptOn? This cannot be undone.")),
                items=[f"{sub.pk}: {sub.email}" for sub in subscriptions],
                confirm_label=str(_("Yes, cancel them")),
            )
        cancelled = 0
        for subscription in subscriptions:
            try:
                cancel_subscription(subscription)
            except AcceptOnError as exc:
                self.message_user(request, f"{subscription.pk}: {exc.message}", messages.ERROR)
            except EnvironmentMismatch as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                cancelled += 1
                self.log_change(request, subscription, "Cancelled on AcceptOn.")
        if cancelled:
            self.message_user(
                request,
                ngettext(
                    "Cancelled %(count)d subscription.",
                    "Cancelled %(count)d subscriptions.",
                    cancelled,
                )
                % {"count": cancelled},
                messages.SUCCESS,
            )
        return None


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = (
        "resource",
        "environment",
        "last_success_finished_at",
        "last_started_at",
        "lock_expires_at",
        "last_error",
    )
    list_filter = ("environment",)
