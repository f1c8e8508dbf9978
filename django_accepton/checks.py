"""Start-up checks of ``settings.ACCEPTON``: settings only, never the database or the network."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from django_accepton.conf import (
    KNOWN_ENVIRONMENTS,
    AcceptOnSettings,
    SettingsError,
    get_settings,
)

HINT = (
    "See the settings reference: docs/settings.md in the source distribution, or "
    "django_accepton.conf.DEFAULTS for every key and its default."
)


@register("accepton")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        conf = get_settings()
    except SettingsError as exc:
        return [Error(message, hint=HINT, id=check) for check, message in exc.problems]
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint=HINT, id="accepton.E001")]
    errors: list[CheckMessage] = []
    if conf.environment not in KNOWN_ENVIRONMENTS:
        errors.append(
            Error(
                f"ACCEPTON['ENVIRONMENT'] must be one of {', '.join(KNOWN_ENVIRONMENTS)}, "
                f"not {conf.environment!r}. There is no default: a store must say whether it "
                "takes real money.",
                hint=HINT,
                id="accepton.E002",
            )
        )
        return errors
    if conf.uses_embedded_sandbox:
        if not settings.DEBUG and not _testing():
            errors.append(
                Error(
                    "The embedded AcceptOn sandbox is in use with DEBUG = False.",
                    hint="The embedded sandbox is for development and tests: it takes test "
                    "cards and keeps its state in memory. Set ENVIRONMENT to 'staging' or "
                    "'production' with real keys, or point BASE_URL at a standalone sandbox.",
                    id="accepton.E031",
                )
            )
        return errors
    errors += _deploy_checks(conf)
    if not conf.secret_key:
        errors.append(Error("ACCEPTON['SECRET_KEY'] is not set.", hint=HINT, id="accepton.E003"))
    elif not conf.secret_key.startswith("skey_"):
        # The value itself is never printed: it may be a real key in the wrong place.
        errors.append(
            Error(
                "ACCEPTON['SECRET_KEY'] is not a secret key (skey_…).",
                hint=HINT,
                id="accepton.E004",
            )
        )
    if not conf.public_key:
        errors.append(Error("ACCEPTON['PUBLIC_KEY'] is not set.", hint=HINT, id="accepton.E005"))
    elif not conf.public_key.startswith("pkey_"):
        errors.append(
            Error(
                "ACCEPTON['PUBLIC_KEY'] is not a public key (pkey_…). Never put the secret key "
                "in a page.",
                hint=HINT,
                id="accepton.E006",
            )
        )
    if conf.secret_key and conf.public_key and conf.secret_key == conf.public_key:
        errors.append(
            Error(
                "ACCEPTON's SECRET_KEY and PUBLIC_KEY are the same.", hint=HINT, id="accepton.E007"
            )
        )
    if conf.environment == "production" and conf.base_url:
        errors.append(
            Warning(
                "ACCEPTON['BASE_URL'] overrides the production host.",
                hint="Use it for a proxy or the sandbox only.",
                id="accepton.W001",
            )
        )
    return errors


@register("accepton", Tags.urls)
def check_outcome_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Each outcome page's setting is a URL, or a URL name that reverses without arguments in
    ``ROOT_URLCONF``. A warning: a site that picks its URLconf per request may reverse it
    there, and a customer is never sent to a broken page for it (``outcomes.outcome_url``)."""
    if getattr(settings, "ROOT_URLCONF", None) is None:
        return []  # as Django's own URL checks: a settings module for a worker or a script
    from django_accepton.outcomes import resolve_outcome  # imports models: not at import time

    try:
        conf = get_settings()
    except (SettingsError, ImproperlyConfigured):
        return []  # check_settings reports it
    values = {
        "SUCCESS_URL": conf.success_url,
        "PENDING_URL": conf.pending_url,
        "FAILURE_URL": conf.failure_url,
    }
    return [
        Warning(
            f"ACCEPTON['{name}'] {value!r} is neither a URL (a path or an http(s) URL) nor a URL "
            "name that reverses without arguments.",
            hint="A customer would be sent to the package's own page for that outcome instead. "
            "Name a view of your URLconf, or give a path.",
            id="accepton.W002",
        )
        for name, value in values.items()
        if resolve_outcome(value) is None
    ]


def _testing() -> bool:
    """Whether Django's test environment is set up (``manage.py test``, pytest-django): it
    turns ``DEBUG`` off, where the embedded sandbox is what tests should use. It keeps the mail
    sent in ``django.core.mail.outbox`` (which the locmem backend also makes, anywhere) and
    instruments template rendering (which nothing else does)."""
    from django.template import Template
    from django.test.utils import (  # type: ignore[attr-defined]  # only with DEBUG off
        instrumented_test_render,
    )

    instrumented = Template._render is instrumented_test_render  # type: ignore[attr-defined]
    return getattr(mail, "outbox", None) is not None and instrumented


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "testserver")  # noqa: S104 - names


def _deploy_checks(conf: AcceptOnSettings) -> list[CheckMessage]:
    """Real money must not go over plain HTTP or to a sandbox."""
    errors: list[CheckMessage] = []
    if not conf.base_url or conf.environment == "sandbox":
        return errors
    parts = urlsplit(conf.base_url)
    host = (parts.hostname or "").lower()
    if conf.environment == "production" and (
        host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")
    ):
        errors.append(
            Error(
                "ACCEPTON['BASE_URL'] points production at a local server, such as a sandbox.",
                hint="A sandbox takes test cards: production payments there are not money. "
                "Remove BASE_URL to use AcceptOn's production host.",
                id="accepton.E032",
            )
        )
    elif parts.scheme != "https" and not conf.allow_insecure_base_url:
        errors.append(
            Error(
                f"ACCEPTON['BASE_URL'] uses {parts.scheme}:// for the {conf.environment} "
                "environment.",
                hint="The secret key and payments would travel unencrypted. Use https://, or "
                "set ACCEPTON['ALLOW_INSECURE_BASE_URL'] = True for a proxy on this machine.",
                id="accepton.E030",
            )
        )
    return errors
