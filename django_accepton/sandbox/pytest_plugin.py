"""pytest fixtures for the AcceptOn sandbox (registered as the ``accepton_sandbox`` plugin).

``accepton_sandbox`` gives each test the session's running ``SandboxServer`` with its state
emptied, its faults cleared and its dialect set; the keys stay the same for the whole session.
It needs no Django and works in any test suite. ``accepton_settings`` adds, for Django projects,
settings that point django-accepton at that sandbox.

Dialects (``django_accepton.sandbox.dialects``): a test runs under the default preset,
``strict-docs``, unless it is marked ``@pytest.mark.accepton_dialect("classic")`` (one preset or
a ``Dialect``), or marked ``@pytest.mark.accepton_dialects`` to run once under every preset
(``--accepton-dialects=hostile,classic`` narrows that list for a run). The ``accepton_dialect``
fixture names the preset the test runs under.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .dialects import DEFAULT, PRESETS, Dialect
from .server import SandboxServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--accepton-dialects",
        default=",".join(PRESETS),
        help="comma-separated sandbox presets that tests marked accepton_dialects run under "
        f"(default: all of {', '.join(PRESETS)})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "accepton_dialect(preset): run against the sandbox in this dialect"
    )
    config.addinivalue_line(
        "markers", "accepton_dialects: run once against the sandbox under each dialect preset"
    )


def _chosen_presets(config: pytest.Config) -> list[str]:
    names = [name.strip() for name in str(config.getoption("--accepton-dialects")).split(",")]
    unknown = [name for name in names if name not in PRESETS]
    if unknown or not names:
        raise pytest.UsageError(
            f"--accepton-dialects: unknown preset(s) {', '.join(unknown)}; "
            f"choose from {', '.join(PRESETS)}"
        )
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "accepton_dialect" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    if definition.get_closest_marker("accepton_dialects") is None:
        return
    if any(mark.name == "accepton_dialect" for mark in definition.iter_markers()):
        return  # a test that names its dialect runs in that one only
    metafunc.parametrize("accepton_dialect", _chosen_presets(metafunc.config), indirect=True)


@pytest.fixture
def accepton_dialect(request: pytest.FixtureRequest) -> Dialect:
    """The dialect this test's sandbox speaks."""
    chosen: Any = getattr(request, "param", None)
    if chosen is None:
        marker = request.node.get_closest_marker("accepton_dialect")
        chosen = marker.args[0] if marker is not None and marker.args else DEFAULT
    return chosen if isinstance(chosen, Dialect) else Dialect.preset(chosen)


@pytest.fixture(scope="session")
def accepton_sandbox_session() -> Iterator[SandboxServer]:
    """One sandbox server for the whole test session."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def accepton_sandbox(
    accepton_sandbox_session: SandboxServer, accepton_dialect: Dialect
) -> Iterator[SandboxServer]:
    """The session's sandbox, emptied for this test (objects, faults, overrides, request log)
    and speaking ``accepton_dialect``."""
    accepton_sandbox_session.state.reset()
    accepton_sandbox_session.state.set_dialect(accepton_dialect)
    yield accepton_sandbox_session
    accepton_sandbox_session.state.reset()


@pytest.fixture
def accepton_settings(accepton_sandbox: SandboxServer, settings: Any) -> SandboxServer:
    """For Django projects (needs pytest-django): ``settings.ACCEPTON`` points at the sandbox.

    The store under test then mints tokens, verifies charges and syncs against the emptied
    session sandbox. Retries are off, so that a fault a test injects is seen, not retried away.
    Recurring tokens for plans are made by the sandbox, standing in for AcceptOn's dashboard.
    The percentage scale is the sandbox's, as a store sets it after checking its account.
    """
    scale = accepton_sandbox.state.dialect.percent_scale
    settings.ACCEPTON = {
        **getattr(settings, "ACCEPTON", {}),
        "ENVIRONMENT": "sandbox",
        "BASE_URL": accepton_sandbox.url,
        "SECRET_KEY": accepton_sandbox.secret_key,
        "PUBLIC_KEY": accepton_sandbox.public_key,
        "MAX_RETRIES": 0,
        "RECURRING_TOKEN_MAKER": "django_accepton.sandbox.hooks.make_recurring_token",
        "PROMO_PERCENT_SCALE": "percent" if scale == "percent" else "fraction",
    }
    return accepton_sandbox
