"""Injected failures: what a test asks the next matching requests to suffer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .errors import bad_request
from .validate import as_int

MAX_DELAY_SECONDS = 300.0


@dataclass
class Fault:
    """One injected failure, used up after ``count`` matching requests.

    Effects combine: a delay is served first, then ``status`` answers with an error body before
    the request touches any state, else the request is processed and ``malformed_json`` breaks
    its body, or ``drop_connection`` closes the socket without an answer.
    """

    count: int = 1
    status: int | None = None
    delay: float = 0.0
    malformed_json: bool = False
    drop_connection: bool = False
    path_prefix: str | None = None
    method: str | None = None
    error_type: str | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Fault:
        """A fault from the JSON a test posts to ``/__sandbox__/faults``; 400 when malformed."""
        count = as_int(spec.get("count", 1))
        if count is None or count < 1:
            raise bad_request("invalid_fault", "count must be a positive integer.")
        status = None
        if spec.get("status") not in (None, ""):
            status = as_int(spec.get("status"))
            if status is None or not 400 <= status <= 599:
                raise bad_request("invalid_fault", "status must be an HTTP error status (400-599).")
        delay = _delay(spec.get("delay", 0))
        malformed = _flag(spec, "malformed_json")
        drop = _flag(spec, "drop_connection")
        if status is None and not delay and not malformed and not drop:
            raise bad_request(
                "invalid_fault",
                "A fault needs status, delay, malformed_json or drop_connection.",
            )
        method = spec.get("method")
        path_prefix = spec.get("path_prefix")
        return cls(
            count=count,
            status=status,
            delay=delay,
            malformed_json=malformed,
            drop_connection=drop,
            path_prefix=str(path_prefix) if path_prefix else None,
            method=str(method).upper() if method else None,
            error_type=_text(spec.get("error_type")),
            message=_text(spec.get("message")),
        )


def _delay(value: object) -> float:
    if value in (None, "", 0):
        return 0.0
    seconds = -1.0
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_DELAY_SECONDS:
        raise bad_request(
            "invalid_fault", f"delay must be a number of seconds up to {MAX_DELAY_SECONDS:g}."
        )
    return seconds


def _flag(spec: Mapping[str, Any], key: str) -> bool:
    value = spec.get(key, False)
    return value is True or value in ("true", "True", "1", 1)


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
