from __future__ import annotations

import uuid

from django.db import models
from django.urls import reverse


class Product(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    blurb = models.TextField(blank=True)
    price = models.PositiveIntegerField(help_text="In cents.")
    currency = models.CharField(max_length=3, default="usd")

    class Meta:
        ordering = ("price",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("store:product", args=[self.slug])


class Order(models.Model):
    """One checkout. The AcceptOn token is minted for the order, so one payment buys one order."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        PARTLY_REFUNDED = "partly_refunded", "Partly refunded"
        REFUNDED = "refunded", "Refunded"

    # Order pages are reachable without logging in: their address must not be guessable.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    amount = models.PositiveIntegerField(help_text="Price in cents when the order was placed.")
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT
    )
    amount_paid = models.PositiveIntegerField(null=True, blank=True)
    amount_refunded = models.PositiveIntegerField(default=0, help_text="In cents.")
    promo_code = models.CharField(max_length=64, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"Order #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("store:order", args=[self.public_id])

    # The product protocol of django-accepton: what this order costs, and a name for it.
    @property
    def accepton_amount(self) -> int:
        return self.amount

    @property
    def accepton_currency(self) -> str:
        return self.currency

    @property
    def accepton_description(self) -> str:
        return f"Order #{self.pk}: {self.product.name}"

    @property
    def accepton_reference(self) -> str:
        return f"order-{self.pk}"


class Membership(models.Model):
    """A customer's subscription to one of the store's plans, paid with the plan's rtx_ token.

    Recorded by the ``charge_verified`` receiver (``store.receivers.record_membership``). The
    charge id is unique: however often the form's answer arrives, one payment makes one
    membership.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    environment = models.CharField(max_length=16)
    plan_id = models.CharField(max_length=64)
    plan_name = models.CharField(max_length=200)
    amount = models.PositiveIntegerField(help_text="Price per period, in cents.")
    currency = models.CharField(max_length=3)
    period_unit = models.CharField(max_length=8)
    email = models.EmailField()
    charge_id = models.CharField(max_length=64, unique=True)
    amount_paid = models.PositiveIntegerField(help_text="First payment, in cents.")
    promo_code = models.CharField(max_length=64, blank=True)
    subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.plan_name} for {self.email}"

    def get_absolute_url(self) -> str:
        return reverse("store:membership", args=[self.public_id])
