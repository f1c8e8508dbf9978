from __future__ import annotations

from django import template

from store.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str = "usd") -> str:
    """``{{ order.amount|money:order.currency }}``: 4500 usd -> $45.00."""
    return format_money(amount, currency or "usd")
