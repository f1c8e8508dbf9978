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


class AccountNotShared(ImproperlyConfigured):
    """This process would talk to an embedded sandbox of its own, not the store's account."""


def require_store_account() -> None:
    """Raise :class:`AccountNotShared` when this process would start an embedded sandbox of
    its own. The embedded sandbox lives inside the process that started it (the demo's server);
    a second process (``manage.py sync_accepton``, a Celery worker) would get a new, empty one
    and sync the store against it: every plan and promo code marked deleted, every pending
    claim an unknown charge. For work outside that process, run the sandbox on its own."""
    conf = get_settings()
    if not conf.uses_embedded_sandbox:
        return
    from django_accepton.sandbox import embedded_sandbox_running

    if not embedded_sandbox_running():
        raise AccountNotShared(
            "ACCEPTON uses the embedded sandbox, which lives inside the process that started "
            "it: this process would start an empty one of its own and sync the store against "
            "it. Start a standalone sandbox (python -m django_accepton.sandbox --port 8765 "
            "--secret-key skey_… --public-key pkey_…) and set ACCEPTON['BASE_URL'], "
            "SECRET_KEY and PUBLIC_KEY to it in every process, or sync from the demo's own "
            "process (its admin)."
        )


@functools.cache
def get_client() -> AcceptOn:
    conf = get_settings()
    if not conf.environment:
        raise ImproperlyConfigured("ACCEPTON['ENVIRONMENT'] is not set.")
    base_url, secret_key = conf.base_url, conf.secret_key
    if conf.uses_embedded_sandbox:
        # The embedded sandbox makes its own keys; configured ones would only be refused.
        base_url = _embedded()[0]
        secret_key = Secret(_embedded()[2])
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
