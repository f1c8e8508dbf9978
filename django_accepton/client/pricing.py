"""What a promo code does to a price, under either reading of AcceptOn's percentage scale.

AcceptOn's documents disagree on what a ``percentage`` value means: the API references and the
Python and Ruby docstrings say ``10.0`` is 10 %, the getting-started guide and the Ruby docs say
``0.1`` is 10 %, and the stored data in every client's fixtures holds ``0.15``/``0.10`` for
codes named TEST15/TEST10. So an account is read in one scale (the ``PROMO_PERCENT_SCALE``
setting, ``fraction`` by default, the reading backed by stored data) and every conversion goes
through here:

- :func:`to_wire` turns "15 % off" into the value sent for that scale (0.15 or 15);
- :func:`percent_off` reads a stored value back as a percent;
- :func:`price_after` is the price a code leaves, under one scale;
- :func:`possible_prices` is every price a code can leave under any documented reading. It is
  what verification accepts: a store that set the wrong scale still never refuses a customer
  AcceptOn charged by one of its codes, and no amount that no code explains is ever accepted.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

FRACTION = "fraction"
PERCENT = "percent"
SCALES = (FRACTION, PERCENT)
PROMO_TYPES = frozenset({"amount", "fixed_price", "percentage"})


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _check_scale(scale: str) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")


def percent_off(value: Decimal, scale: str) -> Decimal:
    """A stored ``percentage`` value as a percent (15 for 15 %) under ``scale``."""
    _check_scale(scale)
    return value * 100 if scale == FRACTION else value


def to_wire(percent: Decimal, scale: str) -> Decimal:
    """The value to send for "``percent`` % off" under ``scale``: 15 → 0.15 or 15."""
    _check_scale(scale)
    if not Decimal(0) < percent <= Decimal(100):
        raise ValueError(f"a percentage must be above 0 and at most 100, got {percent}")
    return (percent / 100).normalize() if scale == FRACTION else percent


def price_after(amount: int, promo_type: str, value: Decimal, scale: str) -> int:
    """The price in minor units after the code, never negative and never above ``amount``."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be a non-negative integer of minor units: {amount!r}")
    if promo_type == "amount":
        price = amount - _whole(value)
    elif promo_type == "fixed_price":
        price = _whole(value)
    elif promo_type == "percentage":
        price = amount - _whole(Decimal(amount) * percent_off(value, scale) / 100)
    else:
        raise ValueError(f"unknown promo_type {promo_type!r}")
    return min(max(price, 0), amount)


def possible_prices(amount: int, promo_type: str, value: Decimal) -> set[int]:
    """Every price the code can leave under a documented reading of its value.

    A percentage is read as a fraction only up to 1 and as a percent only up to 100, so a
    value never reads as more than everything off. How AcceptOn rounds a percentage discount
    to the minor unit is undocumented too: the discount rounded down and up are both taken
    (half up, :func:`price_after`'s rule, is one of the two).
    """
    if promo_type != "percentage":
        return {price_after(amount, promo_type, value, FRACTION)}
    prices = set()
    for scale, limit in ((FRACTION, 1), (PERCENT, 100)):
        if value > limit:
            continue
        off = Decimal(amount) * percent_off(value, scale) / 100
        for rounded in (
            off.to_integral_value(rounding=ROUND_FLOOR),
            off.to_integral_value(rounding=ROUND_CEILING),
        ):
            prices.add(min(max(amount - int(rounded), 0), amount))
    return prices


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form: 20, 0.15, 12.5."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def ambiguous(percent: Decimal) -> bool:
    """A percent whose value reads differently in the two scales badly enough to matter: 1 (or
    less) is 100 % off as a fraction and 1 % as a percent. Refused where a human types it."""
    return percent <= 1
