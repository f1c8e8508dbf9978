"""The one place that reads ``settings.ACCEPTON``.

Everything in the package asks :func:`get_settings` for its configuration, so the documented
block in ``settings.ACCEPTON`` is the whole story, and tests that use ``override_settings`` see
their change at once (the cache is dropped on ``setting_changed``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from django_accepton.client.secret import Secret

KNOWN_ENVIRONMENTS = ("production", "staging", "sandbox")

# What import_string can import: a module path and a name in it.
DOTTED_PATH_RE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")

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
    "ALLOW_INSECURE_BASE_URL": False,
    "TOKEN_CACHE": None,
}
PERCENT_SCALES = ("fraction", "percent")
# The sandbox's presets (django_accepton.sandbox.dialects.PRESETS), named here so that reading
# the settings never imports the sandbox.
SANDBOX_DIALECTS = ("strict-docs", "classic", "hostile")


@dataclass(frozen=True)
class AcceptOnSettings:
    environment: str | None
    # A Secret: its repr and str are masked (see django_accepton.client.secret).
    secret_key: Secret | None = field(repr=False)
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
    allow_insecure_base_url: bool = False
    token_cache: str | None = None

    @property
    def uses_embedded_sandbox(self) -> bool:
        """The sandbox environment with no URL of its own runs in this process."""
        return self.environment == "sandbox" and not self.base_url


class SettingsError(ImproperlyConfigured):
    """``settings.ACCEPTON`` holds values the package cannot use; ``problems`` lists each as
    ``(check id, message)``. The messages name settings, never print a key."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(" ".join(message for _, message in problems))


