"""Watches the whole suite for secret keys leaking into logs, responses or failures.

Every secret key a test uses (the sandbox's, the embedded sandbox's, whatever ``ACCEPTON``
names) is registered; every log record at any level, every response served through Django's
middleware, and every failed test's report is searched for them. The session fails if one is
found, and the terminal summary says how much was searched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse

KEY_SHAPE = re.compile(r"skey_[A-Za-z0-9]{8,}")


@dataclass
class Watch:
    secrets: set[str] = field(default_factory=set)
    log_records: int = 0
    responses: int = 0
    reports: int = 0
    leaks: list[str] = field(default_factory=list)

    def register(self, key: str | None) -> None:
        if key and KEY_SHAPE.fullmatch(key):
            self.secrets.add(key)

    def scan(self, where: str, text: str) -> None:
        for key in self.secrets:
            if key in text or key[5:] in text:
                self.leaks.append(f"{where}: contains the secret key ending {key[-4:]}")


watch = Watch()


class _LeakHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        watch.log_records += 1
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging call's bug, not a leak
            text = str(record.msg)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        watch.scan(f"log record {record.name}", text)


class ScanResponsesMiddleware:
    """Test-only middleware: every page and JSON answer is searched for secret keys."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        watch.register(getattr(settings, "ACCEPTON", {}).get("SECRET_KEY"))
        if not response.streaming:
            watch.responses += 1
            body = response.content.decode("utf-8", "replace")
            headers = "\n".join(f"{k}: {v}" for k, v in response.items())
            watch.scan(f"response to {request.method} {request.path}", headers + body)
        return response


def pytest_configure(config: pytest.Config) -> None:
    handler = _LeakHandler(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    # DEBUG everywhere, so that a key in a debug line cannot hide below the default level.
    root.setLevel(logging.DEBUG)
    for noisy in ("urllib3", "faker", "asyncio", "hypothesis", "celery", "kombu", "amqp"):
        logging.getLogger(noisy).setLevel(logging.INFO)


@pytest.fixture(autouse=True)
def _register_secret_keys(request: pytest.FixtureRequest) -> Any:
    from django_accepton import sandbox

    if "accepton_sandbox" in request.fixturenames or "accepton" in request.fixturenames:
        watch.register(request.getfixturevalue("accepton_sandbox_session").secret_key)
    yield
    embedded = sandbox._embedded
    if embedded is not None:
        watch.register(embedded.secret_key)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        watch.reports += 1
        watch.scan(f"failure report of {item.nodeid}", report.longreprtext)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if watch.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_sep("-", "secret keys")
    terminalreporter.write_line(
        f"searched {watch.log_records} log records, {watch.responses} responses and "
        f"{watch.reports} failure reports for {len(watch.secrets)} secret keys: "
        f"{len(watch.leaks)} leaks"
    )
    for leak in sorted(set(watch.leaks))[:20]:
        terminalreporter.write_line(f"  LEAK {leak}", red=True)
