"""The processes a bench run starts (sandbox, gunicorn, Celery workers, one-off measurements),
each with a deadline to be ready and a timeout, and none left behind on any way out.

Every long-lived process is started in a session of its own, so that it and its children
(gunicorn's and Celery's workers) are one process group: stopping it is SIGTERM to the group,
then SIGKILL to the group after a grace period. Whatever is still running when the run ends
(an exception, Ctrl-C, SIGTERM, SIGHUP) is stopped by ``stop_all``, called from ``finally``
blocks and registered with ``atexit``; SIGTERM and SIGHUP are turned into ``SystemExit`` so
that the ``finally`` blocks run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent

_running: list[Managed] = []


class NotReady(RuntimeError):
    """A process did not become ready before its deadline, or ended before it did."""


class Managed:
    """A started process (and its process group), stopped by ``stop`` or at the run's end."""

    def __init__(self, name: str, argv: Sequence[str], *, log: Path | None = None) -> None:
        """``log``: where its output goes (nowhere without it)."""
        self.name = name
        self.log = log
        output: Any = log.open("wb") if log else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                list(argv),
                cwd=ROOT,
                env=os.environ,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if log:
                output.close()
        _running.append(self)

    def log_tail(self, characters: int = 3000) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-characters:]

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self, check: Callable[[], bool], seconds: float, what: str) -> None:
        """Until ``check()`` is true; ``NotReady`` after ``seconds`` or when the process ends."""
        deadline = time.monotonic() + seconds
        while True:
            if not self.alive():
                raise NotReady(
                    f"{self.name} ended (exit status {self.process.returncode}) before {what}"
                    f"\n{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if check():
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise NotReady(f"{self.name}: {what} did not happen within {seconds:.0f} s")
            time.sleep(0.2)

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to the process group, SIGKILL to it after ``grace`` seconds."""
        if self in _running:
            _running.remove(self)
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            print(f"{self.name} did not stop in {grace:.0f} s: killed", file=sys.stderr)
        # Children outliving their parent (a prefork pool, gunicorn's workers) go too.
        self._signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def _signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, number)


def stop_all() -> None:
    for managed in list(reversed(_running)):
        managed.stop(grace=10)


def _exit_on_signal(number: int, _frame: Any) -> None:
    raise SystemExit(128 + number)


def install_handlers() -> None:
    atexit.register(stop_all)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _exit_on_signal)


def http_answers(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers at all (any status)."""

    def check() -> bool:
        requests.get(url, timeout=5)
        return True

    return check


def run_json(argv: Sequence[str], timeout: float, what: str) -> str:
    """Run a one-off measurement process and return its standard output; it is killed when it
    outlives ``timeout`` (``subprocess.run`` does that) and its standard error is shown when it
    fails."""
    try:
        finished = subprocess.run(  # noqa: S603 - our own interpreter and modules
            list(argv),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=os.environ,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} took more than {timeout:.0f} s and was stopped") from exc
    if finished.returncode:
        sys.stderr.write(finished.stderr[-4000:])
        raise RuntimeError(f"{what} failed (exit status {finished.returncode})")
    return finished.stdout
