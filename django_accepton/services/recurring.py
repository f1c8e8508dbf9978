"""Recurring checkout: a plan's ``rtx_`` token, and the subscription a payment of it created.

AcceptOn has no API call that makes recurring tokens: they are made in its dashboard, one per
plan, and stored here on ``Plan.recurring_token`` (the admin's plan page, or
:func:`set_recurring_token`). Where something can stand in for the dashboard (the sandbox does,
through ``django_accepton.sandbox.hooks.make_recurring_token``), the ``RECURRING_TOKEN_MAKER``
setting names it and a plan without a token gets one on first use.

Only the retrieval of ``txn_`` tokens is documented. A recurring token is checked with
``GET /v1/tokens/{id}`` when AcceptOn answers that call, and taken on the merchant's word (the
plan's own price, currency and name) when it answers "not found": a server without ``rtx_``
retrieval cannot tell us more, and refusing the token would leave the plan unsellable. Once
AcceptOn has described one recurring token of the environment, "not found" is believed.

A recurring token is paid by every subscriber, so it is never consumed. Each payment makes one
charge and one subscription at AcceptOn; verification (see
:mod:`django_accepton.services.verification`) links the two here, with
:func:`subscription_candidates` (outside any transaction) and :func:`link_subscription`
(inside the one that records the decision).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.module_loading import import_string

from django_accepton import signals
from django_accepton.api import get_client
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client import NotFoundError
from django_accepton.client import Subscription as RemoteSubscription
from django_accepton.client import TransactionToken as RemoteToken
from django_accepton.conf import get_settings
from django_accepton.models import Charge, Plan, Subscription, TransactionToken
from django_accepton.services.changes import announce
from django_accepton.services.environments import require_current_environment
from django_accepton.services.subscriptions import mirror_subscription, remote_created

# Subscriptions to one plan are read 100 a page, in AcceptOn's own order: no source gives them a
# creation time to order by. The one a payment just created is looked for in the first pages.
SUBSCRIPTION_PAGES = 5
# How far apart a subscription's last billing and a charge may be for the charge to be that
# billing (AcceptOn's processing time; undocumented, generous).
BILLED_WITHIN = timedelta(minutes=2)
# Verifications of a recurring payment whose subscription is not (yet) visible before it is
# refused: AcceptOn may list a new subscription a little after the charge.
SUBSCRIPTION_LOOKUPS = 5

logger = logging.getLogger(__name__)


class RecurringTokenMissing(LookupError):
    """The plan has no recurring token: make one in AcceptOn's dashboard and set it on the plan."""


class RecurringTokenMismatch(ValueError):
    """AcceptOn describes the token differently from the plan it was set on."""


def recurring_token_for(plan: Plan) -> TransactionToken:
    """The ``TransactionToken`` row of ``plan``'s recurring token, recorded on first use.

    Its amount, currency and description are the plan's price, currency and name, and its
    target is the plan. The first use asks AcceptOn about the token (and, when the plan has none
    and ``RECURRING_TOKEN_MAKER`` is set, has one made); later uses cost one query.

    Raises :class:`RecurringTokenMissing` when no token is set and none can be made,
    :class:`RecurringTokenMismatch` when AcceptOn says the token is for another plan or price,
    ``EnvironmentMismatch`` for a plan of another environment and ``AcceptOnError`` when
    AcceptOn could not be asked.
    """
    environment = require_current_environment(plan.environment, f"Plan {plan.pk}")
    token_id = plan.recurring_token or _made_token(plan)
    if not token_id:
        raise RecurringTokenMissing(
            f"Plan {plan.pk} has no recurring token: make one in AcceptOn's dashboard and set it "
            "on the plan's admin page."
        )
    row = TransactionToken.objects.filter(pk=token_id).first()
    if row is not None and _describes(row, plan, environment):
        return row
    return _record(plan, token_id, environment)


def set_recurring_token(plan: Plan, token_id: str | None) -> Plan:
    """Set (or, with ``None``, clear) the plan's recurring token, once AcceptOn has confirmed
    that the token exists and is for this plan's price. Raises like
    :func:`recurring_token_for`; nothing changes when it raises."""
    environment = require_current_environment(plan.environment, f"Plan {plan.pk}")
    if token_id:
        other = Plan.objects.filter(recurring_token=token_id).exclude(pk=plan.pk).first()
        if other is not None:
            raise RecurringTokenMismatch(f"{token_id} is the token of plan {other.pk}.")
        _record(plan, token_id, environment)
    plan.recurring_token = token_id or None
    plan.save(update_fields=["recurring_token"])
    return plan


