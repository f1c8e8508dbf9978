"""Argument checks run before anything is sent, so a bad call costs no request."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from .resources import PROMO_TYPES

MAX_PER_PAGE = 100
PERIOD_UNITS = frozenset({"month", "year"})
ORDERS = frozenset({"asc", "desc"})
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_RE = re.compile(r"[A-Za-z]{3}")


def path_segment(value: str, name: str) -> str:
    """A non-empty id or name, percent-encoded so that it stays one path segment."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        # Encoding leaves dots alone, and a URL reads these as steps up its path: the call
        # would reach another resource (a list, or the API's root).
        raise ValueError(f"{name} cannot be {value!r}: a URL reads it as a step in its path")
    return quote(value, safe="")


def text(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def optional_text(value: str | None, name: str) -> str | None:
    return None if value is None else text(value, name)


def positive_amount(value: int, name: str = "amount") -> int:
    # bool is an int subclass; amount=True would otherwise go out as "true".
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer of minor units (cents), got {value!r}")
    return value


def optional_fee(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer of minor units, got {value!r}")
    return value


def currency(value: str) -> str:
    if not isinstance(value, str) or not _CURRENCY_RE.fullmatch(value):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code such as 'usd', got {value!r}")
    return value.lower()


def choice(value: str, name: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(sorted(allowed))}; got {value!r}")
    return value


def optional_choice(value: str | None, name: str, allowed: frozenset[str]) -> str | None:
    return None if value is None else choice(value, name, allowed)


def promo_type(value: str) -> str:
    return choice(value, "promo_type", PROMO_TYPES)


def promo_value(value: int | float | Decimal | str, kind: str) -> Decimal:
    """The value of a promo code of type ``kind``: whole cents, or a percentage."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(f"value must be a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"value must be a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"value must be a non-negative number, got {value!r}")
    if kind == "percentage":
        if number == 0 or number > 100:
            raise ValueError(
                "a percentage value must be above 0 and at most 100 "
                f"(sent as given: a fraction or a percent, by the account's scale), got {value!r}"
            )
        return number
    if number != number.to_integral_value():
        raise ValueError(f"a {kind} value is whole minor units (cents), got {value!r}")
    # 2000.0 would go out as "2000.0", which an integer column need not accept.
    return Decimal(int(number))


def paging(page: int, per_page: int) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be an integer >= 1 (pages are 1-based), got {page!r}")
    if (
        isinstance(per_page, bool)
        or not isinstance(per_page, int)
        or not 1 <= per_page <= MAX_PER_PAGE
    ):
        raise ValueError(f"per_page must be an integer from 1 to {MAX_PER_PAGE}, got {per_page!r}")


def optional_flag(value: bool | None, name: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be True, False or None, got {value!r}")
    return value


def wire_date(value: date | datetime | str | None, name: str) -> str | None:
    """``YYYY-MM-DD``; an aware datetime is converted to UTC first, as AcceptOn's timestamps are."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError(f"{name} must be a date, a datetime or a 'YYYY-MM-DD' string, got {value!r}")
