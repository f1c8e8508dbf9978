"""Start-up checks of ``settings.ACCEPTON``: settings only, never the database or the network."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from django_accepton.conf import KNOWN_ENVIRONMENTS, get_settings

HINT = "See the settings reference in docs/settings.md."


@register("accepton")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        conf = get_settings()
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
        return errors
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
