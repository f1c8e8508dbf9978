"""Money as people read it: amounts in a currency's minor unit shown in its major unit.

AcceptOn counts every amount in the currency's minor unit (cents), and so does every column of
the package. People read ``$45.00``, ``¥1,250`` or ``1.500 KWD``: the number of decimals is
the currency's (ISO 4217: none for the yen, three for the Kuwaiti dinar), and the separators are
the active locale's, through Django's own number formatting (``django.utils.formats``). Django
rather than Babel: no new dependency, and the separators follow the same ``LANGUAGE_CODE`` /
``USE_THOUSAND_SEPARATOR`` settings as every other number on the site. Where the symbol goes is
not localised: a handful of currencies are written with their symbol first, every other one
with its ISO code after the number.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

# ISO 4217 currencies whose minor unit is not a hundredth of the major one.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
    | {"vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"})
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def decimals(currency: str) -> int:
    """How many digits of ``currency``'s minor unit follow the decimal separator."""
    code = (currency or "").lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    """``4500, "usd"`` -> ``Decimal("45.00")``."""
    return Decimal(int(amount)).scaleb(-decimals(currency))


def to_minor(value: Decimal, currency: str) -> int:
    """``Decimal("45.5"), "usd"`` -> ``4550``. Raises ``ValueError`` for a value with more
    decimals than the currency has (``45.005`` dollars is no amount) or one that is not a
    finite number."""
    if not value.is_finite():
        raise ValueError(f"{value} is not an amount of money.")
    places = decimals(currency)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency.upper()} has {places} decimal places.")
    return int(scaled)


def format_money(amount: int | None, currency: str = "usd") -> str:
    """``4500, "usd"`` -> ``$45.00``; ``1250, "jpy"`` -> ``¥1,250``; ``990, "chf"`` ->
    ``9.90 CHF`` (separators of the active locale); ``""`` for ``None``."""
    if amount is None:
        return ""
    code = (currency or "").lower()
    places = decimals(code)
    value = to_major(amount, code)
    number = number_format(abs(value), decimal_pos=places, force_grouping=True)
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {code.upper()}".strip()


def format_number(value: Decimal | int | float) -> str:
    """``value`` in the active language's notation, without trailing zeros: 12.5, 1000."""
    digits = f"{Decimal(str(value)):f}"
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    return number_format(Decimal(digits), use_l10n=True)


def describe_promo(promo_type: str, value: Decimal | int | float, currency: str = "usd") -> str:
    """``"15 % off"``, ``"$5.00 off"`` or ``"fixed price $20.00"``: a promo code's rule, with
    its amounts (minor units) as money. ``value`` is a percent for ``percentage`` codes."""
    if promo_type == "percentage":
        return _("%(percent)s %% off") % {"percent": format_number(value)}
    if promo_type == "amount":
        return _("%(amount)s off") % {"amount": format_money(int(value), currency)}
    if promo_type == "fixed_price":
        return _("fixed price %(amount)s") % {"amount": format_money(int(value), currency)}
    return str(value)
