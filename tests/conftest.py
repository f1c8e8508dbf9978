"""Suite-wide fixtures and the rule that CI never skips a test."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Playwright keeps an asyncio loop in the test thread; Django's ORM would otherwise refuse to run.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() == "true"

pytest_plugins = ["tests.secret_watch"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test means a service was missing: that is a failure, not a pass."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        if reporter:
            reporter.write_line(
                f"CI=true and {len(skipped)} test(s) were skipped: failing the run.", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the routes count unknown charge ids per address)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def accepton(accepton_settings):
    """The package's own ``accepton_settings`` fixture, with the token counters at zero."""
    from django_accepton.services.tokens import token_cache_stats

    token_cache_stats.reset()
    return accepton_settings


@pytest.fixture
def signal_log():
    """Every charge_verified / charge_rejected sent during the test, in order."""
    from django_accepton.signals import charge_rejected, charge_verified

    log: list[tuple[str, str, str]] = []

    def on_verified(sender: Any, charge: Any, token: Any, **kwargs: Any) -> None:
        log.append(("verified", charge.pk, token.pk))

    def on_rejected(sender: Any, charge_id: str, token: Any, reason: str, **kwargs: Any) -> None:
        log.append(("rejected", charge_id, str(reason)))

    charge_verified.connect(on_verified, weak=False, dispatch_uid="test-verified")
    charge_rejected.connect(on_rejected, weak=False, dispatch_uid="test-rejected")
    yield log
    charge_verified.disconnect(dispatch_uid="test-verified")
    charge_rejected.disconnect(dispatch_uid="test-rejected")


# Figures the proof tests measure, printed as one table at the end of the run (`make proofs`).
# Each row: (the test module, the figure, what was measured, what it must be).
PROOF_FIGURES: list[tuple[str, str, str, str]] = []


@pytest.fixture
def proof(request):
    """Record a measured figure beside what it must be: ``proof(name, measured, required)``.
    A test run under several sandbox dialects names the dialect after the figure."""
    callspec = getattr(request.node, "callspec", None)
    dialect = callspec.params.get("accepton_dialect") if callspec is not None else None
    module = request.node.nodeid.split("::", 1)[0]

    def record(name: str, measured: object, required: object) -> None:
        label = f"{name} [{dialect}]" if dialect else name
        PROOF_FIGURES.append((module, label, str(measured), str(required)))

    return record


def pytest_terminal_summary(terminalreporter) -> None:
    if not PROOF_FIGURES:
        return
    width = max(len(name) for _, name, _, _ in PROOF_FIGURES)
    measured_width = max(len("measured"), *(len(measured) for _, _, measured, _ in PROOF_FIGURES))
    terminalreporter.write_sep("-", "proofs")
    terminalreporter.write_line(
        "What the proof tests measured in this run, beside what each figure must be; a test "
        "fails when its figure misses. How each is measured: docs/proofs.md."
    )
    module = None
    for where, name, measured, required in PROOF_FIGURES:
        if where != module:
            module = where
            terminalreporter.write_line("")
            terminalreporter.write_line(f"{where}")
            terminalreporter.write_line(
                f"  {'figure'.ljust(width)}  {'measured':>{measured_width}}  required"
            )
        terminalreporter.write_line(
            f"  {name.ljust(width)}  {measured:>{measured_width}}  {required}"
        )
