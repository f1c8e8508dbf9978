"""Local records of AcceptOn objects.

Each model keeps a few columns worth querying and the API's JSON as it came (``raw``), so that
a field AcceptOn adds later is not lost and never needs a migration to be read. Every row
records the environment (production, staging, sandbox) it belongs to: ids of one environment
mean nothing in another.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from django_accepton.money import format_money


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    STAGING = "staging", _("Staging")
    SANDBOX = "sandbox", _("Sandbox")


class CustomerQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Rows linked to the user who checked out (``user``)."""

    def for_user(self, user: Any) -> CustomerQuerySet:
        """This user's rows; none for an anonymous or missing user."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(user=user)


def _customer() -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The signed-in user who checked out, if any."),
    )


class TransactionToken(models.Model):
    """A token minted for one checkout: what the customer is asked to pay, and for what."""

    id = models.CharField(primary_key=True, max_length=64)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    amount = models.PositiveBigIntegerField(help_text=_("In the currency's minor unit (cents)."))
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500, blank=True)
    application_fee = models.PositiveBigIntegerField(null=True, blank=True)
    merchant_paypal_account = models.CharField(max_length=254, blank=True)

    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    reference = models.CharField(
        max_length=255, blank=True, db_index=True, help_text=_("The store's own reference.")
    )
    # Identifies "the same thing at the same price" so that re-rendering a page reuses the token.
    fingerprint = models.CharField(max_length=64, db_index=True, editable=False)
    quantity = models.PositiveIntegerField(
        default=1, help_text=_("How many of the target one payment buys.")
    )
    user = _customer()
    sold_once = models.BooleanField(
        default=True,
        help_text=_(
            "The target is sold once (an order): a second paid charge for it is never fulfilled. "
            "Off for a catalogue product, where every paid token is a sale."
        ),
    )

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    consumed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a verified charge fulfilled it.")
    )
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("transaction token")
        ordering = ("-created",)
        indexes = (models.Index(fields=("fingerprint", "created"), name="accepton_token_reuse"),)

    def __str__(self) -> str:
        return self.id

    @property
    def is_recurring(self) -> bool:
        """A plan's ``rtx_`` token: paid by any number of subscribers, never consumed."""
        return self.id.startswith("rtx_")


class Verification(models.TextChoices):
    PENDING = "pending", _("Pending")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    # A charge the sync copied from AcceptOn that no checkout has claimed (yet): a mirror only.
    # A later claim of its id takes the row over (see services.verification.verify_charge).
    UNCLAIMED = "unclaimed", _("Unclaimed (synced)")
    # A charge the sync found to be a subscription's renewal (see services.renewals): AcceptOn
    # billed it, no checkout sold it, and no claim may take it over.
    RENEWAL = "renewal", _("Renewal (synced)")


class Charge(models.Model):
    """A charge as AcceptOn reported it, and whether it paid for the token it was claimed for.

    The primary key is AcceptOn's charge id, so one charge can be claimed only once, whatever
    the number of browsers, callbacks and retries that submit it.
    """

    id = models.CharField(primary_key=True, max_length=64)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    amount = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=32, blank=True, db_index=True)
    refunded = models.BooleanField(
        default=False,
        help_text=_(
            "AcceptOn's own flag. Its documents do not say whether it turns on at the first "
            "refund or once refunds reach the amount charged."
        ),
    )
    amount_refunded = models.PositiveBigIntegerField(default=0)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    remote_id = models.CharField(max_length=255, blank=True)
    promo_code = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(null=True, blank=True, db_index=True)
    raw = models.JSONField(default=dict, blank=True)

    token = models.ForeignKey(
        TransactionToken, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    # Copied from the token when the charge is claimed: a recurring token is paid by many
    # charges, so the one-verified-charge-per-token constraint leaves these rows out.
    recurring = models.BooleanField(
        default=False, help_text=_("Claimed for a plan's recurring (rtx_) token.")
    )
    subscription = models.OneToOneField(
        "Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="charge",
        help_text=_("The subscription AcceptOn created for this payment of a recurring token."),
    )
    renewal_of = models.ForeignKey(
        "Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewals",
        help_text=_("The subscription this charge renewed (a later billing, not its start)."),
    )
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.PENDING, db_index=True
    )
    reason = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Looks for the subscription a recurring payment started (bounded apart from attempts).
    lookups = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    # What this charge sold, when it is sold once (an order): at most one verified charge per
    # sale key, which the database enforces across tokens (see services.verification).
    sale_key = models.CharField(  # noqa: DJ001 - NULL is "no sale", outside the unique key
        max_length=128, null=True, blank=True, editable=False
    )
    # The store was told (charge_verified, every receiver returned): see services.fulfilment.
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    delivery_started_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.TextField(blank=True)
    # Money AcceptOn took that the store did not fulfil: why, and when a human (or the
    # automatic refund policy) settled it. See services.attention.
    attention = models.CharField(max_length=32, blank=True, db_index=True)
    attention_resolved_at = models.DateTimeField(null=True, blank=True)
    user = _customer()

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("charge")
        ordering = ("-claimed_at",)
        permissions = (("refund_charge", _("Can refund charges through AcceptOn")),)
        indexes = (
            # The admin's default list (newest first) and its environment filter.
            models.Index(fields=("environment", "-created"), name="accepton_charge_env_created"),
        )
        constraints = (
            # The database, not only the code, refuses a second fulfilment of one token. A
            # recurring token is paid once per subscriber, so its charges are left out.
            models.UniqueConstraint(
                fields=("token",),
                condition=Q(verification="verified", recurring=False),
                name="accepton_one_verified_charge_per_token",
            ),
            # ...and of a second sale of one order, whatever token paid for it.
            models.UniqueConstraint(
                fields=("sale_key",),
                condition=Q(verification="verified", sale_key__isnull=False),
                name="accepton_one_verified_charge_per_sale",
            ),
        )

    def __str__(self) -> str:
        return self.id

    @property
    def refundable_amount(self) -> int:
        return max((self.amount or 0) - self.amount_refunded, 0)

    @property
    def needs_attention(self) -> bool:
        """AcceptOn took money the store did not fulfil, and nobody has settled it yet."""
        return bool(self.attention) and self.attention_resolved_at is None

    @property
    def is_refundable(self) -> bool:
        """What the admin offers to refund: a verified charge, or one that needs attention,
        with something left to refund, unless AcceptOn reports it refunded while this store
        made no refund of it (one made in AcceptOn's dashboard, maybe in full)."""
        refundable_kind = self.verification == Verification.VERIFIED or self.needs_attention
        refunded_elsewhere = self.refunded and self.amount_refunded == 0
        return refundable_kind and self.refundable_amount > 0 and not refunded_elsewhere


