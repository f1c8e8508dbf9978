"""Rows belong to one AcceptOn environment; the API client talks to exactly one."""

from __future__ import annotations

from django_accepton.api import current_environment


class EnvironmentMismatch(ValueError):
    """The row was recorded in another environment than the one this site is configured for:
    its id means nothing to the API this site talks to."""


def require_current_environment(environment: str, what: str) -> str:
    current = current_environment()
    if environment != current:
        raise EnvironmentMismatch(
            f"{what} belongs to the {environment} environment; this site talks to {current}."
        )
    return current
