"""The one place that reads ``settings.ACCEPTON``.

Everything in the package asks :func:`get_settings` for its configuration, so the documented
block in ``settings.ACCEPTON`` is the whole story, and tests that use ``override_settings`` see
their change at once (the cache is dropped on ``setting_changed``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

KNOWN_ENVIRONMENTS = ("production", "staging", "sandbox")

DEFAULTS: dict[str, Any] = {
    "ENVIRONMENT": None,
    "SECRET_KEY": None,
    "PUBLIC_KEY": None,
    "BASE_URL": None,
    "FORM_SCRIPT_URL": None,
    "TIMEOUT": (5.0, 30.0),
    "MAX_RETRIES": 2,
    "RECURRING_PREFIX": "/v1/recurring",
    "SUCCESS_URL": "accepton:success",
    "FAILURE_URL": "accepton:failure",
    "PENDING_URL": "accepton:pending",
    "TOKEN_CACHE_TTL": 15 * 60,
    "PRODUCT_ADAPTER": None,
    "ACCEPT_PROMO_CODES": True,
    "PENDING_REVERIFY_AFTER": 60,
    "MAX_RESPONSE_BYTES": 64 * 1024,
    "PROMO_PERCENT_SCALE": "fraction",
    "RECURRING_TOKEN_MAKER": None,
    "SANDBOX_DIALECT": None,
    "REFUND_UNFULFILLED": False,
}
PERCENT_SCALES = ("fraction", "percent")


@dataclass(frozen=True)
class AcceptOnSettings:
    environment: str | None
    secret_key: str | None = field(repr=False)
    public_key: str | None
    base_url: str | None
    form_script_url: str | None
    timeout: tuple[float, float]
    max_retries: int
    recurring_prefix: str
    success_url: str
    failure_url: str
    pending_url: str
    token_cache_ttl: int
    product_adapter: str | None
    accept_promo_codes: bool
    pending_reverify_after: int
    max_response_bytes: int
    promo_percent_scale: str = "fraction"
    recurring_token_maker: str | None = None
    sandbox_dialect: str | None = None
    refund_unfulfilled: bool = False

    @property
    def uses_embedded_sandbox(self) -> bool:
        """The sandbox environment with no URL of its own runs in this process."""
        return self.environment == "sandbox" and not self.base_url


def _timeout(value: Any) -> tuple[float, float]:
    if isinstance(value, int | float):
        return (float(value), float(value))
    if isinstance(value, list | tuple) and len(value) == 2:
        return (float(value[0]), float(value[1]))
    raise ImproperlyConfigured(
        "ACCEPTON['TIMEOUT'] must be seconds or a (connect, read) pair, "
        f"not {type(value).__name__}."
    )


@functools.cache
def get_settings() -> AcceptOnSettings:
    raw = getattr(settings, "ACCEPTON", {})
    if not isinstance(raw, dict):
        raise ImproperlyConfigured("settings.ACCEPTON must be a dict.")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(f"Unknown ACCEPTON settings: {', '.join(unknown)}.")
    merged = {**DEFAULTS, **raw}
    return AcceptOnSettings(
        environment=merged["ENVIRONMENT"],
        secret_key=merged["SECRET_KEY"] or None,
        public_key=merged["PUBLIC_KEY"] or None,
        base_url=(merged["BASE_URL"] or "").rstrip("/") or None,
        form_script_url=merged["FORM_SCRIPT_URL"],
        timeout=_timeout(merged["TIMEOUT"]),
        max_retries=int(merged["MAX_RETRIES"]),
        recurring_prefix=merged["RECURRING_PREFIX"],
        success_url=merged["SUCCESS_URL"],
        failure_url=merged["FAILURE_URL"],
        pending_url=merged["PENDING_URL"],
        token_cache_ttl=int(merged["TOKEN_CACHE_TTL"]),
        product_adapter=merged["PRODUCT_ADAPTER"],
        accept_promo_codes=bool(merged["ACCEPT_PROMO_CODES"]),
        pending_reverify_after=int(merged["PENDING_REVERIFY_AFTER"]),
        max_response_bytes=int(merged["MAX_RESPONSE_BYTES"]),
        promo_percent_scale=_choice(merged, "PROMO_PERCENT_SCALE", PERCENT_SCALES),
        recurring_token_maker=merged["RECURRING_TOKEN_MAKER"] or None,
        sandbox_dialect=merged["SANDBOX_DIALECT"] or None,
        refund_unfulfilled=bool(merged["REFUND_UNFULFILLED"]),
    )


def _choice(merged: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = merged[name]
    if value not in allowed:
        raise ImproperlyConfigured(
            f"ACCEPTON[{name!r}] must be one of {', '.join(map(repr, allowed))}, not {value!r}."
        )
    return str(value)


@receiver(setting_changed)
def _drop_cached_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "ACCEPTON":
        get_settings.cache_clear()
        # The client is built from these settings, so it goes too.
        from django_accepton.api import get_client

        get_client.cache_clear()
