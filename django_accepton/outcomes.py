"""Where a customer goes after a verification, according to ``ACCEPTON`` settings."""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse

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


def resolve_outcome(value: str) -> str | None:
    """``value`` as a URL: a URL name that reverses without arguments, a path (``/…``) or an
    ``http(s)://`` URL; ``None`` for anything else, which no redirect could follow
    (``"store:order.status"`` that does not reverse reads as a URL of scheme ``store``)."""
    try:
        return reverse(value)
    except NoReverseMatch:
        pass
    parts = urlsplit(value)
    if value.startswith("/") or (parts.scheme in ("http", "https") and parts.netloc):
        return value
    return None


def outcome_url(name: str, value: str) -> str:
    """``value`` as a URL (:func:`resolve_outcome`). One that is none (check ``accepton.W002``
    says so at start-up) falls back to the package's own page, logged as an error: the
    customer has just paid, and must not get a server error for a setting."""
    url = resolve_outcome(value)
    if url is not None:
        return url
    logger.error("ACCEPTON['%s'] %r is no URL: the package's own page is used", name, value)
    return resolve_outcome(DEFAULTS[name]) or "/"


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
