"""The client over real HTTP against the sandbox."""

from __future__ import annotations

from typing import Any

from django_accepton.client import AcceptOn
from django_accepton.sandbox import SandboxServer


def make_client(sandbox: SandboxServer, **options: Any) -> AcceptOn:
    """A client of ``sandbox`` that never sleeps and, unless told, never retries."""
    options.setdefault("max_retries", 0)
    return AcceptOn(
        sandbox.secret_key,
        environment="sandbox",
        base_url=sandbox.url,
        sleep=lambda seconds: None,
        **options,
    )
