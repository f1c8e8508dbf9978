"""Where a customer goes after a verification, according to ``ACCEPTON`` settings."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import QueryDict
from django.shortcuts import resolve_url

from django_accepton.conf import get_settings
from django_accepton.services.verification import CHARGE_ID_RE, TOKEN_ID_RE, VerificationResult


def destination(result: VerificationResult) -> str:
    conf = get_settings()
    if result.ok or result.paid:
        base = conf.success_url
    elif result.pending:
        base = conf.pending_url
    else:
        base = conf.failure_url
    url = resolve_url(base)
    query = urlencode(
        {"token": result.token_id, "charge": result.charge_id, "reason": result.reason}
    )
    return f"{url}{'&' if '?' in url else '?'}{query}"


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
