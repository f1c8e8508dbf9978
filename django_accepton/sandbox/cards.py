"""Test card numbers and the checks a card goes through before it is charged."""

from __future__ import annotations

import re
from datetime import date

from .errors import SandboxError, bad_request

TEST_CARDS: dict[str, str] = {
    "success": "4242424242424242",
    "declined": "4000000000000002",
    "insufficient_funds": "4000000000009995",
}

_DECLINES: dict[str, SandboxError] = {
    TEST_CARDS["declined"]: bad_request("card_declined", "Your card was declined."),
    TEST_CARDS["insufficient_funds"]: bad_request(
        "insufficient_funds", "Your card has insufficient funds."
    ),
}

_SEPARATORS = re.compile(r"[\s-]")
_CVC = re.compile(r"\d{3,4}")


def normalise_number(number: object) -> str:
    """The digits of a card number as typed (``4242 4242 …`` and ``4242-4242-…`` included)."""
    text = _SEPARATORS.sub("", number) if isinstance(number, str) else str(number or "")
    if text not in TEST_CARDS.values():
        raise bad_request(
            "invalid_card",
            "Your card number is not a sandbox test card. Use 4242424242424242 to pay.",
        )
    return text


def check_expiry(exp_month: object, exp_year: object, today: date) -> None:
    try:
        month = int(str(exp_month).strip())
        year = int(str(exp_year).strip())
    except ValueError:
        raise bad_request("invalid_expiry", "Your card's expiration date is invalid.") from None
    if year < 100:
        # Two-digit years are how expiry dates are printed on cards.
        year += 2000
    if not 1 <= month <= 12:
        raise bad_request("invalid_expiry", "Your card's expiration date is invalid.")
    if (year, month) < (today.year, today.month):
        raise bad_request("invalid_expiry", "Your card has expired.")


def check_cvc(cvc: object) -> None:
    if not isinstance(cvc, str | int) or not _CVC.fullmatch(str(cvc).strip()):
        raise bad_request("invalid_cvc", "Your card's security code is invalid.")


def decline_for(number: str) -> SandboxError | None:
    """The processor's answer for a well-formed card: ``None`` when it pays."""
    declined = _DECLINES.get(number)
    if declined is None:
        return None
    return SandboxError(declined.status, declined.error_type, declined.message)
