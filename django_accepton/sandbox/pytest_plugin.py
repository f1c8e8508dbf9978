"""pytest fixtures for the AcceptOn sandbox (registered as the ``accepton_sandbox`` plugin).

``accepton_sandbox`` gives each test the session's running ``SandboxServer`` with its state
emptied and its faults cleared; the keys stay the same for the whole session. No Django here:
the fixture works in any test suite.
"""

from __future__ import annotations

from collections.abc import Iterator

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
