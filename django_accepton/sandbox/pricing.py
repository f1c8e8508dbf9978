"""What a promo code takes off a price."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def percent_fraction(value: int | float) -> Decimal:
    """AcceptOn's documents disagree on the scale: 0.15 (stored fixtures) and 10.0 (reference)
    both mean a percentage, so a value up to 1 is a fraction and anything above is a percent."""
    number = Decimal(str(value))
    return number if number <= 1 else number / 100


def discounted(amount: int, promo_type: str, value: int | float) -> int:
    """The price in cents after the promo code, never negative and never above ``amount``."""
    if promo_type == "amount":
        return max(0, amount - int(value))
    if promo_type == "fixed_price":
        return min(amount, max(0, int(value)))
    off = (Decimal(amount) * percent_fraction(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, amount - int(off))
