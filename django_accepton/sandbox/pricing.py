"""What a promo code takes off a price."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def percent_fraction(value: int | float, scale: str = "mixed") -> Decimal:
    """The share of the price a ``percentage`` value takes off, under the dialect's scale.

    AcceptOn's documents disagree (``dialects.Dialect.percent_scale``): ``fraction`` reads 0.15
    as 15 %, ``percent`` reads 15 as 15 %, ``mixed`` reads a value up to 1 as a fraction and
    anything above as a percent.
    """
    number = Decimal(str(value))
    if scale == "fraction":
        return min(number, Decimal(1))
    if scale == "percent":
        return number / 100
    return number if number <= 1 else number / 100


def discounted(amount: int, promo_type: str, value: int | float, scale: str = "mixed") -> int:
    """The price in cents after the promo code, never negative and never above ``amount``."""
    if promo_type == "amount":
        return max(0, amount - int(value))
    if promo_type == "fixed_price":
        return min(amount, max(0, int(value)))
    off = (Decimal(amount) * percent_fraction(value, scale)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return max(0, amount - int(off))
