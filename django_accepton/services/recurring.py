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
:func:`subscription_candidates` (outside any transaction), :func:`choose` and
:func:`link_subscription` (inside the one that records the decision).

Nothing AcceptOn sends names the subscription a charge started. What ties them is the plan, the
payer's email (typed in the form by whoever pays) and, where AcceptOn sends them, times: the
subscription's ``last_billed_at`` (whether a first payment sets it is undocumented, and the
fixtures show ``null``) or a creation time (no document shows one). So each reading is a
strength of evidence, and a payment is linked only when no other waiting payment of the same
payer could be the one (:func:`choose`): a lookalike one-off charge posted in a victim's name
can at worst make both payments wait and go to a human, never take the subscription.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from django_accepton import signals
from django_accepton.api import get_client
from django_accepton.client import AcceptOnError, NotFoundError
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client import Subscription as RemoteSubscription
from django_accepton.client import TransactionToken as RemoteToken
from django_accepton.conf import get_settings
from django_accepton.models import Charge, Plan, Subscription, TransactionToken, Verification
from django_accepton.services.changes import announce
from django_accepton.services.charges import mirrored_values
from django_accepton.services.environments import require_current_environment
from django_accepton.services.subscriptions import remote_created, write_subscription

# Subscriptions to one plan are read 100 a page, in AcceptOn's own order: no source gives them a
# creation time to order by. The one a payment just created is looked for in the first pages.
SUBSCRIPTION_PAGES = 5
# How far apart a subscription's last billing and a charge may be for the charge to be that
# billing (AcceptOn's processing time; undocumented, generous).
BILLED_WITHIN = timedelta(minutes=2)
# Verifications of a recurring payment whose subscription is not (yet) visible before it is
# refused: AcceptOn may list a new subscription a little after the charge.
SUBSCRIPTION_LOOKUPS = 5
# ... and for at least this long after the claim (the confirming page looks every few seconds).
SUBSCRIPTION_WAIT = timedelta(minutes=10)
# Unclaimed copies of the plan's charges this close to a payment are its payer's rivals.
RIVAL_WINDOW = timedelta(days=1)
# Claims of other payers asked about per verification (see learn_rivals).
LEARN_RIVALS = 5
# The reason a recurring payment is refused with when its subscription stays ambiguous
# (``verification.Reason.SUBSCRIPTION_UNDECIDED``).
UNDECIDED = "subscription_undecided"
# verification.Reason.STATUS_UNCONFIRMED: a payment held for a status no document calls a success.
STATUS_UNCONFIRMED = "status_unconfirmed"

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


# A token's documented type, and the one a server might give a plan's token.
TOKEN_TYPES = frozenset({"transaction", "recurring"})


def _check(remote: RemoteToken, plan: Plan) -> None:
    # AcceptOn documents none of these fields for rtx_ tokens: each is compared only when
    # present. Every token it documents has the type "transaction", so that type says nothing
    # against an rtx_ token; another one does.
    if remote.type and remote.type not in TOKEN_TYPES:
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

#: How a listed subscription is tied to a charge, strongest first.
BILLED = "billed"  # its ``last_billed_at`` is the charge's time
CREATED = "created"  # never billed, and created at the charge's time (where a time is sent)
UNBILLED = "unbilled"  # never billed, and no creation time to compare


@dataclass(frozen=True)
class Match:
    """A subscription a charge may be the first payment of, and the evidence for it."""

    subscription: RemoteSubscription
    evidence: str
    #: Seconds between the charge and the subscription's billing or creation (0 when unbilled).
    apart: float = 0.0


@dataclass(frozen=True)
class Choice:
    """What the listed subscriptions let verification do with a recurring payment.

    ``subscriptions``: the ones it may be linked to, in order of preference. Otherwise
    ``undecided`` says why not: ``renewal`` (a subscription another charge started was billed
    by this one), ``not_visible`` (no subscription of this payer fits), ``ambiguous`` (more
    unlinked payments of this payer than subscriptions they could start) or ``unknown_rivals``
    (other claims AcceptOn was not asked about yet might be this payer's).
    """

    subscriptions: list[RemoteSubscription]
    undecided: str = ""


def payer_email(remote: RemoteCharge) -> str:
    email = remote.metadata.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def _linked(ids: list[str]) -> set[str]:
    return set(
        Charge.objects.filter(subscription_id__in=ids).values_list("subscription_id", flat=True)
    )


def _evidence(sub: RemoteSubscription, paid_at: datetime | None) -> Match | None:
    """How ``sub`` is tied to a charge made at ``paid_at``; ``None`` when its times rule the
    charge out (billed or created at another moment)."""
    within = BILLED_WITHIN.total_seconds()
    if sub.last_billed_at is not None:
        if paid_at is None:
            return None
        apart = abs((sub.last_billed_at - paid_at).total_seconds())
        return Match(sub, BILLED, apart) if apart <= within else None
    created = remote_created(sub)
    if created is not None and paid_at is not None:
        apart = abs((created - paid_at).total_seconds())
        return Match(sub, CREATED, apart) if apart <= within else None
    return Match(sub, UNBILLED)


