"""What the store sells on the AcceptOn side: subscription plans and a promo code.

Products are only local rows (each order gets its own token), but plans and promo codes are
AcceptOn objects. ``ensure_remote_catalogue()`` creates the missing ones at AcceptOn through
django-accepton's services, matching plans and codes by name, so running it again changes
nothing; then it syncs both into the local mirrors, where the subscriptions page reads them.

A customer subscribes by paying a plan's *recurring* (``rtx_``) token. AcceptOn has no API call
that makes one: they are made in its dashboard, one per plan, and set on each plan in the admin
(django-accepton's ``Plan.recurring_token``). In the sandbox environment django-accepton has the
sandbox make them on first use; a plan without one elsewhere is not offered.

The embedded sandbox lives inside the Django process and starts empty in each process (the
autoreloader's child included), so the store sets it up there, once per process, on first use.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django_accepton.api import current_environment, get_client
from django_accepton.client import NotFoundError
from django_accepton.conf import get_settings
from django_accepton.models import Plan
from django_accepton.services import plans, promo_codes
from django_accepton.services.recurring import RecurringTokenMissing, recurring_token_for
from django_accepton.services.sync import SyncAlreadyRunning, sync_plans, sync_promo_codes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanSpec:
    name: str
    amount: int
    currency: str
    period_unit: str
    blurb: str


PLANS = (
    PlanSpec(
        "Letter of the month", 900, "usd", "month", "A letter-writing kit in the post every month."
    ),
    PlanSpec("Ink club", 1500, "usd", "month", "A new ink to try every month, 30 ml."),
    PlanSpec(
        "Letter of the month, yearly", 9000, "usd", "year", "Twelve kits for the price of ten."
    ),
)
PROMO_CODES = (("WELCOME10", "percentage", 10),)

_lock = threading.Lock()
_setup_lock = threading.Lock()
_ready_for: set[str] = set()


def _account() -> str:
    """Which AcceptOn account the client talks to: a new embedded sandbox is a new account."""
    conf = get_settings()
    client = get_client()
    return f"{conf.environment}|{client.base_url}"


def ensure_remote_catalogue() -> dict[str, int]:
    """Create the plans and promo codes AcceptOn does not have yet; answer how many were made."""
    client = get_client()
    existing = {plan.name for plan in client.plans.iter_all()}
    created = {"plans": 0, "promo_codes": 0}
    for spec in PLANS:
        if spec.name not in existing:
            # AcceptOn first, then the local mirror.
            plans.create_plan(spec.name, spec.amount, spec.currency, spec.period_unit)
            created["plans"] += 1
    for name, promo_type, value in PROMO_CODES:
        try:
            client.promo_codes.retrieve(name)
        except NotFoundError:
            promo_codes.create_promo_code(name, promo_type, value)
            created["promo_codes"] += 1
    # Mirror everything AcceptOn has. A full sync also marks the rows AcceptOn no longer knows
    # as deleted: the plans of an embedded sandbox that died with its process, say.
    for sync in (sync_plans, sync_promo_codes):
        try:
            sync()
        except SyncAlreadyRunning:
            logger.info("A sync is already running; it will mirror the catalogue.")
    with _lock:
        _ready_for.add(_account())
    return created


def ensure_embedded_sandbox_ready() -> None:
    """Set up the embedded sandbox of this process once (a no-op anywhere else)."""
    if not get_settings().uses_embedded_sandbox:
        return
    with _setup_lock:
        if _account() in _ready_for:
            return
        created = ensure_remote_catalogue()
    logger.info("Embedded AcceptOn sandbox set up: %s", created)


@dataclass(frozen=True)
class Offer:
    """A plan the store offers, with what the subscriptions page needs to sell it."""

    plan: Plan
    token: str  # the plan's rtx_ token, which {% accepton_subscription_form plan %} renders
    blurb: str


def _blurb(plan: Plan) -> str:
    return next((spec.blurb for spec in PLANS if spec.name == plan.name), "")


def offers() -> list[Offer]:
    """The plans in the local mirror that can be paid (they have a recurring token): monthly
    first, cheapest first."""
    ensure_embedded_sandbox_ready()
    result = []
    mirrored = Plan.objects.filter(environment=current_environment(), deleted_at__isnull=True)
    for plan in mirrored.order_by("period_unit", "amount"):
        try:
            token = recurring_token_for(plan)
        except RecurringTokenMissing:
            continue
        result.append(Offer(plan, token.pk, _blurb(plan)))
    return result