class Refund(models.Model):
    """A refund AcceptOn made, as it answered the refund call.

    AcceptOn has no call that lists refunds, so these rows come only from refunds made through
    :func:`django_accepton.services.refunds.refund`; ``RefundRequest`` records every attempt.
    """

    id = models.CharField(primary_key=True, max_length=64)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField(help_text=_("In the currency's minor unit (cents)."))
    currency = models.CharField(max_length=3, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        ordering = ("-created",)

    def __str__(self) -> str:
        return self.id


class RefundState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    # The call may or may not have reached AcceptOn: the amount stays reserved until
    # services.refunds.reconcile_refunds settles it.
    UNKNOWN = "unknown", _("Outcome unknown")


class RefundRequest(models.Model):
    """One attempt to refund a charge: who asked, how much, why, and what AcceptOn answered.

    The row is committed before AcceptOn is called, so every outcome (even a crash in between)
    leaves a trace, and its amount counts against the charge until the attempt has failed.
    """

    environment = models.CharField(max_length=16, choices=Environment.choices)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refund_requests")
    amount = models.PositiveBigIntegerField(help_text=_("In the currency's minor unit (cents)."))
    reason = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(
        max_length=16, choices=RefundState.choices, default=RefundState.REQUESTED
    )
    error = models.TextField(blank=True)
    # What AcceptOn said of the charge's `refunded` flag just before the refund was sent (None:
    # it could not be asked). Reconciliation can only confirm a refund the flag was off before.
    refunded_before = models.BooleanField(
        null=True,
        blank=True,
        help_text=_("AcceptOn's 'refunded' flag on the charge just before this refund was sent."),
    )
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("refund request")
        ordering = ("-created",)
        indexes = (
            # reconcile_refunds looks for old unsettled requests.
            models.Index(fields=("state", "updated"), name="accepton_refundreq_state"),
        )

    def __str__(self) -> str:
        # As money when the charge (its currency) is at hand: never a query for a label.
        cached = type(self).charge.is_cached(self)  # type: ignore[attr-defined]
        amount = format_money(self.amount, self.charge.currency if cached else "")
        return f"{amount} of {self.charge_id} ({self.state})"


class ListedMirror(models.Model):
    """The columns of a mirror that a full sync can find gone from AcceptOn (plans and promo
    codes, which AcceptOn lists whole): AcceptOn's creation time and JSON, and when a sync last
    wrote, saw or missed the row."""

    created = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When AcceptOn's data was last written here.")
    )
    last_seen_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a sync last found it on AcceptOn.")
    )
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a full sync found it gone from AcceptOn.")
    )

    class Meta:
        abstract = True


class PeriodUnit(models.TextChoices):
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


RECURRING_TOKEN_RE = r"^rtx_[A-Za-z0-9]{1,60}$"  # noqa: S105 - a pattern