def _match(sub: RemoteSubscription, plan_id: str, email: str, remote: RemoteCharge) -> Match | None:
    if not (sub.active and sub.plan.id == plan_id):
        return None
    if email and (sub.email or "").strip().lower() != email:
        return None
    match = _evidence(sub, remote.created)
    # Without the payer's email only a time can tie a subscription to the charge.
    if match is None or (not email and match.evidence == UNBILLED):
        return None
    return match


def subscription_candidates(remote: RemoteCharge, plan_id: str) -> list[Match]:
    """The subscriptions ``remote`` can be the first payment of: AcceptOn's active
    subscriptions to ``plan_id`` of the charge's payer (its metadata email) whose times do not
    rule the charge out, strongest evidence first and closest in time within it.

    No source says whether a first payment sets ``last_billed_at`` (the fixtures show ``null``)
    or whether subscriptions carry a creation time (none shows one), so each reading is
    evidence of its own strength: a billing at the charge's time, a creation at the charge's
    time, or no time at all. The email alone is never enough (see :func:`choose`); a charge
    without one is matched by time alone. Network only: call it outside transactions;
    ``AcceptOnError`` reaches the caller."""
    email = payer_email(remote)
    if not plan_id:
        return []
    found: list[Match] = []
    seen: set[str] = set()
    subscriptions = get_client().subscriptions
    previous = None
    complete = False
    for number in range(1, SUBSCRIPTION_PAGES + 1):
        page = subscriptions.list(plan_token=plan_id, active=True, page=number)
        if previous is not None and page.repeats(previous):
            break  # the server ignores ``page``: what follows is the first page again
        for sub in page.data:
            if sub.id in seen:
                continue  # listed twice (the list moved while it was read): counted once
            seen.add(sub.id)
            match = _match(sub, plan_id, email, remote)
            if match is not None:
                found.append(match)
        if not page.has_more:
            complete = True
            break
        strong = [m.subscription.id for m in found if m.evidence != UNBILLED]
        if strong and len(_linked(strong)) < len(strong):
            break  # a subscription billed or created by this very charge, and free
        previous = page
    if not complete and email:
        # A plan with more subscribers than the pages read: the mirror may know the payer's.
        for row in Subscription.objects.filter(
            plan_id=plan_id, active=True, email__iexact=email, charge__isnull=True
        ).exclude(pk__in=seen)[:SUBSCRIPTION_PAGES]:
            try:
                sub = RemoteSubscription.from_json(row.raw)
            except (ValueError, TypeError, KeyError):
                continue
            match = _match(sub, plan_id, email, remote)
            if match is not None:
                found.append(match)
    rank = {BILLED: 0, CREATED: 1, UNBILLED: 2}
    ordered = sorted(
        enumerate(found), key=lambda item: (rank[item[1].evidence], item[1].apart, item[0])
    )
    return [match for _, match in ordered]


@dataclass(frozen=True)
class _Rivals:
    """Other unlinked payments of the same recurring token that may be after the same
    subscriptions: ``unknown`` (claims AcceptOn was not asked about yet: payer and time not
    known) and ``times`` (the same payer's, with their charge times, ``None`` if not sent)."""

    unknown: int
    times: list[datetime | None]


def _rivals(
    charge_id: str, token: TransactionToken, email: str, paid_at: datetime | None
) -> _Rivals:
    """The payments that may be after the same subscriptions as this one: other claims of
    the token still waiting for a verdict, the same payer's payments refused as undecided that
    no human has settled, and the same payer's copies of the plan's charges the sync found
    unclaimed within ``RIVAL_WINDOW`` of this one (a subscriber who paid and never came back)."""
    rows = (
        Charge.objects.filter(token_id=token.pk, subscription__isnull=True)
        .filter(
            Q(verification=Verification.PENDING)
            | Q(
                verification=Verification.REJECTED,
                reason=UNDECIDED,
                attention_resolved_at__isnull=True,
            )
        )
        .exclude(pk=charge_id)
        # A payment held for its status is after no subscription until it is a success.
        .exclude(verification=Verification.PENDING, reason=STATUS_UNCONFIRMED)
    )
    unknown, times = 0, []
    for metadata, created, looked in rows.values_list("metadata", "created", "lookups"):
        named = metadata.get("email") if isinstance(metadata, dict) else None
        if not looked and created is None and not (isinstance(named, str) and named.strip()):
            unknown += 1  # AcceptOn not asked yet
        elif not email or (isinstance(named, str) and named.strip().lower() == email):
            times.append(created)  # without this payer's email, every payer is a rival
    if email and paid_at is not None:
        orphans = Charge.objects.filter(
            environment=token.environment,
            verification=Verification.UNCLAIMED,
            token__isnull=True,
            description=token.description,
            currency=token.currency,
            created__gte=paid_at - RIVAL_WINDOW,
            created__lte=paid_at + RIVAL_WINDOW,
        ).exclude(pk=charge_id)
        for metadata, created in orphans.values_list("metadata", "created"):
            named = metadata.get("email") if isinstance(metadata, dict) else None
            if isinstance(named, str) and named.strip().lower() == email:
                times.append(created)
    return _Rivals(unknown, times)


