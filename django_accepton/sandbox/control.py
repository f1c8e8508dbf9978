"""Test controls under ``/__sandbox__/``: not part of AcceptOn's API, so no key is needed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from . import validate
from .cards import TEST_CARDS
from .dialects import PRESETS
from .routing import JSON, Route, route
from .state import SandboxState

PREFIX = "/__sandbox__"


def _reset(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    state.reset()
    return 200, {"ok": True}


def _state(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.summary()


def _seed(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    resource = params.get("resource")
    created = state.seed(str(resource or ""), params.get("count"))
    return 201, {"resource": resource, "created": created, "state": state.summary()}


def _add_fault(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    fault = state.add_fault(params)
    return 201, {"fault": fault.to_json(), "pending": state.faults}


def _list_faults(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, {"pending": state.faults}


def _clear_faults(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    state.clear_faults()
    return 200, {"pending": []}


def _set_override(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    override = state.set_charge_override(
        amount=params.get("amount"),
        currency=params.get("currency"),
        status=params.get("status"),
        description=params.get("description"),
    )
    return 201, {"charge_override": override}


def _clear_override(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    state.clear_charge_override()
    return 200, {"charge_override": None}


def _recurring_token(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    plan_id = params.get("plan_id")
    return 201, state.create_recurring_token(plan_id if isinstance(plan_id, str) else "")


def _pay_token(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    """Pay a token as the form would, without a browser; card details default to a valid card."""
    card = params.get("card", TEST_CARDS["success"])
    details: Mapping[str, Any] = card if isinstance(card, Mapping) else {"number": card}
    next_year = datetime.now(UTC).year + 5
    metadata = params.get("metadata")
    token = params.get("token")
    return 201, state.create_form_charge(
        token if isinstance(token, str) else "",
        card_number=details.get("number", ""),
        exp_month=details.get("exp_month", 12),
        exp_year=details.get("exp_year", next_year),
        cvc=details.get("security_code", details.get("cvc", "123")),
        email=params.get("email", "customer@example.com"),
        promo_code=params.get("promo_code"),
        metadata=metadata if isinstance(metadata, Mapping) else None,
    )


def _create_subscription(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    plan_id = params.get("plan_id")
    return 201, state.create_subscription(
        plan_id if isinstance(plan_id, str) else "",
        params.get("email", "subscriber@example.com"),
        active=validate.boolean(params.get("active", True), "invalid_active", "active"),
        billed=validate.boolean(params.get("billed", False), "invalid_billed", "billed"),
    )


def _bill_subscription(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.bill_subscription(args["id"])


def _cancel_subscription(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.cancel_subscription(args["id"])


def _get_dialect(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    dialect = state.dialect
    return 200, {"name": dialect.name, "switches": dialect.to_json(), "presets": sorted(PRESETS)}


def _set_dialect(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    """``{"preset": "hostile"}``, optionally with single switches changed on top of it."""
    dialect = state.set_dialect(dict(params))
    return 200, {"name": dialect.name, "switches": dialect.to_json(), "presets": sorted(PRESETS)}


def _requests(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, {
        "requests": [
            {"method": r.method, "path": r.path, "status": r.status, "query": r.query}
            for r in state.request_log
        ]
    }


CONTROL_ROUTES: list[Route] = [
    route("POST", PREFIX + "/reset", _reset),
    route("GET", PREFIX + "/state", _state),
    route("POST", PREFIX + "/seed", _seed),
    route("GET", PREFIX + "/faults", _list_faults),
    route("POST", PREFIX + "/faults", _add_fault),
    route("DELETE", PREFIX + "/faults", _clear_faults),
    route("POST", PREFIX + "/charge_overrides", _set_override),
    route("DELETE", PREFIX + "/charge_overrides", _clear_override),
    route("POST", PREFIX + "/recurring_tokens", _recurring_token),
    route("POST", PREFIX + "/charges", _pay_token),
    route("POST", PREFIX + "/subscriptions", _create_subscription),
    route("POST", PREFIX + r"/subscriptions/(?P<id>[^/]+)/bill", _bill_subscription),
    route("POST", PREFIX + r"/subscriptions/(?P<id>[^/]+)/cancel", _cancel_subscription),
    route("GET", PREFIX + "/requests", _requests),
    route("GET", PREFIX + "/dialect", _get_dialect),
    route("PUT", PREFIX + "/dialect", _set_dialect),
]
