"""SandboxState: the in-memory AcceptOn account behind the sandbox, with its business rules."""

from __future__ import annotations

import bisect
import itertools
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from . import errors, validate
from .cards import check_cvc, check_expiry, decline_for, normalise_number
from .dialects import DEFAULT, Dialect
from .errors import SandboxError, bad_request, not_found
from .faults import Fault
from .formats import alnum, hex_id, new_public_key, new_secret_key, parse_date_bound, to_millis
from .pricing import discounted
from .records import (
    JSON,
    Charge,
    Ordered,
    Plan,
    PromoCode,
    Refund,
    RequestRecord,
    Subscription,
    Token,
    order_key,
)

T = TypeVar("T", bound=Ordered)

SEEDABLE = ("subscriptions", "plans", "promo_codes", "charges")
MAX_SEED = 1_000_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_CHARGE_ORDER_BY = ("created_at", "amount")
_PLAN_ORDER_BY = ("created_at", "amount", "name")
_SUBSCRIPTION_ORDER_BY = ("created_at", "email")
_PROMO_ORDER_BY = ("created_at", "name", "value")


class SandboxState:
    """One AcceptOn account: keys, tokens, charges, refunds, plans, subscriptions, promo codes.

    Every public method takes the one lock, so the threaded server can call it from any thread.
    Methods return JSON-ready dicts (copies: mutating them never changes the state) or raise
    ``SandboxError`` carrying the status and error type the API answers with.
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
        self._faults: list[Fault] = []
        self._charge_override: JSON | None = None
        self._tokens: dict[str, Token] = {}
        self._charges: dict[str, Charge] = {}
        self._charge_order: list[Charge] = []
        self._refunds: dict[str, Refund] = {}
        self._plans: dict[str, Plan] = {}
        self._plan_order: list[Plan] = []
        self._subscriptions: dict[str, Subscription] = {}
        self._subscription_order: list[Subscription] = []
        self._promos: dict[str, PromoCode] = {}
        self._promo_order: list[PromoCode] = []

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
        checked_amount = validate.positive_int(amount)
        # AcceptOn's example answers currency null when none was sent; the sandbox does the same.
        checked_currency = validate.currency(currency, None)
        fee = validate.optional_non_negative_int(
            application_fee,
            "invalid_application_fee",
            "The application fee is not a non-negative integer.",
        )
        text = validate.optional_text(description, "invalid_description", "description")
        paypal = validate.optional_text(
            merchant_paypal_account, "invalid_merchant_paypal_account", "merchant PayPal account"
        )
        with self._lock:
            token = Token(
                id=self._unique(self._tokens, "txn_", 32),
                seq=next(self._seq),
                created=self._now(),
                amount=checked_amount,
                currency=checked_currency,
                description=text,
                application_fee=fee,
                merchant_paypal_account=paypal or None,
            )
            self._tokens[token.id] = token
            return token.to_json()

    def create_recurring_token(self, plan_id: str) -> JSON:
        """Mint an ``rtx_`` token for a plan, as AcceptOn's dashboard would (no API makes one)."""
        with self._lock:
            plan = self._plan(plan_id)
            token = Token(
                id=self._unique(self._tokens, "rtx_", 32),
                seq=next(self._seq),
                created=self._now(),
                amount=plan.amount,
                currency=plan.currency,
                description=plan.name,
                application_fee=None,
                merchant_paypal_account=None,
                plan=plan,
            )
            self._tokens[token.id] = token
            return token.to_json()

    def retrieve_token(self, token_id: str) -> JSON:
        with self._lock:
            if token_id.startswith("rtx_") and self._dialect.rtx_retrieve == "no":
                raise not_found("invalid_token", errors.UNKNOWN_TXN)
            return self._token(token_id).to_json()

    def form_config(self, token_id: str | None) -> JSON:
        """What the hosted form needs to render: the answer of ``GET /v1/form/configure``."""
        with self._lock:
            token = self._token(token_id or "")
            summary: JSON = {
                "id": token.id,
                "amount": token.amount,
                "currency": token.currency or "usd",
                "description": token.description,
            }
            if token.plan is not None:
                summary["plan"] = token.plan.to_json()
            return {
                "config": {
                    "payment_methods": ["credit-card"],
                    "token": summary,
                    "promo_codes_enabled": True,
                }
            }

    # ----- charges ----------------------------------------------------------------------------

    def retrieve_charge(self, charge_id: str) -> JSON:
        with self._lock:
            return self._render(self._charge(charge_id))

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
        page_number, size = validate.paging(page, per_page)
        if self._dialect.charge_paging == "ignored":
            page_number = 1  # the page asked for is checked, then ignored
        field = validate.order_by(order_by, _CHARGE_ORDER_BY)
        desc = validate.order(order, default_desc=True)
        wanted_amount = None
        if amount not in (None, ""):
            wanted_amount = validate.as_int(amount)
            if wanted_amount is None:
                raise bad_request("invalid_amount", errors.INVALID_AMOUNT)
        start = _date_bound(start_date, "start_date", end=False)
        end = _date_bound(end_date, "end_date", end=True)
        with self._lock:
            items = self._charge_order
            low, high = 0, len(items)
            if start is not None:
                low = bisect.bisect_left(items, start[0], key=_created_at)
            if end is not None:
                search = bisect.bisect_right if end[1] else bisect.bisect_left
                high = search(items, end[0], key=_created_at)
            matches = items[low:high] if start is not None or end is not None else items
            if wanted_amount is not None:
                matches = [charge for charge in matches if charge.amount == wanted_amount]
            return self._page(matches, field, desc, page_number, size)

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
        if metadata is not None and not isinstance(metadata, Mapping):
            raise bad_request("invalid_metadata", "The metadata must be an object.")
        with self._lock:
            token = self._token(token_id)
            once = self._dialect.token_payments == "once"  # noqa: S105 - a dialect setting
            if token.plan is None and once and token.paid_by is not None:
                raise bad_request("token_already_used", "This transaction token was already paid.")
            number = normalise_number(card_number)
            check_expiry(exp_month, exp_year, self._now().date())
            check_cvc(cvc)
            if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
                raise bad_request("invalid_email", "The email address is invalid.")
            promo = None
            if promo_code not in (None, ""):
                promo = self._promos.get(str(promo_code).strip())
                if promo is None:
                    raise bad_request("invalid_promo_code", "That promo code does not exist.")
            declined = decline_for(number)
            if declined is not None:
                raise declined
            recorded: JSON = dict(metadata or {})
            recorded["email"] = email.strip()
            amount = token.amount
            if promo is not None:
                if self._dialect.promo_on_charge == "metadata":
                    recorded["promo_code"] = promo.name
                amount = discounted(
                    amount, promo.promo_type, promo.value, self._dialect.percent_scale
                )
            charge = self._add_charge(
                amount=amount,
                currency=token.currency or "usd",
                description=token.description,
                application_fee=token.application_fee,
                metadata=recorded,
                token_id=token.id,
                override=self._take_charge_override(),
            )
            if token.plan is None:
                token.paid_by = token.paid_by or charge.id
            else:
                self._add_subscription(
                    token.plan, email.strip(), created_at=charge.created_at, billed=True
                )
            return self._render(charge)

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
        override: JSON = {}
        if amount is not None:
            checked = validate.as_int(amount)
            if checked is None or checked < 0:
                raise bad_request("invalid_amount", errors.INVALID_AMOUNT)
            override["amount"] = checked
        if currency is not None:
            override["currency"] = validate.currency(currency, None)
        if status is not None:
            if not isinstance(status, str) or not status:
                raise bad_request("invalid_status", "The status must be a non-empty string.")
            override["status"] = status
        if description is not None:
            override["description"] = str(description)
        if not override:
            raise bad_request(
                "invalid_override", "Give at least one of amount, currency, status, description."
            )
        with self._lock:
            self._charge_override = override
            return dict(override)

    def clear_charge_override(self) -> None:
        with self._lock:
            self._charge_override = None

    # ----- refunds ----------------------------------------------------------------------------

    def create_refund(self, charge_id: str, amount: object, reason: object = None) -> JSON:
        """Refund part or all of what is left on a charge; several partial refunds add up."""
        checked = validate.positive_int(amount)
        why = validate.optional_text(reason, "invalid_reason", "reason") or "requested_by_customer"
        with self._lock:
            charge = self._charge(charge_id)
            if checked > charge.refundable:
                raise bad_request(
                    "invalid_amount",
                    f"The amount exceeds what is left to refund on this charge "
                    f"({charge.refundable}).",
                )
            refund = Refund(
                id=self._unique(self._refunds, "ref_", 16),
                seq=next(self._seq),
                created_at=self._now(),
                amount=checked,
                currency=charge.currency,
                reason=why,
                charge_id=charge.id,
            )
            self._refunds[refund.id] = refund
            charge.refunded_amount += checked
            return refund.to_json()

    def refunds_for_charge(self, charge_id: str) -> list[JSON]:
        """Oldest first. Not an API call: AcceptOn has no refund listing."""
        with self._lock:
            self._charge(charge_id)
            return [
                refund.to_json()
                for refund in self._refunds.values()
                if refund.charge_id == charge_id
            ]

    # ----- plans ------------------------------------------------------------------------------

    def create_plan(
        self,
        name: object,
        amount: object,
        currency: object = None,
        period_unit: object = None,
    ) -> JSON:
        checked_name = validate.required_name(name)
        checked_amount = validate.positive_int(amount)
        checked_currency = validate.currency(currency, "usd") or "usd"
        unit = validate.period_unit(period_unit)
        with self._lock:
            plan = self._add_plan(checked_name, checked_amount, checked_currency, unit, self._now())
            return plan.to_json()

    def retrieve_plan(self, plan_id: str) -> JSON:
        with self._lock:
            return self._plan(plan_id).to_json()

    def list_plans(
        self,
        *,
        page: object = None,
        per_page: object = None,
        period_unit: object = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        page_number, size = validate.paging(page, per_page)
        field = validate.order_by(order_by, _PLAN_ORDER_BY)
        # Plans are the one list AcceptOn's fixtures show oldest first.
        desc = validate.order(order, default_desc=False)
        unit = None if period_unit in (None, "") else validate.period_unit(period_unit)
        with self._lock:
            matches = self._plan_order
            if unit is not None:
                matches = [plan for plan in matches if plan.period_unit == unit]
            return self._page(matches, field, desc, page_number, size)

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
        if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
            raise bad_request("invalid_email", "The email address is invalid.")
        with self._lock:
            plan = self._plan(plan_id)
            subscription = self._add_subscription(plan, email.strip(), self._now(), billed=billed)
            subscription.active = bool(active)
            return self._render(subscription)

    def retrieve_subscription(self, subscription_id: str) -> JSON:
        with self._lock:
            return self._render(self._subscription(subscription_id))

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
        page_number, size = validate.paging(page, per_page)
        if self._dialect.subscription_order == "refused":
            # Subscriptions carry no creation time in this reading: nothing to order them by
            # but their email; the default order stays newest first.
            if order_by not in (None, ""):
                validate.order_by(order_by, ("email",))
                field = "email"
            else:
                field = "created_at"
        else:
            field = validate.order_by(order_by, _SUBSCRIPTION_ORDER_BY)
        desc = validate.order(order, default_desc=True)
        wanted_active = (
            None if active in (None, "") else validate.boolean(active, "invalid_active", "active")
        )
        with self._lock:
            matches = self._subscription_order
            if plan_token:
                matches = [sub for sub in matches if sub.plan.id == plan_token]
            if wanted_active is not None:
                matches = [sub for sub in matches if sub.active is wanted_active]
            return self._page(matches, field, desc, page_number, size)

    def cancel_subscription(self, subscription_id: str) -> JSON:
        with self._lock:
            subscription = self._subscriptions.get(subscription_id)
            if subscription is None or not subscription.active:
                raise bad_request("unable_to_cancel_subscription", errors.UNABLE_TO_CANCEL)
            subscription.active = False
            return self._render(subscription)

    def bill_subscription(self, subscription_id: str) -> JSON:
        """A renewal, as AcceptOn would run it: a charge for the plan, ``last_billed_at`` moved."""
        with self._lock:
            subscription = self._subscription(subscription_id)
            if not subscription.active:
                raise bad_request(
                    "unable_to_bill_subscription", "A cancelled subscription cannot be billed."
                )
            plan = subscription.plan
            charge = self._add_charge(
                amount=plan.amount,
                currency=plan.currency,
                description=plan.name,
                application_fee=None,
                metadata={"email": subscription.email, "subscription_id": subscription.id},
                token_id=None,
                override=None,
            )
            subscription.last_billed_at = charge.created_at
            return {"subscription": self._render(subscription), "charge": self._render(charge)}

    # ----- promo codes ------------------------------------------------------------------------

    def create_promo_code(self, name: object, promo_type: object, value: object) -> JSON:
        checked_name = _promo_name(name)
        kind = validate.promo_type(promo_type)
        checked_value = validate.promo_value(value, kind)
        with self._lock:
            if checked_name in self._promos:
                raise bad_request("invalid_name", errors.NAME_TAKEN)
            promo = PromoCode(checked_name, next(self._seq), self._now(), kind, checked_value)
            self._promos[promo.name] = promo
            _insert(self._promo_order, promo)
            return promo.to_json()

    def retrieve_promo_code(self, name: str) -> JSON:
        with self._lock:
            return self._promo(name).to_json()

    def list_promo_codes(
        self,
        *,
        page: object = None,
        per_page: object = None,
        promo_type: object = None,
        order_by: object = None,
        order: object = None,
    ) -> JSON:
        page_number, size = validate.paging(page, per_page)
        field = validate.order_by(order_by, _PROMO_ORDER_BY)
        desc = validate.order(order, default_desc=True)
        kind = None if promo_type in (None, "") else validate.promo_type(promo_type)
        with self._lock:
            matches = self._promo_order
            if kind is not None:
                matches = [promo for promo in matches if promo.promo_type == kind]
            return self._page(matches, field, desc, page_number, size)

    def update_promo_code(
        self,
        original_name: str,
        name: object = None,
        promo_type: object = None,
        value: object = None,
    ) -> JSON:
        """Change (and possibly rename) a code; a field left out keeps its value."""
        with self._lock:
            promo = self._promo(original_name)
            new_name = promo.name if name in (None, "") else _promo_name(name)
            kind = promo.promo_type if promo_type in (None, "") else validate.promo_type(promo_type)
            if value in (None, ""):
                new_value = validate.promo_value(promo.value, kind)
            else:
                new_value = validate.promo_value(value, kind)
            if new_name != promo.name and new_name in self._promos:
                raise bad_request("invalid_name", errors.NAME_TAKEN)
            del self._promos[promo.name]
            promo.name, promo.promo_type, promo.value = new_name, kind, new_value
            self._promos[promo.name] = promo
            return promo.to_json()

    def delete_promo_code(self, name: str) -> JSON:
        with self._lock:
            promo = self._promo(name)
            del self._promos[promo.name]
            self._promo_order.remove(promo)
            return promo.to_json()

    # ----- test controls ----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, fault, override and logged request; the keys stay."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._charge_override = None
            self._tokens.clear()
            self._charges.clear()
            self._charge_order.clear()
            self._refunds.clear()
            self._plans.clear()
            self._plan_order.clear()
            self._subscriptions.clear()
            self._subscription_order.clear()
            self._promos.clear()
            self._promo_order.clear()

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
                self._seed_plans(number, now)
            elif resource == "subscriptions":
                self._seed_subscriptions(number, now)
            elif resource == "charges":
                self._seed_charges(number, now)
            else:
                self._seed_promo_codes(number, now)
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
                "active_subscriptions": sum(1 for sub in self._subscription_order if sub.active),
                "promo_codes": len(self._promos),
                "requests": len(self._log),
                "pending_faults": len(self._faults),
                "charge_override": self._charge_override is not None,
            }

    # ----- request log ------------------------------------------------------------------------

    def record_request(self, method: str, path: str, status: int, query: str = "") -> None:
        with self._lock:
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

    # ----- internals (the lock is held by the caller) -----------------------------------------

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

    def _page(self, items: list[T], field: str, desc: bool, page: int, per_page: int) -> JSON:
        return _page(
            items,
            field,
            desc,
            page,
            per_page,
            self._render,
            total_counts_page=self._dialect.total == "page",
        )

    def _now(self) -> datetime:
        return to_millis(self._clock())

    def _unique(self, existing: Mapping[str, object], prefix: str, digits: int) -> str:
        while True:
            candidate = hex_id(prefix, digits)
            if candidate not in existing:
                return candidate

    def _token(self, token_id: str) -> Token:
        token = self._tokens.get(token_id)
        if token is None:
            raise not_found("invalid_token", errors.UNKNOWN_TXN)
        return token

    def _charge(self, charge_id: str) -> Charge:
        charge = self._charges.get(charge_id)
        if charge is None:
            # AcceptOn answers an unknown charge with 400, not 404 (its own fixtures).
            raise bad_request("invalid_charge_id", errors.NO_SUCH_CHARGE)
        return charge

    def _plan(self, plan_id: str) -> Plan:
        plan = self._plans.get(plan_id)
        if plan is None:
            raise bad_request("invalid_plan_id", errors.NO_SUCH_PLAN)
        return plan

    def _subscription(self, subscription_id: str) -> Subscription:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None:
            message = "There is no subscription with that ID."
            if self._dialect.missing_subscription == "400":
                raise bad_request("invalid_subscription_id", message)
            raise not_found("invalid_subscription_id", message)
        return subscription

    def _promo(self, name: str) -> PromoCode:
        promo = self._promos.get(name)
        if promo is None:
            message = "There is no promo code with that name."
            if self._dialect.missing_promo == "400":
                # The one promo code error type AcceptOn documents: the least telling answer.
                raise bad_request("invalid_name", message)
            raise not_found("invalid_promo_code", message)
        return promo

    def _take_charge_override(self) -> JSON | None:
        override, self._charge_override = self._charge_override, None
        return override

    def _add_charge(
        self,
        *,
        amount: int,
        currency: str,
        description: str | None,
        application_fee: int | None,
        metadata: JSON,
        token_id: str | None,
        override: JSON | None,
        created_at: datetime | None = None,
    ) -> Charge:
        charge = Charge(
            id=self._unique(self._charges, "chg_", 16),
            seq=next(self._seq),
            created_at=created_at or self._now(),
            amount=amount,
            currency=currency,
            description=description,
            application_fee=application_fee,
            metadata=metadata,
            remote_id="ch_" + alnum(24),
            status=self._dialect.charge_status,
            token_id=token_id,
        )
        for key, value in (override or {}).items():
            setattr(charge, key, value)
        self._charges[charge.id] = charge
        _insert(self._charge_order, charge)
        return charge

    def _add_plan(
        self, name: str, amount: int, currency: str, unit: str, created_at: datetime
    ) -> Plan:
        plan = Plan(
            id=self._unique(self._plans, "pln_", 16),
            seq=next(self._seq),
            created_at=created_at,
            name=name,
            amount=amount,
            currency=currency,
            period_unit=unit,
        )
        self._plans[plan.id] = plan
        _insert(self._plan_order, plan)
        return plan

    def _add_subscription(
        self, plan: Plan, email: str, created_at: datetime, *, billed: bool
    ) -> Subscription:
        subscription = Subscription(
            id=self._unique(self._subscriptions, "sub_", 16),
            seq=next(self._seq),
            created_at=created_at,
            email=email,
            plan=plan,
            last_billed_at=created_at if billed else None,
        )
        self._subscriptions[subscription.id] = subscription
        _insert(self._subscription_order, subscription)
        return subscription

    # Seeded objects are dated in the past, one step apart, so date filters and paging have
    # something to bite on; appending then re-sorting keeps the lists ordered in one pass.

    def _seed_plans(self, count: int, now: datetime) -> list[Plan]:
        start = len(self._plans)
        plans = []
        for offset in range(count):
            n = start + offset + 1
            plans.append(
                Plan(
                    id=self._unique(self._plans, "pln_", 16),
                    seq=next(self._seq),
                    created_at=now - timedelta(hours=count - offset),
                    name=f"Seed plan {n}",
                    amount=500 + (n % 10) * 500,
                    currency="usd",
                    period_unit="year" if n % 4 == 0 else "month",
                )
            )
            self._plans[plans[-1].id] = plans[-1]
        self._plan_order.extend(plans)
        self._plan_order.sort(key=order_key)
        return plans

    def _seed_subscriptions(self, count: int, now: datetime) -> None:
        plans = list(self._plan_order) or self._seed_plans(3, now - timedelta(minutes=count))
        start = len(self._subscriptions)
        created = []
        for offset in range(count):
            n = start + offset + 1
            moment = now - timedelta(minutes=count - offset)
            subscription = Subscription(
                id=self._unique(self._subscriptions, "sub_", 16),
                seq=next(self._seq),
                created_at=moment,
                email=f"subscriber{n}@example.com",
                plan=plans[n % len(plans)],
                active=n % 5 != 0,
                last_billed_at=None if n % 7 == 0 else moment,
            )
            self._subscriptions[subscription.id] = subscription
            created.append(subscription)
        self._subscription_order.extend(created)
        self._subscription_order.sort(key=order_key)

    def _seed_charges(self, count: int, now: datetime) -> None:
        start = len(self._charges)
        created = []
        for offset in range(count):
            n = start + offset + 1
            charge = Charge(
                id=self._unique(self._charges, "chg_", 16),
                seq=next(self._seq),
                created_at=now - timedelta(minutes=count - offset),
                amount=1000 + (n % 20) * 250,
                currency="usd",
                description=f"Seed order {n}",
                application_fee=None,
                metadata={"email": f"customer{n}@example.com"},
                remote_id="ch_" + alnum(24),
                status=self._dialect.charge_status,
            )
            self._charges[charge.id] = charge
            created.append(charge)
        self._charge_order.extend(created)
        self._charge_order.sort(key=order_key)

    def _seed_promo_codes(self, count: int, now: datetime) -> None:
        created = []
        n = len(self._promos)
        for offset in range(count):
            n += 1
            while f"SEED{n}" in self._promos:
                n += 1
            step = n % 10
            kind = validate.PROMO_TYPES[n % 3]
            value: int | float
            if kind == "amount":
                value = 100 * (1 + step)
            elif kind == "fixed_price":
                value = 1000 + 100 * step
            else:
                value = round(0.05 * (1 + n % 6), 2)
            promo = PromoCode(
                f"SEED{n}", next(self._seq), now - timedelta(minutes=count - offset), kind, value
            )
            self._promos[promo.name] = promo
            created.append(promo)
        self._promo_order.extend(created)
        self._promo_order.sort(key=order_key)