class _Reader:
    """Reads and checks one setting at a time, collecting every problem before raising."""

    def __init__(self, merged: dict[str, Any]) -> None:
        self.merged = merged
        self.problems: list[tuple[str, str]] = []

    def fail(self, check: str, name: str, expected: str) -> None:
        value = self.merged[name]
        shown = repr(value)[:80]
        if name.endswith("_KEY") or "skey_" in shown:
            # A key pasted into the wrong setting is still a key: never printed.
            shown = type(value).__name__
        self.problems.append((check, f"ACCEPTON[{name!r}] must be {expected}, not {shown}."))

    def text(self, name: str, check: str, *, optional: bool = True) -> str | None:
        value = self.merged[name]
        if value is None or value == "":
            if optional:
                return None
            self.fail(check, name, "a non-empty string")
            return None
        if not isinstance(value, str) or "\x00" in value:
            self.fail(check, name, "a string")
            return None
        return value

    def dotted(self, name: str, check: str) -> str | None:
        """A dotted path to import (``package.module.name``), or ``None`` when unset."""
        value = self.text(name, check)
        if value is not None and not DOTTED_PATH_RE.fullmatch(value):
            self.fail(check, name, "a dotted path such as myshop.accepton.describe")
            return None
        return value

    def url(self, name: str, check: str, *, relative: bool = False) -> str | None:
        value = self.text(name, check)
        if value is None:
            return None
        if relative and value.startswith("/") and not value.startswith("//"):
            return value
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not one
            host = (parts.hostname or "").encode("idna")
        except (ValueError, UnicodeError):
            host = b""
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not host:
            self.fail(check, name, "an http(s) URL with a host, such as https://api.accepton.com")
            return None
        return value.rstrip("/")

    def integer(self, name: str, check: str, *, minimum: int) -> int:
        value = self.merged[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(check, name, f"a whole number of at least {minimum}")
            return int(DEFAULTS[name])
        return value

    def flag(self, name: str, check: str) -> bool:
        value = self.merged[name]
        if not isinstance(value, bool):
            self.fail(check, name, "True or False")
            return bool(DEFAULTS[name])
        return value

    def timeout(self) -> tuple[float, float]:
        value = self.merged["TIMEOUT"]
        pair = value if isinstance(value, list | tuple) else (value, value)
        if len(pair) == 2 and all(
            isinstance(part, int | float) and not isinstance(part, bool) and 0 < part < 86_400
            for part in pair
        ):
            return (float(pair[0]), float(pair[1]))
        self.fail("accepton.E011", "TIMEOUT", "seconds above 0, or a (connect, read) pair of them")
        return tuple(DEFAULTS["TIMEOUT"])  # type: ignore[return-value]

    def cache(self, name: str, check: str) -> str | None:
        alias = self.text(name, check)
        if alias is None:
            return None
        backend = str(settings.CACHES.get(alias, {}).get("BACKEND", ""))
        if alias not in settings.CACHES:
            self.fail(check, name, f"one of the CACHES aliases ({', '.join(settings.CACHES)})")
            return None
        if backend.endswith(("LocMemCache", "DummyCache")):
            self.fail(
                check,
                name,
                "a cache shared by every process (Redis, Memcached, the database cache); "
                f"{alias!r} is {backend.rsplit('.', 1)[-1]}",
            )
            return None
        return alias

    def choice(self, name: str, check: str, allowed: tuple[str, ...]) -> str | None:
        value = self.merged[name]
        if value is None or value == "":  # unset (an empty environment variable, say)
            return str(DEFAULTS[name]) if DEFAULTS[name] else None
        if value not in allowed:
            self.fail(check, name, f"one of {', '.join(map(repr, allowed))}")
            return str(DEFAULTS[name]) if DEFAULTS[name] else None
        return str(value)


def _secret(value: object) -> Secret | None:
    """The configured key as a Secret, or ``None``. Nothing here raises with the key in a
    local: an unusable value becomes ``None`` and the check reports it (accepton.E003)."""
    if value is None or value == "":
        return None
    if isinstance(value, Secret):
        return value
    try:
        return Secret(value)
    except ValueError:
        return None


@functools.cache
def get_settings() -> AcceptOnSettings:
    """``settings.ACCEPTON`` read and checked; raises :class:`SettingsError` listing every
    unusable value (``manage.py check`` reports each under its own id)."""
    configured = getattr(settings, "ACCEPTON", {})
    if not isinstance(configured, dict):
        raise SettingsError([("accepton.E001", "settings.ACCEPTON must be a dict.")])
    # The key is taken out first, as a Secret: no variable of this frame holds it as text.
    secret_key = _secret(configured.get("SECRET_KEY"))
    merged = {**DEFAULTS, **{k: v for k, v in configured.items() if k != "SECRET_KEY"}}
    bad_key = configured.get("SECRET_KEY") not in (None, "") and secret_key is None
    configured = None
    unknown = sorted(str(name) for name in set(merged) - set(DEFAULTS))
    if unknown:
        raise SettingsError(
            [("accepton.E001", f"Unknown ACCEPTON settings: {', '.join(unknown)}.")]
        )
    read = _Reader(merged)
    if bad_key:
        read.problems.append(
            (
                "accepton.E004",
                "ACCEPTON['SECRET_KEY'] is not a usable key (spaces, control or non-ASCII "
                "characters).",
            )
        )
    environment = read.text("ENVIRONMENT", "accepton.E002")
    recurring_prefix = read.text("RECURRING_PREFIX", "accepton.E013") or "/v1/recurring"
    if not recurring_prefix.startswith("/"):
        read.fail("accepton.E013", "RECURRING_PREFIX", "a path starting with '/'")
    conf = AcceptOnSettings(
        environment=environment,
        secret_key=secret_key,
        public_key=read.text("PUBLIC_KEY", "accepton.E006"),
        base_url=read.url("BASE_URL", "accepton.E010"),
        form_script_url=read.url("FORM_SCRIPT_URL", "accepton.E014", relative=True),
        timeout=read.timeout(),
        max_retries=read.integer("MAX_RETRIES", "accepton.E012", minimum=0),
        recurring_prefix=recurring_prefix.rstrip("/") or "/",
        success_url=read.text("SUCCESS_URL", "accepton.E015", optional=False) or "",
        failure_url=read.text("FAILURE_URL", "accepton.E015", optional=False) or "",
        pending_url=read.text("PENDING_URL", "accepton.E015", optional=False) or "",
        token_cache_ttl=read.integer("TOKEN_CACHE_TTL", "accepton.E016", minimum=0),
        product_adapter=read.dotted("PRODUCT_ADAPTER", "accepton.E017"),
        accept_promo_codes=read.flag("ACCEPT_PROMO_CODES", "accepton.E018"),
        pending_reverify_after=read.integer("PENDING_REVERIFY_AFTER", "accepton.E016", minimum=0),
        max_response_bytes=read.integer("MAX_RESPONSE_BYTES", "accepton.E016", minimum=1024),
        promo_percent_scale=read.choice("PROMO_PERCENT_SCALE", "accepton.E019", PERCENT_SCALES)
        or "fraction",
        recurring_token_maker=read.dotted("RECURRING_TOKEN_MAKER", "accepton.E017"),
        sandbox_dialect=read.choice("SANDBOX_DIALECT", "accepton.E020", SANDBOX_DIALECTS),
        refund_unfulfilled=read.flag("REFUND_UNFULFILLED", "accepton.E018"),
        allow_insecure_base_url=read.flag("ALLOW_INSECURE_BASE_URL", "accepton.E018"),
        token_cache=read.cache("TOKEN_CACHE", "accepton.E021"),
    )
    if read.problems:
        raise SettingsError(read.problems)
    return conf


@receiver(setting_changed)
def _drop_cached_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "ACCEPTON":
        get_settings.cache_clear()
        # The client is built from these settings, so it goes too.
        from django_accepton.api import get_client

        get_client.cache_clear()
