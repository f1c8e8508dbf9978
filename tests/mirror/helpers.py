"""Objects the mirror, admin, sync and task tests start from, made through the real paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from django_accepton.models import Charge
from django_accepton.sandbox import SandboxServer
from django_accepton.services.tokens import mint_token
from django_accepton.services.verification import Reason, verify_charge
from django_accepton.signals import charge_refunded


def pay_token(sandbox: SandboxServer, token_id: str) -> dict[str, Any]:
    """Pay a token as the hosted form would, through the sandbox's test control."""
    answer = requests.post(
        f"{sandbox.url}/__sandbox__/charges", json={"token": token_id}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def verified_charge(sandbox: SandboxServer, amount: int = 5000, order: str = "1") -> Charge:
    """A charge paid in the sandbox and verified through checkout, as a store would have it."""
    token = mint_token(
        {"amount": amount, "currency": "usd", "description": f"Order {order}"}, reuse=False
    )
    remote = pay_token(sandbox, token.pk)
    result = verify_charge(remote["id"], token.pk)
    assert result.reason is Reason.OK, result.reason
    return Charge.objects.get(pk=remote["id"])


def fault(sandbox: SandboxServer, **spec: Any) -> None:
    sandbox.state.add_fault(spec)


def api_calls(sandbox: SandboxServer, method: str, path_prefix: str) -> int:
    return sandbox.state.request_count(method, path_prefix)


def recurring(sandbox: SandboxServer, resource: str) -> str:
    """The path plans or subscriptions are served under in the sandbox's dialect (the client
    finds it): ``/v1/recurring/…`` unless the dialect serves only ``/v1/…``."""
    plain = sandbox.state.dialect.recurring_paths == "plain"
    return f"/v1/{resource}" if plain else f"/v1/recurring/{resource}"


@contextmanager
def refunds_announced() -> Iterator[list[dict[str, Any]]]:
    """The arguments (``charge``, ``amount``, ``full``, ``source``) of every ``charge_refunded``
    sent inside the block, in order."""
    heard: list[dict[str, Any]] = []

    def receive(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    charge_refunded.connect(receive, weak=False, dispatch_uid="refunds-announced")
    try:
        yield heard
    finally:
        charge_refunded.disconnect(dispatch_uid="refunds-announced")
