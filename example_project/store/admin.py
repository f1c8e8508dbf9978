from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from django_accepton.admin import AcceptOnChargesMixin
from store.models import Membership, Order, Product
from store.money import format_money


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "slug", "price_display")
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="Price", ordering="price")
    def price_display(self, product: Product) -> str:
        return format_money(product.price, product.currency)


@admin.register(Order)
class OrderAdmin(AcceptOnChargesMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Orders are changed by payments, not by hand: the admin shows them, with the AcceptOn
    charges that paid (or tried to pay) each one."""

    list_display = ("__str__", "product", "amount_display", "status", "charge_id", "created")
    list_filter = ("status",)
    search_fields = ("charge_id", "public_id")
    readonly_fields = (
        "public_id",
        "product",
        "amount",
        "currency",
        "status",
        "amount_paid",
        "promo_code",
        "charge_id",
        "created",
        "paid_at",
        "accepton_charges",
    )

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, order: Order) -> str:
        return format_money(order.amount, order.currency)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("plan_name", "email", "status", "subscription_id", "created")
    list_filter = ("status", "plan_name")
    search_fields = ("email", "subscription_id", "charge_id")
    readonly_fields = [field.name for field in Membership._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