def learn_rivals(charge_id: str, token: TransactionToken) -> None:
    """Ask AcceptOn about up to ``LEARN_RIVALS`` other claims of ``token`` it was not asked
    about yet, and keep what it says on their rows, so that they are rivals of known payers
    (see :func:`choose`) rather than reasons to wait. A made-up id is dropped, as its own
    verification would drop it. Network first, then one update per claim; errors are left for
    the claims' own verification."""
    unknown = list(
        Charge.objects.filter(
            token_id=token.pk,
            verification=Verification.PENDING,
            created__isnull=True,
            lookups=0,
        )
        .exclude(pk=charge_id)
        .values_list("pk", flat=True)[:LEARN_RIVALS]
    )
    client = get_client()
    for rival in unknown:
        try:
            remote = client.charges.retrieve(rival)
        except NotFoundError:
            Charge.objects.filter(pk=rival, verification=Verification.PENDING).delete()
            continue
        except AcceptOnError:
            continue
        # Not over a refund the sync recorded since AcceptOn was asked.
        Charge.objects.filter(pk=rival, verification=Verification.PENDING, refunded=False).update(
            **mirrored_values(remote, token.environment, timezone.now())
        )


def choose(
    charge_id: str, token: TransactionToken, remote: RemoteCharge, matches: list[Match]
) -> Choice:
    """Decide which of ``matches`` a recurring payment may be linked to.

    The email that ties a subscription to a payment is typed by the form's customer: another
    payer could type a victim's email and post a one-off charge of the plan's price against the
    plan's token while the victim's own first payment is still waiting. So a payment competes
    with its *rivals* (see :func:`_rivals`), and:

    - while a rival's payer is not known yet (:func:`learn_rivals` asks about a few), the
      choice waits (``unknown_rivals``) without spending a lookup;
    - a subscription billed or created at the payment's time goes to the payment closest to
      that time among it and the payer's rivals (a tie waits);
    - a subscription billed at the payment's time and started by another charge means this
      payment is its renewal;
    - untimed subscriptions, which nothing but the email ties to a payment, are linked only
      while the payer has more of them free than rivals; otherwise the choice waits, and is
      refused for a human once the lookups run out (both payments: neither gets it).

    Database only.
    """
    # The links are read before the rivals: a payment linked in between leaves one subscription
    # fewer and one rival fewer, so reading in this order never counts more rivals than there
    # were free subscriptions for them.
    linked = _linked([match.subscription.id for match in matches])
    free = [match for match in matches if match.subscription.id not in linked]
    rivals = _rivals(charge_id, token, payer_email(remote), remote.created)
    timed = [match for match in free if match.evidence != UNBILLED]
    # A rival AcceptOn was not asked about may be anyone's: it holds a choice up only where it
    # could change it (see learn_rivals; waiting for it spends no lookup).
    closest = [
        match.subscription
        for match in timed
        if (match.apart == 0 or not rivals.unknown) and _closest(match, rivals.times, timed)
    ]
    if closest:
        return Choice(closest)
    if timed:
        # A rival is as close, or its time is not known yet.
        return Choice([], "unknown_rivals" if rivals.unknown else "ambiguous")
    if any(match.evidence == BILLED for match in matches):
        # Billed at this charge's time, and started by another charge: this is its renewal.
        return Choice([], "renewal")
    untimed = [match.subscription for match in free]
    if not untimed:
        return Choice([], "not_visible")
    if len(untimed) > len(rivals.times) + rivals.unknown:
        return Choice(untimed)
    return Choice([], "unknown_rivals" if rivals.unknown else "ambiguous")


def _moment(sub: RemoteSubscription) -> datetime | None:
    return sub.last_billed_at or remote_created(sub)


def _closest(match: Match, rival_times: list[datetime | None], timed: list[Match]) -> bool:
    """Whether no rival payment is closer to the subscription's time than this one, and the
    rivals exactly as close (payments made in the same instant) are fewer than the free
    subscriptions of that instant: such payments and subscriptions are interchangeable."""
    moment = _moment(match.subscription)
    if moment is None:
        return False
    tied = 0
    for paid_at in rival_times:
        if paid_at is None:
            return False
        apart = abs((moment - paid_at).total_seconds())
        if apart < match.apart:
            return False
        tied += apart == match.apart
    return tied < sum(1 for other in timed if _moment(other.subscription) == moment)


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
        try:
            with transaction.atomic():
                subscription, inserted = write_subscription(remote)
                if Charge.objects.filter(subscription=subscription).exclude(pk=charge.pk).exists():
                    raise _Taken
        except _Taken:
            continue
        if charge.user_id and subscription.user_id is None:
            # Who subscribed: the signed-in customer whose payment started it.
            subscription.user_id = charge.user_id
            subscription.save(update_fields=["user"])
        if inserted:  # not when a sync page inserted it first (services.subscriptions)
            announce(
                signals.subscription_created,
                Subscription,
                subscription=subscription,
                initial=False,
                source="checkout",
            )
        return subscription
    return None
