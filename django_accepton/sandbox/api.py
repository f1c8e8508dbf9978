"""The AcceptOn API routes, as ``docs/api-calls.md`` lists them, mapped onto ``SandboxState``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .routing import JSON, Route, route
from .state import SandboxState

# AcceptOn's own documents disagree on the plans/subscriptions prefix: the dialect says which
# of the two (or both) this account serves.
_RECURRING = r"/v1(?P<recurring>/recurring)?"


def _prefix_served(state: SandboxState, args: Mapping[str, str]) -> bool:
    """Plans and subscriptions answer only under the prefixes the dialect serves."""
    served = state.dialect.recurring_paths
    return served == "both" or bool(args.get("recurring")) == (served == "recurring")


def _cancel_served(state: SandboxState, args: Mapping[str, str]) -> bool:
    # Every source cancels under /v1/subscriptions; the recurring prefix only when both are.
    return not args.get("recurring") or state.dialect.recurring_paths == "both"


def _ping(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    # AcceptOn never documented the answer; this shape is the sandbox's own.
    return 200, {"object": "ping", "ok": True}


def _create_token(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 201, state.create_token(
        params.get("amount"),
        currency=params.get("currency"),
        description=params.get("description"),
        application_fee=params.get("application_fee"),
        merchant_paypal_account=params.get("merchant_paypal_account"),
    )


def _retrieve_token(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.retrieve_token(args["id"])


def _form_configure(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    token_id = params.get("token_id")
    return 200, state.form_config(token_id if isinstance(token_id, str) else None)


def _form_charge(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    card = params.get("card")
    card = card if isinstance(card, Mapping) else {}
    metadata = params.get("metadata")
    token = params.get("token")
    return 201, state.create_form_charge(
        token if isinstance(token, str) else "",
        card_number=card.get("number", ""),
        exp_month=card.get("exp_month", ""),
        exp_year=card.get("exp_year", ""),
        cvc=card.get("security_code", card.get("cvc", "")),
        email=params.get("email", ""),
        promo_code=params.get("promo_code"),
        metadata=metadata if isinstance(metadata, Mapping) else None,
    )


def _retrieve_charge(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.retrieve_charge(args["id"])


def _list_charges(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.list_charges(
        page=params.get("page"),
        per_page=params.get("per_page"),
        amount=params.get("amount"),
        start_date=params.get("start_date"),
        end_date=params.get("end_date"),
        order_by=params.get("order_by"),
        order=params.get("order"),
    )


def _create_refund(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    charge_id = params.get("charge_id")
    return 201, state.create_refund(
        charge_id if isinstance(charge_id, str) else "",
        params.get("amount"),
        reason=params.get("reason"),
    )


def _create_plan(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 201, state.create_plan(
        params.get("name"),
        params.get("amount"),
        currency=params.get("currency"),
        period_unit=params.get("period_unit"),
    )


def _retrieve_plan(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.retrieve_plan(args["id"])


def _list_plans(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.list_plans(
        page=params.get("page"),
        per_page=params.get("per_page"),
        period_unit=params.get("period_unit"),
        order_by=params.get("order_by"),
        order=params.get("order"),
    )


def _retrieve_subscription(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.retrieve_subscription(args["id"])


def _list_subscriptions(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    # The documented key is the literal "plan.token"; PHP/Python users may send plan_token, and
    # a Rails-style client plan[token].
    plan = params.get("plan")
    plan_token = (
        params.get("plan.token")
        or params.get("plan_token")
        or (plan.get("token") if isinstance(plan, Mapping) else None)
    )
    return 200, state.list_subscriptions(
        page=params.get("page"),
        per_page=params.get("per_page"),
        active=params.get("active"),
        plan_token=plan_token if isinstance(plan_token, str) else None,
        order_by=params.get("order_by"),
        order=params.get("order"),
    )


def _cancel_subscription(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.cancel_subscription(args["id"])


def _create_promo_code(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 201, state.create_promo_code(
        params.get("name"), params.get("promo_type"), params.get("value")
    )


def _retrieve_promo_code(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.retrieve_promo_code(args["name"])


def _list_promo_codes(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.list_promo_codes(
        page=params.get("page"),
        per_page=params.get("per_page"),
        promo_type=params.get("promo_type"),
        order_by=params.get("order_by"),
        order=params.get("order"),
    )


def _update_promo_code(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.update_promo_code(
        args["name"],
        name=params.get("name"),
        promo_type=params.get("promo_type"),
        value=params.get("value"),
    )


def _delete_promo_code(
    state: SandboxState, params: Mapping[str, Any], args: Mapping[str, str]
) -> tuple[int, JSON]:
    return 200, state.delete_promo_code(args["name"])


API_ROUTES: list[Route] = [
    route("GET", r"/(?:v1/)?ping", _ping),
    route("POST", r"/v1/tokens", _create_token, public=True),
    route("GET", r"/v1/tokens/(?P<id>[^/]+)", _retrieve_token),
    route("GET", r"/v1/form/configure", _form_configure, public=True),
    route("POST", r"/v1/charges", _form_charge, public=True),
    route("GET", r"/v1/charges", _list_charges),
    route("GET", r"/v1/charges/(?P<id>[^/]+)", _retrieve_charge),
    route("POST", r"/v1/refunds", _create_refund),
    route("POST", _RECURRING + r"/plans", _create_plan, served=_prefix_served),
    route("GET", _RECURRING + r"/plans", _list_plans, served=_prefix_served),
    route("GET", _RECURRING + r"/plans/(?P<id>[^/]+)", _retrieve_plan, served=_prefix_served),
    route("GET", _RECURRING + r"/subscriptions", _list_subscriptions, served=_prefix_served),
    route(
        "GET",
        _RECURRING + r"/subscriptions/(?P<id>[^/]+)",
        _retrieve_subscription,
        served=_prefix_served,
    ),
    route(
        "POST",
        _RECURRING + r"/subscriptions/(?P<id>[^/]+)/cancel",
        _cancel_subscription,
        served=_cancel_served,
    ),
    route("POST", r"/v1/promo_codes", _create_promo_code),
    route("GET", r"/v1/promo_codes", _list_promo_codes),
    route("GET", r"/v1/promo_codes/(?P<name>[^/]+)", _retrieve_promo_code),
    route("PUT", r"/v1/promo_codes/(?P<name>[^/]+)", _update_promo_code),
    # The July-2015 reference used POST here; any old client doing so means an update.
    route("POST", r"/v1/promo_codes/(?P<name>[^/]+)", _update_promo_code),
    route("DELETE", r"/v1/promo_codes/(?P<name>[^/]+)", _delete_promo_code),
]