def _created_at(item: Ordered) -> datetime:
    return item.created_at


def _insert(items: list[T], item: T) -> None:
    if not items or order_key(items[-1]) <= order_key(item):
        items.append(item)
    else:
        bisect.insort(items, item, key=order_key)


def _page(
    items: list[T],
    field: str,
    desc: bool,
    page: int,
    per_page: int,
    render: Callable[[T], JSON],
    *,
    total_counts_page: bool,
) -> JSON:
    ordered: list[T]
    if field == "created_at":
        ordered = items[::-1] if desc else items
    else:
        ordered = sorted(
            items, key=lambda item: (getattr(item, field), *order_key(item)), reverse=desc
        )
    start = (page - 1) * per_page
    window = ordered[start : start + per_page]
    return {
        "object": "list",
        "total": len(window) if total_counts_page else len(items),
        "data": [render(item) for item in window],
    }


def _date_bound(value: str | date | None, name: str, *, end: bool) -> tuple[datetime, bool] | None:
    if value is None or value == "":
        return None
    try:
        return parse_date_bound(value, end=end)
    except (TypeError, ValueError):
        raise bad_request(
            f"invalid_{name}", f"The {name} must be a date (YYYY-MM-DD) or an ISO 8601 time."
        ) from None


def _promo_name(name: object) -> str:
    checked = validate.required_name(name)
    if "/" in checked:
        # The name is a path segment of every later call; a slash could never be addressed.
        raise bad_request("invalid_name", "A promo code name cannot contain '/'.")
    return checked


__all__ = ["SEEDABLE", "SandboxError", "SandboxState"]
