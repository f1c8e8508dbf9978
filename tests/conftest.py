"""Suite-wide fixtures and the rule that CI never skips a test."""

from __future__ import annotations

import os

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


@pytest.fixture
def accepton(accepton_sandbox, settings):
    """Point django-accepton at this session's sandbox server, with fresh state."""
    from django_accepton.services.tokens import token_cache_stats

    settings.ACCEPTON = {
        "ENVIRONMENT": "sandbox",
        "BASE_URL": accepton_sandbox.url,
        "SECRET_KEY": accepton_sandbox.secret_key,
        "PUBLIC_KEY": accepton_sandbox.public_key,
        # Faults are injected per test: a retry would only consume them and slow the suite.
        "MAX_RETRIES": 0,
    }
    token_cache_stats.reset()
    return accepton_sandbox
