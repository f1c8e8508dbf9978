"""The configured AcceptOn connection: the client, its public key and its form script.

With ``ENVIRONMENT = "sandbox"`` and no ``BASE_URL``, the package's sandbox is started inside
this process on first use and its throwaway keys are used, so a demo needs no keys at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from django_accepton.client import AcceptOn, Secret
from django_accepton.conf import get_settings


@dataclass(frozen=True)
class Connection:
    environment: str
    base_url: str | None
    public_key: str
    form_script_url: str


def _embedded() -> tuple[str, str, str]:
    from django_accepton.sandbox import embedded_sandbox

    server = embedded_sandbox(get_settings().sandbox_dialect)
    return server.url, server.public_key, server.secret_key


@functools.cache
def get_client() -> AcceptOn:
    conf = get_settings()
    if not conf.environment:
        raise ImproperlyConfigured("ACCEPTON['ENVIRONMENT'] is not set.")
    base_url, secret_key = conf.base_url, conf.secret_key
    if conf.uses_embedded_sandbox:
        # The embedded sandbox makes its own keys; configured ones would only be refused.
        base_url, _, made = _embedded()
        secret_key = Secret(made)
    if not secret_key:
        raise ImproperlyConfigured("ACCEPTON['SECRET_KEY'] is not set.")
    return AcceptOn(
        secret_key,
        environment=conf.environment,
        base_url=base_url,
        timeout=conf.timeout,
        max_retries=conf.max_retries,
        recurring_prefix=conf.recurring_prefix,
    )


def get_connection() -> Connection:
    """What a page needs to render the AcceptOn form: never the secret key."""
    conf = get_settings()
    client = get_client()
    public_key = conf.public_key
    if conf.uses_embedded_sandbox:
        public_key = _embedded()[1]
    if not public_key:
        raise ImproperlyConfigured("ACCEPTON['PUBLIC_KEY'] is not set.")
    return Connection(
        environment=client.environment,
        base_url=client.base_url,
        public_key=public_key,
        form_script_url=conf.form_script_url or client.form_script_url,
    )


def current_environment() -> str:
    environment = get_settings().environment
    if not environment:
        raise ImproperlyConfigured("ACCEPTON['ENVIRONMENT'] is not set.")
    return environment
