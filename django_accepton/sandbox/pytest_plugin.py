"""pytest fixtures for the AcceptOn sandbox (registered as the ``accepton_sandbox`` plugin).

``accepton_sandbox`` gives each test the session's running ``SandboxServer`` with its state
emptied and its faults cleared; the keys stay the same for the whole session. It needs no
Django and works in any test suite. ``accepton_settings`` adds, for Django projects, settings
that point django-accepton at that sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .server import SandboxServer


@pytest.fixture(scope="session")
def accepton_sandbox_session() -> Iterator[SandboxServer]:
    """One sandbox server for the whole test session."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def accepton_sandbox(accepton_sandbox_session: SandboxServer) -> Iterator[SandboxServer]:
    """The session's sandbox, emptied for this test (objects, faults, overrides, request log)."""
    accepton_sandbox_session.state.reset()
    yield accepton_sandbox_session
    accepton_sandbox_session.state.reset()


@pytest.fixture
def accepton_settings(accepton_sandbox: SandboxServer, settings: Any) -> SandboxServer:
    """For Django projects (needs pytest-django): ``settings.ACCEPTON`` points at the sandbox.

    The store under test then mints tokens, verifies charges and syncs against the emptied
    session sandbox. Retries are off, so that a fault a test injects is seen, not retried away.
    """
    settings.ACCEPTON = {
        **getattr(settings, "ACCEPTON", {}),
        "ENVIRONMENT": "sandbox",
        "BASE_URL": accepton_sandbox.url,
        "SECRET_KEY": accepton_sandbox.secret_key,
        "PUBLIC_KEY": accepton_sandbox.public_key,
        "MAX_RETRIES": 0,
    }
    return accepton_sandbox
