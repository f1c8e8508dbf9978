"""Amounts are stored in the currency's minor unit (cents); people read them as money."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 currencies whose minor unit is not a hundredth of the major one.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
    | {"vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"})
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def decimals(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def format_money(amount: int | None, currency: str = "usd") -> str:
    """``4500, "usd"`` -> ``$45.00``; ``1250, "jpy"`` -> ``¥1,250``; ``990, "chf"`` -> ``9.90 CHF``.

    Without a symbol of its own a currency is written after the number, as its ISO code.
    """
    if amount is None:
        return ""
    places = decimals(currency)
    value = Decimal(int(amount)).scaleb(-places)
    sign = "-" if value < 0 else ""
    number = f"{abs(value):,.{places}f}"
    symbol = SYMBOLS.get(currency.lower())
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency.upper()}"
