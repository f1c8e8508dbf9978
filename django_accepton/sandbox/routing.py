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
    # Whether the account's dialect serves this route for these path arguments (``None``: always).
    served: Served | None = None


Served = Callable[[SandboxState, Mapping[str, str]], bool]


def route(
    method: str,
    pattern: str,
    handler: Handler,
    *,
    public: bool = False,
    served: Served | None = None,
) -> Route:
    return Route(method, re.compile(pattern), handler, public, served)


def resolve(
    routes: list[Route], method: str, path: str, state: SandboxState | None = None
) -> tuple[Route, dict[str, str]] | None:
    """The first route matching, among those the dialect serves; ``None`` when none does."""
    for candidate in routes:
        if candidate.method != method:
            continue
        match = candidate.pattern.fullmatch(path)
        if match is None:
            continue
        args = match.groupdict()
        if candidate.served is not None and state is not None and not candidate.served(state, args):
            continue
        return candidate, {key: value for key, value in args.items() if value is not None}
    return None