def confirmed(token_id: str) -> bool:
    """Whether AcceptOn described the recorded recurring token (rather than answering "not
    found", after which it was taken as its plan's)."""
    return TransactionToken.objects.filter(pk=token_id).exclude(raw={}).exists()


def plan_id_of(token: TransactionToken) -> str:
    """The id of the plan a recurring token row was recorded for ("" if none)."""
    if token.content_type_id != ContentType.objects.get_for_model(Plan).pk:
        return ""
    return token.object_id


def _describes(row: TransactionToken, plan: Plan, environment: str) -> bool:
    return (
        row.environment == environment
        and plan_id_of(row) == plan.pk
        and row.amount == plan.amount
        and row.currency == plan.currency
        and row.description == plan.name
    )


def _check(remote: RemoteToken, plan: Plan) -> None:
    # AcceptOn documents none of these fields for rtx_ tokens: each is compared only when
    # present.
    if remote.type and remote.type != "recurring":
        raise RecurringTokenMismatch(f"{remote.id} is not a recurring token ({remote.type}).")
    plan_id = remote.raw.get("plan_id")
    if plan_id and plan_id != plan.pk:
        raise RecurringTokenMismatch(f"{remote.id} is the token of plan {plan_id}, not {plan.pk}.")
    if remote.amount != plan.amount:
        raise RecurringTokenMismatch(
            f"{remote.id} charges {remote.amount}, the plan costs {plan.amount}."
        )
    if remote.currency and remote.currency.lower() != plan.currency:
        raise RecurringTokenMismatch(
            f"{remote.id} charges {remote.currency}, the plan costs {plan.currency}."
        )


def _record(plan: Plan, token_id: str, environment: str) -> TransactionToken:
    try:
        remote = get_client().tokens.retrieve(token_id)
    except NotFoundError:
        # Not necessarily a wrong token: only txn_ retrieval is documented. But once AcceptOn
        # has described a recurring token of this environment, it does retrieve them, and "not
        # found" means what it says.
        described = TransactionToken.objects.filter(
            environment=environment, id__startswith="rtx_"
        ).exclude(raw={})
        if described.exists():
            raise
        logger.warning(
            "AcceptOn could not describe recurring token %s of plan %s; it is taken as the "
            "plan's own price and name.",
            token_id,
            plan.pk,
        )
        raw: dict[str, object] = {}
    else:
        _check(remote, plan)
        raw = remote.raw
    row, _ = TransactionToken.objects.update_or_create(
        id=token_id,
        defaults={
            "environment": environment,
            "amount": plan.amount,
            "currency": plan.currency,
            "description": plan.name,
            "application_fee": None,
            "merchant_paypal_account": "",
            "content_type": ContentType.objects.get_for_model(Plan),
            "object_id": plan.pk,
            "reference": "",
            # Never matches a product's fingerprint: mint_token never hands this token out.
            "fingerprint": "",
            "raw": raw,
        },
    )
    return row


def _made_token(plan: Plan) -> str | None:
    """Have ``RECURRING_TOKEN_MAKER`` make the plan's token and keep it on the plan; ``None``
    when no maker is configured.

    The maker is called as ``maker(plan_id, base_url=…, timeout=…)`` and returns the token id;
    anything it raises becomes :class:`RecurringTokenMissing`.
    """
    conf = get_settings()
    if not conf.recurring_token_maker:
        return None
    maker = import_string(conf.recurring_token_maker)
    try:
        made = str(maker(plan.pk, base_url=get_client().base_url, timeout=conf.timeout[1]))
    except Exception as exc:  # whatever the maker raises: the plan still has no token
        raise RecurringTokenMissing(
            f"Plan {plan.pk} has no recurring token and {conf.recurring_token_maker} could not "
            f"make one: {exc}"
        ) from exc
    # Two first renders at once: the first token stored wins, the other stays unused.
    Plan.objects.filter(pk=plan.pk, recurring_token__isnull=True).update(recurring_token=made)
    plan.recurring_token = Plan.objects.values_list("recurring_token", flat=True).get(pk=plan.pk)
    return plan.recurring_token


