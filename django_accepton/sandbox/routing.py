"""A tiny method + path-pattern router shared by the API and the test controls."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .state import SandboxState

JSON = dict[str, Any]
Handler = Callable[[SandboxState, Mapping[str, Any], Mapping[str, str]], tuple[int, JSON]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    # The public key opens only the routes a browser form needs; everything else wants the secret.
    public: bool = False


def route(method: str, pattern: str, handler: Handler, *, public: bool = False) -> Route:
    return Route(method, re.compile(pattern), handler, public)


def resolve(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in routes:
        if candidate.method != method:
            continue
        match = candidate.pattern.fullmatch(path)
        if match is not None:
            return candidate, match.groupdict()
    return None
