"""Turning raw parameters (form strings or JSON values) into checked values, or a 400."""

from __future__ import annotations

import math
import re
from collections.abc import Collection

from . import errors
from .errors import bad_request

_INT = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

PERIOD_UNITS = ("month", "year")
PROMO_TYPES = ("amount", "fixed_price", "percentage")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20

_TRUE = ("true", "True", "TRUE", "1")
_FALSE = ("false", "False", "FALSE", "0")


def as_int(value: object) -> int | None:
    """An integer from an int, an integral float or a string of digits; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def positive_int(value: object, error_type: str = "invalid_amount", message: str = "") -> int:
    number = as_int(value)
    if number is None or number <= 0:
        raise bad_request(error_type, message or errors.INVALID_AMOUNT)
    return number


def optional_non_negative_int(value: object, error_type: str, message: str) -> int | None:
    if value is None or value == "":
        return None
    number = as_int(value)
    if number is None or number < 0:
        raise bad_request(error_type, message)
    return number


def optional_text(value: object, error_type: str, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return str(value)
    if not isinstance(value, str):
        raise bad_request(error_type, f"The {what} must be a string.")
    return value


def currency(value: object, default: str | None) -> str | None:
    """ISO 4217 letters, stored lower-case as in every AcceptOn example (``usd``, ``cad``)."""
    if value is None or value == "":
        return default
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip()):
        raise bad_request("invalid_currency", "The currency must be a three-letter ISO 4217 code.")
    return value.strip().lower()


def email(value: object) -> str:
    """An email address without its surrounding spaces; only its shape is checked."""
    if not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()):
        raise bad_request("invalid_email", "The email address is invalid.")
    return value.strip()


def required_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request("invalid_name", "The name can't be blank.")
    return value.strip()


def period_unit(value: object) -> str:
    if not isinstance(value, str) or value not in PERIOD_UNITS:
        raise bad_request("invalid_period_unit", "The period unit must be 'month' or 'year'.")
    return value


def promo_type(value: object) -> str:
    if not isinstance(value, str) or value not in PROMO_TYPES:
        raise bad_request(
            "invalid_promo_type", "The promo type must be 'amount', 'fixed_price' or 'percentage'."
        )
    return value


def promo_value(value: object, kind: str) -> int | float:
    """The value exactly as sent (an int stays an int, ``2000.0`` stays a float), once checked.

    ``amount`` and ``fixed_price`` are cents, so they must be whole; a percentage lies in (0, 100],
    read as a fraction up to 1 and as a percent above it (see ``pricing.discounted``).
    """
    number: int | float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()
        number = int(text) if _INT.fullmatch(text) else float(text)
    message = f"The value is not valid for a {kind} promo code."
    if number is None or not math.isfinite(number):
        raise bad_request("invalid_value", message)
    if kind == "percentage":
        valid = 0 < number <= 100
    else:
        whole = isinstance(number, int) or number.is_integer()
        valid = whole and (number > 0 if kind == "amount" else number >= 0)
    if not valid:
        raise bad_request("invalid_value", message)
    return number


def boolean(value: object, error_type: str, what: str) -> bool:
    # Python's client sends True, Ruby true, PHP 1: all three dialects are AcceptOn traffic.
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad_request(error_type, f"The {what} filter must be true or false.")


def paging(page: object, per_page: object) -> tuple[int, int]:
    page_number = 1 if page is None or page == "" else as_int(page)
    if page_number is None or page_number < 1:
        raise bad_request("invalid_page", "The page must be a positive integer.")
    size = DEFAULT_PER_PAGE if per_page is None or per_page == "" else as_int(per_page)
    if size is None or not 1 <= size <= MAX_PER_PAGE:
        raise bad_request("invalid_per_page", f"The per_page must be between 1 and {MAX_PER_PAGE}.")
    return page_number, size


def order(value: object, *, default_desc: bool) -> bool:
    """``True`` for descending."""
    if value is None or value == "":
        return default_desc
    if isinstance(value, str) and value.lower() in ("asc", "desc"):
        return value.lower() == "desc"
    raise bad_request("invalid_order", "The order must be 'asc' or 'desc'.")


def order_by(value: object, allowed: Collection[str]) -> str:
    if value is None or value == "":
        return "created_at"
    if isinstance(value, str) and value in allowed:
        return value
    names = ", ".join(sorted(allowed))
    raise bad_request("invalid_order_by", f"The order_by must be one of: {names}.")