# ----- the subscription a payment created -------------------------------------------------------


def payer_email(remote: RemoteCharge) -> str:
    email = remote.metadata.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def _linked(ids: list[str]) -> set[str]:
    return set(
        Charge.objects.filter(subscription_id__in=ids).values_list("subscription_id", flat=True)
    )


def _billed_by(sub: RemoteSubscription, remote: RemoteCharge) -> float | None:
    """Seconds between the subscription's last billing and the charge, when both are known and
    close enough for this charge to be that billing; ``None`` otherwise."""
    if sub.last_billed_at is None or remote.created is None:
        return None
    apart = abs((sub.last_billed_at - remote.created).total_seconds())
    return apart if apart <= BILLED_WITHIN.total_seconds() else None


def subscription_candidates(remote: RemoteCharge, plan_id: str) -> list[RemoteSubscription]:
    """The subscriptions ``remote`` can be the first payment of: AcceptOn's active
    subscriptions to ``plan_id`` of the charge's payer (its metadata email) whose last billing
    is this charge (``last_billed_at`` within ``BILLED_WITHIN`` of the charge's time), the
    likeliest first. The email alone is never enough: the form's customer types it, and another
    payer may type someone else's. Empty without an email or a time. Network only: call it
    outside transactions; ``AcceptOnError`` reaches the caller."""
    email = payer_email(remote)
    if not email or not plan_id or remote.created is None:
        return []
    found: list[RemoteSubscription] = []
    subscriptions = get_client().subscriptions
    for number in range(1, SUBSCRIPTION_PAGES + 1):
        page = subscriptions.list(plan_token=plan_id, active=True, page=number)
        matches = [
            sub
            for sub in page.data
            if sub.active
            and sub.plan.id == plan_id
            and (sub.email or "").strip().lower() == email
            and _billed_by(sub, remote) is not None
        ]
        found.extend(matches)
        if not page.has_more:
            break
        if matches and len(_linked([sub.id for sub in found])) < len(found):
            break  # a subscription no charge is linked to yet is among them
    return _likeliest_first(found, remote.created)


def _likeliest_first(
    found: list[RemoteSubscription], paid_at: datetime | None
) -> list[RemoteSubscription]:
    # Closest billing first; a creation time, where AcceptOn sends one, breaks ties.
    def key(item: tuple[int, RemoteSubscription]) -> tuple[float, float, int]:
        position, sub = item
        last = sub.last_billed_at
        billed = abs((last - paid_at).total_seconds()) if last and paid_at else 0.0
        created = remote_created(sub)
        made = abs((created - paid_at).total_seconds()) if created and paid_at else 0.0
        return (billed, made, position)

    return [sub for _, sub in sorted(enumerate(found), key=key)]


class _Taken(Exception):
    """Another charge was linked to the subscription first."""


def link_subscription(charge: Charge, candidates: list[RemoteSubscription]) -> Subscription | None:
    """Mirror and answer the first candidate no other charge is linked to; ``None`` if none.

    Call it inside the transaction that records the charge as verified. A candidate that looks
    free is mirrored, which locks its row, and checked again: of two payments racing for one
    subscription, the second sees the first one's link once it commits, and rolls its mirror
    back to a savepoint (releasing the row) before trying the next candidate. So a transaction
    holds at most the row it keeps, and none waits for a row while holding another. The
    one-to-one column is the last guard.
    """
    for remote in candidates:
        if _linked([remote.id]):
            continue
        known = Subscription.objects.filter(pk=remote.id).exists()
        try:
            with transaction.atomic():
                subscription = mirror_subscription(remote)
                if Charge.objects.filter(subscription=subscription).exclude(pk=charge.pk).exists():
                    raise _Taken
        except _Taken:
            continue
        if charge.user_id and subscription.user_id is None:
            # Who subscribed: the signed-in customer whose payment started it.
            subscription.user_id = charge.user_id
            subscription.save(update_fields=["user"])
        if not known:
            announce(
                signals.subscription_created,
                Subscription,
                subscription=subscription,
                source="checkout",
            )
        return subscription
    return None
