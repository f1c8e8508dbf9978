"""Dialects: the sandbox's switches for everything AcceptOn's documents leave open.

The sandbox is a model of AcceptOn written from its documents, and those documents disagree with
each other or say nothing in many places that decide whether an integration takes money
correctly. Each such point is one field of :class:`Dialect`, with one setting per documented
reading (and, where the documents are silent, the readings a real server could plausibly have).
Nothing here is AcceptOn's known behaviour: a setting is a guess unless its docstring names a
source.

Three presets are named:

``strict-docs`` (the default)
    Follows the documents where they speak, and takes the reading that is hardest for an
    integration wherever they are silent.
``classic``
    The sandbox as it behaved before dialects existed: the most convenient reading everywhere.
``hostile``
    The least convenient reading everywhere, including against the documents' majority where
    they disagree (``/v1/plans`` only, ``10.0`` means 10 %, ``created`` timestamps,
    PayPal-style ``completed`` status, 503 answered after the request was processed).

An integration that is right under all three is right under every combination a test is likely
to meet; ``Dialect.replace`` builds any other combination. A new finding about AcceptOn becomes
one more field here and one more value in each preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import bad_request


@dataclass(frozen=True)
class Dialect:
    """One reading of every open point. Each field's allowed values are in ``CHOICES``."""

    #: Whether a charge paid with a promo code names it. No AcceptOn document puts a promo code
    #: on a charge: ``absent`` is the documents' charge; ``metadata`` adds
    #: ``metadata.promo_code``.
    promo_on_charge: str = "absent"
    #: How a ``percentage`` promo value is read. ``fraction``: 0.15 is 15 % (the stored data in
    #: every client's fixtures, the getting-started guide). ``percent``: 10.0 is 10 % (the API
    #: references, the Python and Ruby docstrings). ``mixed``: up to 1 a fraction, above it a
    #: percent (a reconciliation of the two that no source states).
    percent_scale: str = "fraction"
    #: What a list's ``total`` counts. Every fixture has ``total == len(data)``, which reads as
    #: either. ``list``: all matches over all pages; ``page``: the items of this page.
    total: str = "page"
    #: Whether ``GET /v1/charges`` honours ``page`` (paging on charges is not documented).
    #: ``ignored``: every page number answers the first page (``per_page`` is honoured).
    charge_paging: str = "ignored"
    #: How many payments a ``txn_`` token takes. Undocumented; dashboard forms share one token
    #: among every buyer. ``once``: a second payment is refused with ``token_already_used``.
    token_payments: str = "many"  # noqa: S105 - a dialect setting
    #: The answer for an unknown promo code / subscription (undocumented; the fixtures answer
    #: charges and plans with 400 ``invalid_*_id`` and tokens with 404).
    missing_promo: str = "400"
    missing_subscription: str = "400"
    #: Whether ``GET /v1/tokens/rtx_…`` exists. Only ``txn_`` retrieval is documented.
    rtx_retrieve: str = "no"
    #: Which prefix plans and subscriptions live under (cancel is ``/v1/subscriptions/…/cancel``
    #: in every source). ``recurring``: ``/v1/recurring/…`` (Python and PHP clients, the
    #: production form script); ``plain``: ``/v1/…`` (the API reference, Ruby); ``both``.
    recurring_paths: str = "recurring"
    #: When a write answered 503 did its work. The error list calls 503 "maintenance", i.e.
    #: ``before`` processing; ``after``: processed, then answered 503 (a proxy in front of a
    #: working application server).
    write_503: str = "before"
    #: Whether subscriptions can be ordered by ``created_at``. No source gives subscriptions that
    #: field. ``refused``: ``order_by=created_at`` is a 400 ``invalid_order_by``, and lists come
    #: newest first.
    subscription_order: str = "refused"
    #: When ``refunded`` turns true on a charge (undocumented for partial refunds). ``full``: once
    #: refunds reach its amount; ``any``: on the first refund, partial or not.
    refunded_flag: str = "any"
    #: The charge timestamp key: ``created_at`` (fixtures, every client) or ``created`` (the
    #: references' field table).
    charge_timestamp: str = "created_at"
    #: The status of a successful card charge: ``paid`` (the Stripe-backed fixture) or
    #: ``completed`` (the PayPal fixtures).
    charge_status: str = "paid"
    #: Whether a subscription's first payment is its first billing. The fixtures show
    #: subscriptions with ``last_billed_at: null``, and no source says when it is first set.
    #: ``at_payment``: the payment that starts a subscription sets ``last_billed_at`` to its own
    #: time; ``not_recorded``: ``last_billed_at`` stays null until the first renewal.
    first_billing: str = "not_recorded"
    #: What a renewal charge's metadata holds. Metadata is "filled by the form", and AcceptOn
    #: bills renewals without one; no document shows a renewal. ``email``: the subscriber's
    #: email; ``none``: empty.
    renewal_metadata: str = "none"
    #: What the charges list's day filters include. The references say ``start_date`` lists
    #: charges "created after" the date and ``end_date`` those "created before" it.
    #: ``exclusive``: as worded, neither day itself; ``days``: both days, whole.
    charge_dates: str = "exclusive"

    @classmethod
    def preset(cls, name: str) -> Dialect:
        try:
            return PRESETS[name]
        except KeyError:
            raise ValueError(
                f"Unknown dialect {name!r}; choose from {', '.join(sorted(PRESETS))}."
            ) from None

    def replace(self, **changes: Any) -> Dialect:
        """A copy with some switches changed; each value is checked against ``CHOICES``."""
        for key, value in changes.items():
            _check(key, value)
        return replace(self, **changes)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Dialect:
        """A dialect from JSON: ``{"preset": "hostile", "total": "list", …}``; 400 when a name
        or a value is unknown."""
        base_name = spec.get("preset") or spec.get("name") or "strict-docs"
        if not isinstance(base_name, str) or base_name not in PRESETS:
            raise bad_request(
                "invalid_dialect", f"preset must be one of: {', '.join(sorted(PRESETS))}."
            )
        changes = {key: value for key, value in spec.items() if key not in ("preset", "name")}
        try:
            return PRESETS[base_name].replace(**changes)
        except ValueError as exc:
            raise bad_request("invalid_dialect", str(exc)) from None

    def to_json(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def name(self) -> str:
        """The preset this dialect is, or ``custom``."""
        for name, preset in PRESETS.items():
            if preset == self:
                return name
        return "custom"


CHOICES: Mapping[str, tuple[str, ...]] = {
    "promo_on_charge": ("metadata", "absent"),
    "percent_scale": ("fraction", "percent", "mixed"),
    "total": ("list", "page"),
    "charge_paging": ("honoured", "ignored"),
    "token_payments": ("once", "many"),
    "missing_promo": ("404", "400"),
    "missing_subscription": ("404", "400"),
    "rtx_retrieve": ("yes", "no"),
    "recurring_paths": ("both", "recurring", "plain"),
    "write_503": ("before", "after"),
    "subscription_order": ("created_at", "refused"),
    "refunded_flag": ("full", "any"),
    "charge_timestamp": ("created_at", "created"),
    "charge_status": ("paid", "completed"),
    "first_billing": ("at_payment", "not_recorded"),
    "renewal_metadata": ("email", "none"),
    "charge_dates": ("exclusive", "days"),
}


def _check(key: str, value: object) -> None:
    allowed = CHOICES.get(key)
    if allowed is None:
        raise ValueError(f"Unknown dialect switch {key!r}; known: {', '.join(CHOICES)}.")
    if value not in allowed:
        raise ValueError(f"{key} must be one of: {', '.join(allowed)} (got {value!r}).")


STRICT_DOCS = Dialect()
CLASSIC = Dialect(
    promo_on_charge="metadata",
    percent_scale="mixed",
    total="list",
    charge_paging="honoured",
    token_payments="once",  # noqa: S106 - a dialect setting
    missing_promo="404",
    missing_subscription="404",
    rtx_retrieve="yes",
    recurring_paths="both",
    write_503="before",
    subscription_order="created_at",
    refunded_flag="full",
    charge_timestamp="created_at",
    charge_status="paid",
    first_billing="at_payment",
    renewal_metadata="email",
    charge_dates="days",
)
HOSTILE = STRICT_DOCS.replace(
    percent_scale="percent",
    recurring_paths="plain",
    write_503="after",
    charge_timestamp="created",
    charge_status="completed",
)

PRESETS: Mapping[str, Dialect] = {
    "strict-docs": STRICT_DOCS,
    "classic": CLASSIC,
    "hostile": HOSTILE,
}
DEFAULT = "strict-docs"

__all__ = ["CHOICES", "DEFAULT", "PRESETS", "Dialect"]
