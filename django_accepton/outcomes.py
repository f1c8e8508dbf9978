"""Where a customer goes after a verification, according to ``ACCEPTON`` settings."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import resolve_url

from django_accepton.conf import get_settings
from django_accepton.services.verification import VerificationResult


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
