"""The sandbox's stand-ins for what AcceptOn does in its dashboard, as django-accepton hooks.

The one module of the sandbox package meant to be named in a Django project's settings; like the
rest of the package it imports nothing but the standard library.

``make_recurring_token`` is a ``RECURRING_TOKEN_MAKER``: AcceptOn has no API call that makes a
plan's ``rtx_`` token (a merchant makes it in the dashboard and pastes it on the plan), so on a
sandbox the package asks the sandbox's test control to make one instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django_accepton import jsontext

from .control import PREFIX

RECURRING_TOKENS = PREFIX + "/recurring_tokens"


class HookError(RuntimeError):
    """The sandbox could not be asked, or refused."""


def make_recurring_token(plan_id: str, *, base_url: str, timeout: float = 10.0) -> str:
    """Have the sandbox at ``base_url`` make a recurring token for the plan; its id."""
    if not base_url.startswith(("http://", "https://")):
        raise HookError(f"The sandbox's URL must be http(s), not {base_url!r}.")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        base_url.rstrip("/") + RECURRING_TOKENS,
        data=json.dumps({"plan_id": plan_id}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body: Any = jsontext.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise HookError(
            f"The sandbox refused a recurring token for {plan_id}: HTTP {exc.code}"
        ) from None
    except (OSError, ValueError) as exc:
        raise HookError(f"The sandbox did not answer: {type(exc).__name__}") from None
    token = body.get("id") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise HookError("The sandbox answered without a token id.")
    return token
