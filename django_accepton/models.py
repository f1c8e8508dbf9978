"""Local records of AcceptOn objects.

Each model keeps a few columns worth querying and the API's JSON as it came (``raw``), so that
a field AcceptOn adds later is not lost and never needs a migration to be read. Every row
records the environment (production, staging, sandbox) it belongs to: ids of one environment
mean nothing in another.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Environment(models.TextChoices):
    PRODUCTION = "production", _("Production")
    STAGING = "staging", _("Staging")
    SANDBOX = "sandbox", _("Sandbox")


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
        return self.id.startswith("rtx_")


class Verification(models.TextChoices):
    PENDING = "pending", _("Pending")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


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
    refunded = models.BooleanField(default=False)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    remote_id = models.CharField(max_length=255, blank=True)
    promo_code = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(null=True, blank=True, db_index=True)
    raw = models.JSONField(default=dict, blank=True)

    token = models.ForeignKey(
        TransactionToken, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.PENDING, db_index=True
    )
    reason = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("charge")
        ordering = ("-claimed_at",)
        permissions = (("refund_charge", _("Can refund charges through AcceptOn")),)
        constraints = (
            # The database, not only the code, refuses a second fulfilment of one token.
            models.UniqueConstraint(
                fields=("token",),
                condition=Q(verification="verified"),
                name="accepton_one_verified_charge_per_token",
            ),
        )

    def __str__(self) -> str:
        return self.id

    @property
    def refundable_amount(self) -> int:
        return max((self.amount or 0) - self.amount_refunded, 0)
