"""SandboxState: one in-memory AcceptOn account, the object behind every answer of the sandbox.

The account holds what is its own: its keys, its one lock, its clock, the dialect it follows,
the faults queued for it and the requests it answered. Its objects and the rules AcceptOn
applies to them live in ``resources``, one module per resource (each keeping its objects in a
``table.Table``), much as an emulator of a larger API keeps one model per service. Every public
method here is the way into one of them, so the API, the test controls and tests only ever hold
a ``SandboxState``; the resources reach back to it for the lock, the clock, the sequence
counter, the dialect, new ids, rendering and each other.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import deque
from collections.abc import Callable, Container, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from . import validate
from .dialects import DEFAULT, Dialect
from .errors import SandboxError, bad_request
from .faults import Fault
from .formats import hex_id, new_public_key, new_secret_key, to_millis
from .records import JSON, Charge, Ordered, RequestRecord, Subscription
from .resources import Charges, Plans, PromoCodes, Refunds, Subscriptions, Tokens
from .table import list_page

T = TypeVar("T", bound=Ordered)

SEEDABLE = ("subscriptions", "plans", "promo_codes", "charges")
MAX_SEED = 1_000_000


class SandboxState:
    """One AcceptOn account: keys, tokens, charges, refunds, plans, subscriptions, promo codes.

    Every public method takes the one lock (most of them in the resource they hand the call to),
    so the threaded server can call it from any thread. Methods return JSON-ready dicts (copies:
    mutating them never changes the state) or raise ``SandboxError`` carrying the status and
    error type the API answers with.
    """

    def __init__(
        self,
        public_key: str | None = None,
        secret_key: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        request_log_size: int = 100_000,
        dialect: Dialect | str = DEFAULT,
    ) -> None:
        self._lock = threading.RLock()
        self._dialect = Dialect.preset(dialect) if isinstance(dialect, str) else dialect
        self._public_key = public_key or new_public_key()
        self._secret_key = secret_key or new_secret_key()
        if self._public_key == self._secret_key:
            raise ValueError("The public and the secret key must differ.")
        self._clock = clock or (lambda: datetime.now(UTC))
        self._seq = itertools.count()
        self._log: deque[RequestRecord] = deque(maxlen=request_log_size)
        # Bumped by reset(): a request that started before it (one a fault keeps waiting, say)
        # records nothing in the new log.
        self._generation = 0
        self._faults: list[Fault] = []
        self._tokens = Tokens(self)
        self._charges = Charges(self)
        self._refunds = Refunds(self)
        self._plans = Plans(self)
        self._subscriptions = Subscriptions(self)
        self._promo_codes = PromoCodes(self)

    # ----- keys -------------------------------------------------------------------------------

    @property
    def public_key(self) -> str:
        return self._public_key

    @property
    def secret_key(self) -> str:
        return self._secret_key

    def key_role(self, key: str | None) -> str | None:
        """``"secret"``, ``"public"`` or ``None`` for a key that is neither."""
        if not key:
            return None
        given = key.encode()
        if secrets.compare_digest(given, self._secret_key.encode()):
            return "secret"
        if secrets.compare_digest(given, self._public_key.encode()):
            return "public"
        return None

    # ----- dialect ----------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        """The reading of AcceptOn's open points this account follows (``dialects``)."""
        return self._dialect

    def set_dialect(self, dialect: Dialect | str | Mapping[str, Any]) -> Dialect:
        """Switch to a preset (by name), a ``Dialect`` or a JSON spec (``Dialect.from_spec``)."""
        if isinstance(dialect, str):
            try:
                chosen = Dialect.preset(dialect)
            except ValueError as exc:
                raise bad_request("invalid_dialect", str(exc)) from None
        elif isinstance(dialect, Dialect):
            chosen = dialect
        else:
            chosen = Dialect.from_spec(dialect)
        with self._lock:
            self._dialect = chosen
            return chosen

    # ----- tokens -----------------------------------------------------------------------------

    def create_token(
        self,
        amount: object,
        currency: object = None,
        description: object = None,
        application_fee: object = None,
        merchant_paypal_account: object = None,
    ) -> JSON:
        """A one-off ``txn_`` token; every argument is checked as the API would (400 otherwise)."""
        return self._tokens.create_token(
            amount, currency, description, application_fee, merchant_paypal_account
        )

    def create_recurring_token(self, plan_id: str) -> JSON:
        """Mint an ``rtx_`` token for a plan, as AcceptOn's dashboard would (no API makes one)."""
        return self._tokens.create_recurring_token(plan_id)

    def retrieve_token(self, token_id: str) -> JSON:
        return self._tokens.retrieve_token(token_id)

    def form_config(self, token_id: str | None) -> JSON:
        """What the hosted form needs to render: the answer of ``GET /v1/form/configure``."""
        return self._tokens.form_config(token_id)

    # ----- charges ----------------------------------------------------------------------------

    def retrieve_charge(self, charge_id: str) -> JSON:
        return self._charges.retrieve_charge(charge_id)

    def list_charges(
        self,
        *,
        page: object = None,
        per_page: object = None,
        amount: object = None,
        start_date: str | date | None = None,
        end_date: str | date | None = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        return self._charges.list_charges(
            page=page,
            per_page=per_page,
            amount=amount,
            start_date=start_date,
            end_date=end_date,
            order_by=order_by,
            order=order,
        )

    def create_form_charge(
        self,
        token_id: str,
        card_number: object,
        exp_month: object,
        exp_year: object,
        cvc: object,
        email: object,
        promo_code: object = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A customer paying a token on the form: the only way charges come to exist.

        A one-off (``txn_``) token pays once; a recurring (``rtx_``) token can be paid by any
        number of customers and each payment subscribes the payer to the token's plan.
        """
        return self._charges.create_form_charge(
            token_id, card_number, exp_month, exp_year, cvc, email, promo_code, metadata
        )

    def set_charge_status(self, charge_id: str, status: object) -> JSON:
        """A charge's processor status moving on (a test control; see ``Charges``)."""
        return self._charges.set_charge_status(charge_id, status)

    def set_charge_override(
        self,
        *,
        amount: object = None,
        currency: object = None,
        status: object = None,
        description: object = None,
    ) -> JSON:
        """Make the next successful form charge differ from its token (tampering, processor
        rounding, a PayPal ``completed`` status...). Used once, then forgotten."""
        return self._charges.set_charge_override(
            amount=amount, currency=currency, status=status, description=description
        )

    def clear_charge_override(self) -> None:
        self._charges.clear_charge_override()

    # ----- refunds ----------------------------------------------------------------------------

    def create_refund(self, charge_id: str, amount: object, reason: object = None) -> JSON:
        """Refund part or all of what is left on a charge; several partial refunds add up."""
        return self._refunds.create_refund(charge_id, amount, reason)

    def refunds_for_charge(self, charge_id: str) -> list[JSON]:
        """Oldest first. Not an API call: AcceptOn has no refund listing."""
        return self._refunds.refunds_for_charge(charge_id)

    # ----- plans ------------------------------------------------------------------------------

    def create_plan(
        self,
        name: object,
        amount: object,
        currency: object = None,
        period_unit: object = None,
    ) -> JSON:
        return self._plans.create_plan(name, amount, currency, period_unit)

    def retrieve_plan(self, plan_id: str) -> JSON:
        return self._plans.retrieve_plan(plan_id)

    def list_plans(
        self,
        *,
        page: object = None,
        per_page: object = None,
        period_unit: object = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        return self._plans.list_plans(
            page=page, per_page=per_page, period_unit=period_unit, order_by=order_by, order=order
        )

    # ----- subscriptions ----------------------------------------------------------------------

    def create_subscription(
        self,
        plan_id: str,
        email: object,
        *,
        active: bool = True,
        billed: bool = False,
    ) -> JSON:
        """A subscription without a payment: a test shortcut, AcceptOn has no such call."""
        return self._subscriptions.create_subscription(plan_id, email, active=active, billed=billed)

    def retrieve_subscription(self, subscription_id: str) -> JSON:
        return self._subscriptions.retrieve_subscription(subscription_id)

    def list_subscriptions(
        self,
        *,
        page: object = None,
        per_page: object = None,
        active: object = None,
        plan_token: str | None = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        return self._subscriptions.list_subscriptions(
            page=page,
            per_page=per_page,
            active=active,
            plan_token=plan_token,
            order_by=order_by,
            order=order,
        )

    def cancel_subscription(self, subscription_id: str) -> JSON:
        return self._subscriptions.cancel_subscription(subscription_id)

    def bill_subscription(self, subscription_id: str) -> JSON:
        """A renewal, as AcceptOn would run it: a charge for the plan, ``last_billed_at`` moved."""
        return self._subscriptions.bill_subscription(subscription_id)

    # ----- promo codes ------------------------------------------------------------------------

    def create_promo_code(self, name: object, promo_type: object, value: object) -> JSON:
        return self._promo_codes.create_promo_code(name, promo_type, value)

    def retrieve_promo_code(self, name: str) -> JSON:
        return self._promo_codes.retrieve_promo_code(name)

    def list_promo_codes(
        self,
        *,
        page: object = None,
        per_page: object = None,
        promo_type: object = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        return self._promo_codes.list_promo_codes(
            page=page, per_page=per_page, promo_type=promo_type, order_by=order_by, order=order
        )

    def update_promo_code(
        self,
        original_name: str,
        name: object = None,
        promo_type: object = None,
        value: object = None,
    ) -> JSON:
        """Change (and possibly rename) a code; a field left out keeps its value."""
        return self._promo_codes.update_promo_code(original_name, name, promo_type, value)

    def delete_promo_code(self, name: str) -> JSON:
        return self._promo_codes.delete_promo_code(name)

    # ----- test controls ----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, fault, override and logged request; the keys stay."""
        with self._lock:
            self._generation += 1
            self._log.clear()
            self._faults.clear()
            self._tokens.clear()
            self._charges.clear()  # and the pending override
            self._refunds.clear()
            self._plans.clear()
            self._subscriptions.clear()
            self._promo_codes.clear()

    def seed(self, resource: str, count: object) -> int:
        """Bulk-create ``count`` plausible objects dated before now, oldest first; returns the
        number created. Subscriptions are spread over the existing plans (three are created
        when there are none)."""
        if resource not in SEEDABLE:
            raise bad_request(
                "invalid_resource", f"resource must be one of: {', '.join(SEEDABLE)}."
            )
        number = validate.as_int(count)
        if number is None or not 1 <= number <= MAX_SEED:
            raise bad_request("invalid_count", f"count must be between 1 and {MAX_SEED}.")
        with self._lock:
            now = self._now()
            if resource == "plans":
                self._plans.seed(number, now)
            elif resource == "subscriptions":
                self._subscriptions.seed(number, now)
            elif resource == "charges":
                self._charges.seed(number, now)
            else:
                self._promo_codes.seed(number, now)
            return number

    def add_fault(self, fault: Fault | Mapping[str, Any]) -> Fault:
        """Queue a fault (or its JSON spec, see ``Fault.from_spec``); faults are tried in order."""
        checked = fault if isinstance(fault, Fault) else Fault.from_spec(fault)
        with self._lock:
            self._faults.append(checked)
            return checked

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first queued fault matching the request, counted as used once."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        del self._faults[index]
                    return fault
            return None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[JSON]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def summary(self) -> JSON:
        """Counts for ``GET /__sandbox__/state``. Holds no secret key."""
        with self._lock:
            return {
                "public_key": self._public_key,
                "tokens": len(self._tokens),
                "charges": len(self._charges),
                "refunds": len(self._refunds),
                "plans": len(self._plans),
                "subscriptions": len(self._subscriptions),
                "active_subscriptions": self._subscriptions.active_count(),
                "promo_codes": len(self._promo_codes),
                "requests": len(self._log),
                "pending_faults": len(self._faults),
                "charge_override": self._charges.override_pending,
            }

    # ----- request log ------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """How many times the state was reset: a request notes it when it arrives."""
        return self._generation

    def record_request(
        self, method: str, path: str, status: int, query: str = "", *, generation: int | None = None
    ) -> None:
        """Log an answered request, unless the state was reset since it arrived (``generation``):
        a request a fault kept waiting then belongs to a test that is over."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._log.append(RequestRecord(method.upper(), path, status, query))

    @property
    def request_log(self) -> list[RequestRecord]:
        """API requests answered since the last reset (at most ``request_log_size``, newest kept).
        Calls to the ``/__sandbox__/`` test controls are left out."""
        with self._lock:
            return list(self._log)

    def request_count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        wanted = method.upper() if method else None
        with self._lock:
            return sum(
                1
                for record in self._log
                if (wanted is None or record.method == wanted)
                and (path_prefix is None or record.path.startswith(path_prefix))
            )

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    # ----- what the resources share (the lock is held by the caller) --------------------------

    def _render(self, item: Ordered) -> JSON:
        """An object's JSON as this dialect shapes it."""
        data = item.to_json()
        dialect = self._dialect
        if isinstance(item, Charge):
            if dialect.refunded_flag == "any":
                data["refunded"] = item.refunded_amount > 0
            if dialect.charge_timestamp == "created":
                data["created"] = data.pop("created_at")
        elif isinstance(item, Subscription) and dialect.subscription_order == "refused":
            data.pop("created_at", None)
        return data

    def _page(self, items: Sequence[T], field: str, desc: bool, page: int, per_page: int) -> JSON:
        """One page of ``items`` (oldest first), rendered, with ``total`` as the dialect counts."""
        return list_page(
            items,
            field,
            desc,
            page,
            per_page,
            self._render,
            total_counts_page=self._dialect.total == "page",
        )

    def _now(self) -> datetime:
        """The clock's time, to the millisecond: every timestamp the account hands out."""
        return to_millis(self._clock())

    def _unique(self, existing: Container[str], prefix: str, digits: int) -> str:
        """A fresh ``prefix`` + ``digits`` hex id that ``existing`` does not hold yet."""
        while True:
            candidate = hex_id(prefix, digits)
            if candidate not in existing:
                return candidate


__all__ = ["SEEDABLE", "SandboxError", "SandboxState"]
