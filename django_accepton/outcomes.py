"""Where a customer goes after a verification, according to ``ACCEPTON`` settings."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import QueryDict
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch

from django_accepton.conf import DEFAULTS, get_settings
from django_accepton.services.verification import CHARGE_ID_RE, TOKEN_ID_RE, VerificationResult

logger = logging.getLogger(__name__)


def destination(result: VerificationResult) -> str:
    conf = get_settings()
    if result.ok or result.paid:
        name, base = "SUCCESS_URL", conf.success_url
    elif result.pending:
        name, base = "PENDING_URL", conf.pending_url
    else:
        name, base = "FAILURE_URL", conf.failure_url
    url = outcome_url(name, base)
    query = urlencode(
        {"token": result.token_id, "charge": result.charge_id, "reason": result.reason}
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


def outcome_url(name: str, value: str) -> str:
    """``value`` (a URL or a URL name) as a URL. A name that does not reverse (check
    ``accepton.E033`` says so at start-up) falls back to the package's own page, logged as an
    error: the customer has just paid, and must not get a server error for a setting."""
    try:
        return resolve_url(value)
    except NoReverseMatch:
        logger.error(
            "ACCEPTON['%s'] %r does not reverse: the package's own page is used", name, value
        )
    try:
        return resolve_url(DEFAULTS[name])
    except NoReverseMatch:
        return "/"


def outcome_ids(query: QueryDict) -> tuple[str, str]:
    """The token and charge ids of a :func:`destination` URL's query, for the page it leads to.

    Each is "" when it is not shaped like one: anything else would only miss, and some strings
    cannot even be looked up (PostgreSQL refuses NUL bytes).
    """
    token_id = query.get("token", "")
    charge_id = query.get("charge", "")
    return (
        token_id if TOKEN_ID_RE.fullmatch(token_id) else "",
        charge_id if CHARGE_ID_RE.fullmatch(charge_id) else "",
    )
