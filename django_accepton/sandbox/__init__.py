"""A local, stateful emulator of the AcceptOn API (stdlib only: no Django, no client).

``SandboxServer().start()`` serves it on a free port; ``embedded_sandbox()`` is the one shared
server of this process; the ``accepton_sandbox`` pytest fixture hands a fresh one to each test.
"""

from __future__ import annotations

import threading

from .app import SandboxApp
from .cards import TEST_CARDS
from .dialects import PRESETS, Dialect
from .errors import SandboxError
from .faults import Fault
from .records import RequestRecord
from .server import SandboxServer
from .state import SandboxState

__all__ = [
    "PRESETS",
    "TEST_CARDS",
    "Dialect",
    "Fault",
    "RequestRecord",
    "SandboxApp",
    "SandboxError",
    "SandboxServer",
    "SandboxState",
    "embedded_sandbox",
    "embedded_sandbox_running",
]

_embedded: SandboxServer | None = None
_embedded_lock = threading.Lock()


def embedded_sandbox(dialect: Dialect | str | None = None) -> SandboxServer:
    """The process-wide sandbox, started on first use (on a free port, with fresh keys, in
    ``dialect``, the default preset when ``None``) and kept until the process exits."""
    global _embedded
    with _embedded_lock:
        if _embedded is None:
            _embedded = SandboxServer(dialect=dialect).start()
        return _embedded


def embedded_sandbox_running() -> bool:
    """Whether this process has started its embedded sandbox."""
    return _embedded is not None