class Plan(ListedMirror):
    """A recurring plan (``pln_…``). AcceptOn can create plans but neither change nor delete
    them through its API; ``deleted_at`` is set when a full sync no longer finds one.

    ``recurring_token`` is the store's own setting, never written by a sync: the ``rtx_`` token
    customers pay to subscribe, made in AcceptOn's dashboard (no API call makes one).
    """

    id = models.CharField(primary_key=True, max_length=64)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    name = models.CharField(max_length=255)
    amount = models.PositiveBigIntegerField(help_text=_("In the currency's minor unit (cents)."))
    currency = models.CharField(max_length=3)
    period_unit = models.CharField(max_length=8, choices=PeriodUnit.choices)
    recurring_token = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(RECURRING_TOKEN_RE, _("A recurring token looks like rtx_…."))],
        help_text=_(
            "The rtx_ token made for this plan in AcceptOn's dashboard; customers pay it to "
            "subscribe. Made on first use when RECURRING_TOKEN_MAKER is set."
        ),
    )

    class Meta:
        verbose_name = _("plan")
        ordering = ("-created",)
        indexes = (
            # Finding the rows a full sync did not see.
            models.Index(fields=("environment", "last_seen_at"), name="accepton_plan_seen"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Subscription(models.Model):
    """A customer's subscription to a plan (``sub_…``).

    ``plan_id`` always holds AcceptOn's plan id. The foreign key has no database constraint so
    that subscriptions can be synced before, or without, their plan; ``plan`` is ``None`` (with
    ``select_related``) until that plan has been synced.
    """

    id = models.CharField(primary_key=True, max_length=64)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="subscriptions",
    )
    active = models.BooleanField(default=True)
    email = models.CharField(max_length=254, blank=True)
    last_billed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(
        null=True, blank=True, help_text=_("Only when AcceptOn sends one (no document shows it).")
    )
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When AcceptOn's data was last written here.")
    )
    # Not AcceptOn's: who subscribed here (the user whose checkout paid its first payment).
    user = _customer()
    # Not AcceptOn's: which write inserted the row (services.subscriptions.inserted_by).
    insert_token = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_("Written once, by the write that inserted the row and announced it."),
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        ordering = ("-created",)
        permissions = (("cancel_subscription", _("Can cancel subscriptions through AcceptOn")),)
        indexes = (
            models.Index(fields=("environment", "active"), name="accepton_sub_env_active"),
            models.Index(fields=("email",), name="accepton_sub_email"),
        )

    def __str__(self) -> str:
        return self.id


class PromoType(models.TextChoices):
    AMOUNT = "amount", _("Amount off (minor units)")
    FIXED_PRICE = "fixed_price", _("Fixed price (minor units)")
    PERCENTAGE = "percentage", _("Percentage off")


class PromoCode(ListedMirror):
    """A promo code. AcceptOn identifies codes by name only (no id), and a code can be renamed,
    so the row has a local key and its name is unique per environment."""

    environment = models.CharField(max_length=16, choices=Environment.choices)
    name = models.CharField(max_length=255)
    promo_type = models.CharField(max_length=16, choices=PromoType.choices)
    value = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        help_text=_(
            "As AcceptOn stores it: minor units for amount and fixed price; for a percentage, "
            "a fraction (0.15) or a percent (15) by the account's scale (PROMO_PERCENT_SCALE)."
        ),
    )

    class Meta:
        verbose_name = _("promo code")
        ordering = ("name",)
        permissions = (
            ("manage_promo_codes", _("Can create, change and delete promo codes on AcceptOn")),
        )
        constraints = (
            models.UniqueConstraint(fields=("environment", "name"), name="accepton_promo_name"),
        )
        indexes = (
            models.Index(fields=("environment", "last_seen_at"), name="accepton_promo_seen"),
        )

    def __str__(self) -> str:
        return self.name


class SyncResource(models.TextChoices):
    PLANS = "plans", _("Plans")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    PROMO_CODES = "promo_codes", _("Promo codes")
    CHARGES = "charges", _("Charges")


class SyncState(models.Model):
    """Bookkeeping of the sync of one resource in one environment: the last successful run
    (incremental charge syncs start from it) and the lease that keeps two runs from
    overlapping. The lease is a row field, not a database lock, because a fanned-out sync
    holds it across many Celery tasks and processes."""

    resource = models.CharField(max_length=32, choices=SyncResource.choices)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_started_at = models.DateTimeField(null=True, blank=True)
    last_success_finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    lock_token = models.CharField(max_length=64, blank=True, editable=False)
    lock_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("sync state")
        ordering = ("resource", "environment")
        constraints = (
            models.UniqueConstraint(
                fields=("resource", "environment"), name="accepton_sync_state_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.resource} ({self.environment})"
