"""Deciding, exactly once, whether a charge paid for the token it is claimed for.

The browser only tells us a charge id; everything else comes from AcceptOn with the secret key.

1. The claim: a ``Charge`` row whose primary key is the charge id is inserted and committed.
   The database's uniqueness makes this the single point where one submission wins and every
   other one (double click, redirect plus callback, a replay for another order, 200 threads)
   gets ``already_claimed`` without calling the API. A row the sync copied from AcceptOn
   (``unclaimed``) is taken over by one conditional update instead, with the same effect.
2. The confirmation: the charge is fetched from AcceptOn and judged against the token, then
   the row and the token are updated under row locks in one transaction. If AcceptOn cannot be
   reached the claim stays ``pending`` and :func:`reverify_pending_charges` finishes it later.
3. After that transaction commits, the verdict is announced: ``charge_verified`` by
   :mod:`django_accepton.services.fulfilment` (delivered until the receivers succeed),
   ``charge_rejected`` otherwise, and ``charge_needs_attention`` when a refused charge took
   money (:mod:`django_accepton.services.attention`).

What one verified charge sells is decided in the verdict's transaction, and the database holds
the line: one verified charge per one-off token, and one per order sold once, whatever token
paid it (the order's *sale key*; a second is ``order_already_paid``). A catalogue product, sold
to every shopper, has no sale key: each shopper pays a token of their own.

A charge below the token's amount is a promo code's doing only if a code of the account explains
it exactly (see :func:`_discount`). No AcceptOn document puts the code on the charge, so the
codes themselves are the evidence: the one the charge's metadata names (where a server puts it
there), else the mirrored codes, else the account's codes as AcceptOn lists them now. Each is
tried under every documented reading of a percentage, rounded either way
(``client.pricing.possible_prices``), so a store whose percentage scale is set wrongly still
never refuses a customer its code discounted.

A one-off (``txn_``) token is consumed by the charge that pays it, and a second charge for it is
``token_already_fulfilled``; whether AcceptOn lets one token be paid twice is undocumented. A
plan's recurring (``rtx_``) token is paid by every subscriber: it is never consumed, and each of
its charges is a sale only as the first payment of a subscription AcceptOn reports for the plan
and linked to no other, chosen by billing or creation time where AcceptOn sends one and never
by the typed email alone (see :func:`django_accepton.services.recurring.choose`); a renewal is
``not_a_first_payment``, an ambiguous payment waits and is then ``subscription_undecided``. The
claim is the same for both.

A charge whose status is not one the documents call a success (``paid``, ``completed``;
``succeeded`` as AcceptOn's clients read it) is held: its claim stays pending
(``status_unconfirmed``, the customer sees the pending page) and is looked at again, so a
processor's status that becomes a success is a sale; one that does not is refused
(``not_paid``) and left to a human as an attention item, since no document names a failure
status and money may have been taken.
"""

from __future__ import annotations

import hashlib
import logging
import re
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from django_accepton import signals
from django_accepton.api import current_environment, get_client
from django_accepton.client import AcceptOnError, NotFoundError, PagingIgnored, pricing
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client.resources import PAID_STATUSES
from django_accepton.conf import get_settings
from django_accepton.models import (
    Charge,
    Plan,
    PromoCode,
    Subscription,
    TransactionToken,
    Verification,
)
from django_accepton.services import attention, charges, cleaning, fulfilment, recurring, tokens
from django_accepton.services.mirroring import copy_mirrored

logger = logging.getLogger(__name__)

CHARGE_ID_RE = re.compile(r"^chg_[A-Za-z0-9]{1,60}$")
TOKEN_ID_RE = re.compile(r"^(txn|rtx)_[A-Za-z0-9]{1,60}$")


class Reason(StrEnum):
    OK = "ok"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    DESCRIPTION_MISMATCH = "description_mismatch"
    NOT_PAID = "not_paid"
    REFUNDED = "refunded"
    ALREADY_CLAIMED = "already_claimed"
    # Another charge already paid for the same order (sold once), through another token.
    ORDER_ALREADY_PAID = "order_already_paid"
    # Paid against a plan's recurring token, but not the first payment of a subscription
    # AcceptOn reports for it: a renewal, a one-off charge, or one whose subscription is
    # linked to another charge already.
    NOT_A_FIRST_PAYMENT = "not_a_first_payment"
    # Still pending: the subscription a recurring payment made is not listed (yet).
    SUBSCRIPTION_NOT_VISIBLE = "subscription_not_visible"
    # Still pending: the payer has more payments waiting for a subscription than untimed
    # subscriptions they could have started (see services.recurring.choose).
    SUBSCRIPTION_AMBIGUOUS = "subscription_ambiguous"
    # Still pending: AcceptOn reports a status that is not one of the success statuses the
    # documents show (paid, completed, succeeded); held, and looked at again, then for a human.
    STATUS_UNCONFIRMED = recurring.STATUS_UNCONFIRMED
    # Refused after the lookups: still ambiguous. A human decides (an attention item).
    SUBSCRIPTION_UNDECIDED = recurring.UNDECIDED
    TOKEN_ALREADY_FULFILLED = "token_already_fulfilled"  # noqa: S105 - a reason code
    UNKNOWN_CHARGE = "unknown_charge"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 - a reason code
    API_UNAVAILABLE = "api_unavailable"


PENDING_REASONS = frozenset(
    {
        Reason.API_UNAVAILABLE,
        Reason.SUBSCRIPTION_NOT_VISIBLE,
        Reason.SUBSCRIPTION_AMBIGUOUS,
        Reason.STATUS_UNCONFIRMED,
    }
)


class InvalidSubmission(ValueError):
    """The submitted ids are not even shaped like AcceptOn ids; nothing was looked up."""


@dataclass(frozen=True)
class VerificationResult:
    reason: Reason
    charge_id: str
    token_id: str
    charge: Charge | None = None

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK

    @property
    def pending(self) -> bool:
        return self.reason in PENDING_REASONS

    @property
    def paid(self) -> bool:
        """This charge paid for this token, now or in an earlier submission.

        A customer whose browser submits twice (redirect and callback) sees the success page
        both times, while only the first submission fulfils anything.
        """
        charge = self.charge
        return (
            charge is not None
            and charge.verification == Verification.VERIFIED
            and charge.token_id == self.token_id
        )


def _check_ids(charge_id: object, token_id: object) -> tuple[str, str]:
    # fullmatch: "$" alone also matches before a final newline, and "chg_x\n" must not be a
    # second claim key for the charge chg_x.
    if not isinstance(charge_id, str) or not CHARGE_ID_RE.fullmatch(charge_id):
        raise InvalidSubmission("charge_id must look like chg_… (letters and digits).")
    if not isinstance(token_id, str) or not TOKEN_ID_RE.fullmatch(token_id):
        raise InvalidSubmission("token must look like txn_… or rtx_… (letters and digits).")
    return charge_id, token_id


def verify_charge(
    charge_id: object, token_id: object, *, defer: bool = False, user: Any = None
) -> VerificationResult:
    """Accept ``charge_id`` as payment for ``token_id`` only if AcceptOn says it paid for it.

    ``defer``: record the claim without asking AcceptOn now (it is ``pending``, judged by
    :func:`reverify_pending_charges`); for a submission that must not cost a call right away,
    but must not be lost either. ``user``: the signed-in customer submitting it, linked to the
    charge (and to the subscription a first payment starts) when the token names nobody."""
    charge_id, token_id = _check_ids(charge_id, token_id)
    environment = current_environment()
    token = TransactionToken.objects.filter(pk=token_id, environment=environment).first()
    if token is None:
        return VerificationResult(Reason.UNKNOWN_TOKEN, charge_id, token_id)

    customer = token.user or (user if getattr(user, "is_authenticated", False) else None)
    # Whatever the verdict, no page may hand this token out again.
    tokens.forget_token(token)
    # The claim is one INSERT, committed on its own; a savepoint only inside a caller's
    # transaction, which a refused INSERT would otherwise leave unusable.
    claim = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with claim:
            claimed = Charge.objects.create(
                id=charge_id,
                environment=environment,
                token=token,
                recurring=token.is_recurring,
                user=customer,
            )
    except IntegrityError:
        if _claim_synced_charge(charge_id, token, environment):
            return _confirm(charge_id, token)
        existing = Charge.objects.filter(pk=charge_id).first()
        if existing is None:  # the other claim was for an unknown charge and has been dropped
            return VerificationResult(Reason.UNKNOWN_CHARGE, charge_id, token_id)
        # A pending claim of this charge for this token is this customer's own earlier
        # submission, left undecided by AcceptOn's silence or by a crash between the claim and
        # the verdict: judging it again is safe (the verdict is written once, conditionally).
        retryable = existing.verification == Verification.PENDING and existing.token_id == token.pk
        if not retryable:
            return VerificationResult(Reason.ALREADY_CLAIMED, charge_id, token_id, existing)
        claimed = existing
    if defer:
        Charge.objects.filter(pk=charge_id, verification=Verification.PENDING).update(
            reason=Reason.API_UNAVAILABLE
        )
        return VerificationResult(Reason.API_UNAVAILABLE, charge_id, token_id)
    return _confirm(charge_id, token, claimed)


def _claim_synced_charge(charge_id: str, token: TransactionToken, environment: str) -> bool:
    """Take over a row the sync copied from AcceptOn before anyone claimed the charge.

    Such a row says nothing about who paid for what, so it must neither refuse this claim nor
    count as one. The conditional update is the claim: one statement, so exactly one of many
    concurrent submissions wins, and the charge is then judged like any other claim.
    """
    claimed = Charge.objects.filter(
        pk=charge_id,
        environment=environment,
        verification=Verification.UNCLAIMED,
        token__isnull=True,
    ).update(
        token=token,
        user=token.user,
        recurring=token.is_recurring,
        verification=Verification.PENDING,
        reason="",
        claimed_at=timezone.now(),
    )
    return claimed == 1


def reverify_pending_charges(*, older_than: int | None = None) -> list[VerificationResult]:
    """Finish claims left pending because AcceptOn was unreachable (or the process died)."""
    if older_than is None:
        older_than = get_settings().pending_reverify_after
    cutoff = timezone.now() - timedelta(seconds=older_than)
    pending = Charge.objects.filter(
        verification=Verification.PENDING,
        environment=current_environment(),
        token__isnull=False,
        claimed_at__lte=cutoff,
    ).select_related("token")
    results = []
    for charge in pending.iterator():
        assert charge.token is not None
        try:
            results.append(_confirm(charge.pk, charge.token))
        except Exception:  # one poisoned claim never holds the others up; it stays pending
            logger.exception("Re-verifying charge %s failed; it stays pending", charge.pk)
    return results


def claim_orphaned_charges(*, older_than: int | None = None) -> list[VerificationResult]:
    """Claim paid charges that no browser came back with, for the token they paid.

    A customer who pays and closes the tab before the redirect leaves a charge on AcceptOn
    that the store never heard of; the charge sync copies it here as ``unclaimed``. A charge
    carries its token's description, not the token's id, so it is matched to the open tokens
    with the same description and currency minted before it. Only when every such token was
    minted for the same thing (order, object or reference) is it claimed, for the oldest of
    them, and then judged like any other claim; anything ambiguous is left for a human.

    Nothing is ever claimed for a plan's recurring token. A plan's renewals carry the plan's
    name and price like its first payments, and a renewal claimed as a first payment would
    start a second subscription for one customer (or pay an order that happens to share the
    plan's name and price). So a charge whose description is a plan's name in the plan's
    currency is left unclaimed; a recurring token's description is always its plan's name. No
    document shows a renewal naming its subscription, so the plans are the evidence: the
    mirrored ones and those AcceptOn lists now (no orphan is claimed in a run where they cannot
    be listed). The subscription itself is mirrored by the
    subscription sync, and renewals are linked to it by :mod:`django_accepton.services.renewals`.
    """
    if older_than is None:
        older_than = get_settings().pending_reverify_after
    environment = current_environment()
    cutoff = timezone.now() - timedelta(seconds=older_than)
    orphans = Charge.objects.filter(
        environment=environment,
        verification=Verification.UNCLAIMED,
        token__isnull=True,
        created__lte=cutoff,
    ).exclude(description="")
    if not orphans.exists():
        return []
    plan_names = _plan_names(environment)
    if plan_names is None:
        return []  # a renewal cannot be told from an order's payment now: next run
    results = []
    for charge in orphans.iterator():
        if charge.status.lower() not in PAID_STATUSES or charge.refunded:
            continue
        if (charge.description, charge.currency) in plan_names:
            continue  # a plan's payment or renewal: see above
        candidates = list(
            TransactionToken.objects.filter(
                environment=environment,
                description=charge.description,
                currency=charge.currency,
                consumed_at__isnull=True,
                created__lte=charge.created,
            )
            .order_by("created")
            .values("pk", "content_type_id", "object_id", "reference", "amount", "sold_once")
        )
        # A catalogue product's tokens are its shoppers': one of them cannot be told from the
        # others, so they are candidates only when alone.
        if len(candidates) > 1:
            candidates = [c for c in candidates if c["sold_once"]]
        targets = {(c["content_type_id"], c["object_id"], c["reference"]) for c in candidates}
        if len(targets) != 1:
            continue
        _, object_id, reference = targets.pop()
        if not (object_id or reference):  # a token minted for a bare price names nobody
            continue
        # The token of the charged price, when the price changed between tokens of one order.
        priced = [c for c in candidates if c["amount"] == charge.amount] or candidates
        try:
            results.append(verify_charge(charge.pk, priced[0]["pk"]))
        except Exception:  # one poisoned charge never holds the others up
            logger.exception("Claiming orphaned charge %s failed", charge.pk)
    return results


def _plan_names(environment: str) -> set[tuple[str, str]] | None:
    """``(name, currency)`` of every plan, mirrored or listed by AcceptOn now (a plan made in
    its dashboard since the last sync names renewals too); ``None`` when AcceptOn could not
    list them."""
    names = set(
        Plan.objects.filter(environment=environment).values_list("name", "currency").distinct()
    )
    try:
        for number, plan in enumerate(get_client().plans.iter_all(), start=1):
            names.add((plan.name, (plan.currency or "").lower()))
            if number >= PROMO_PAGES * 100:
                break
    except PagingIgnored:
        pass
    except AcceptOnError as exc:
        logger.warning("Orphaned charges wait: AcceptOn's plans could not be listed (%s)", exc)
        return None
    return names


def summarize(results: list[VerificationResult]) -> dict[str, int]:
    """Counts for a report: verified, still pending, rejected."""
    verified = sum(1 for result in results if result.ok)
    pending = sum(1 for result in results if result.pending)
    return {
        "verified": verified,
        "still_pending": pending,
        "rejected": len(results) - verified - pending,
    }


RECHECK_INTERVAL = timedelta(seconds=5)


def recheck_pending_charge(charge: Charge) -> VerificationResult | None:
    """Try once more to confirm a pending claim, at most every few seconds.

    For the "we are confirming your payment" page, which refreshes itself: it may only finish a
    claim that exists, never make one. ``None`` when it is too early to ask AcceptOn again.
    """
    if charge.verification != Verification.PENDING or charge.token is None:
        return None
    # One conditional update takes the turn: of many visits at once, one asks AcceptOn.
    now = timezone.now()
    turn = (
        Charge.objects.filter(pk=charge.pk, verification=Verification.PENDING)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=now - RECHECK_INTERVAL))
        .update(last_attempt_at=now)
    )
    if not turn:
        return None
    return _confirm(charge.pk, charge.token)


def _confirm(
    charge_id: str, token: TransactionToken, claimed: Charge | None = None
) -> VerificationResult:
    """Ask AcceptOn about the claimed charge and write the verdict. ``claimed``: the claim's
    row as the caller holds it, which lets a sale of a one-off token be written at once
    (:func:`_sold_at_once`)."""
    client = get_client()
    try:
        remote = client.charges.retrieve(charge_id)
    except NotFoundError:
        # A made-up id: no money, nothing to keep, nobody to alert (charge_rejected is for
        # charges that exist).
        Charge.objects.filter(pk=charge_id, verification=Verification.PENDING).delete()
        logger.info(
            "Charge %s submitted for token %s: AcceptOn does not know it", charge_id, token.pk
        )
        return VerificationResult(Reason.UNKNOWN_CHARGE, charge_id, token.pk)
    except AcceptOnError as exc:
        return _stays_pending(charge_id, token, exc)

    # What the network can tell is asked before the transaction (no call while rows are
    # locked): the promo code behind a lower amount, and, for a payment of a recurring token
    # that pays, the subscription AcceptOn created for it.
    try:
        promo_code = _discount(remote, token)
    except AcceptOnError as exc:  # the codes could not be read: judged once they can
        return _stays_pending(charge_id, token, exc)
    discounted = remote.amount if promo_code is not None else None
    if _judge(remote, token, discounted) is Reason.NOT_PAID and _may_hold(charge_id):
        # Not a status the documents call a success, and none they call a failure either
        # (they name none): held, for AcceptOn to say more (see the note above _UNDECIDED).
        return _waits(charge_id, token, remote, Reason.STATUS_UNCONFIRMED, looked=False)
    candidates: list[Any] = []
    undecided = None
    if token.is_recurring and _judge(remote, token, discounted) is Reason.OK:
        try:
            matches = recurring.subscription_candidates(remote, recurring.plan_id_of(token))
        except AcceptOnError as exc:
            return _stays_pending(charge_id, token, exc)
        recurring.learn_rivals(charge_id, token)
        choice = recurring.choose(charge_id, token, remote, matches)
        candidates = choice.subscriptions
        if choice.undecided == "renewal":
            undecided = Reason.NOT_A_FIRST_PAYMENT
        elif choice.undecided == "unknown_rivals":
            return _waits(charge_id, token, remote, Reason.SUBSCRIPTION_AMBIGUOUS, looked=False)
        elif choice.undecided:
            waiting, undecided = _UNDECIDED[choice.undecided]
            if _may_look_again(charge_id):
                return _waits(charge_id, token, remote, waiting)

    if (
        claimed is not None
        and not token.is_recurring
        and _judge(remote, token, discounted) is Reason.OK
    ):
        sold = _sold_at_once(claimed, token, remote, promo_code)
        if sold is not None:
            return sold
    with transaction.atomic():
        # The token first, then the charge: whoever writes a verified charge for a one-off
        # token holds the token's row, so nobody waits for that charge's entry in a unique
        # index while holding the token (see _sold_at_once, which takes them in this order).
        if token.is_recurring:
            # Never consumed, so nothing on it to lock: its subscribers' charges do not queue.
            locked_token = TransactionToken.objects.get(pk=token.pk)
        else:
            # NO KEY: a claim's foreign key check (KEY SHARE) on the token does not wait for it.
            locked_token = TransactionToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        charge = Charge.objects.select_for_update().filter(pk=charge_id).first()
        if charge is None or charge.verification != Verification.PENDING:
            return VerificationResult(Reason.ALREADY_CLAIMED, charge_id, token.pk, charge)
        # A refund is never undone, and a row the sync marked refunded since AcceptOn was
        # asked here holds the newer word: the verdict neither sells it nor copies the older
        # answer over it.
        refunded_since = charge.refunded
        reason = Reason.REFUNDED if refunded_since else _judge(remote, locked_token, discounted)
        # Whether the order was paid through another token is the unique sale key's to say,
        # when the verdict is written (_record_sale): no query for it on every sale.
        sale = sale_key(locked_token)
        subscription = None
        if reason is Reason.OK and locked_token.is_recurring:
            # The first payment of a subscription no charge is linked to yet; anything else
            # (a renewal, a one-off charge posted against the plan's token) is not a sale.
            if undecided is None:
                subscription = recurring.link_subscription(charge, candidates)
            if subscription is None:
                reason = undecided or Reason.NOT_A_FIRST_PAYMENT
        now = timezone.now()
        if not refunded_since:
            _mirror(charge, remote)
        charge.attempts += 1
        charge.last_attempt_at = now
        if reason is Reason.OK:
            reason = _record_sale(charge, locked_token, sale, promo_code, subscription, now)
        if reason is not Reason.OK:
            _record_refusal(charge, remote, reason)
        if reason is Reason.OK:
            charge.token = locked_token  # the receivers get both without another query
            transaction.on_commit(lambda: fulfilment.deliver(charge_id, charge=charge))
        else:
            _send_rejected(charge_id, locked_token, reason, charge)
    if reason is not Reason.OK:
        logger.warning("Charge %s rejected for token %s: %s", charge_id, token.pk, reason)
    return VerificationResult(reason, charge_id, token.pk, charge)


class _Contended(Exception):
    """A sale written at once met another decision: it is written again under row locks."""


def _sold_at_once(
    charge: Charge, token: TransactionToken, remote: RemoteCharge, promo_code: str | None
) -> VerificationResult | None:
    """Write the verdict "paid" for a one-off token in two conditional statements, or leave it
    (``None``) to the locked path when anything else is going on.

    The token was read before AcceptOn was asked, unlocked, and judged paid for. Both writes
    check what the locks would have: the token is consumed only while nobody consumed it, and
    the charge is verified only while it is still this pending claim with no money going
    back (no refund here, none the sync has seen since AcceptOn was asked). The rows are taken
    in the locked path's order, token then charge, so the writer of a verified charge for the
    token always holds the token's row. A concurrent claim of the same token therefore waits
    for this transaction's lock on the token, then finds it consumed; a concurrent submission
    of the same claim does the same, or finds the charge decided; a verified charge for the
    same order through another token makes the unique sale key refuse the row. Each of those
    rolls this transaction back whole and the locked path (:func:`_confirm`) decides, as it
    decides every refusal. The delivery then starts as any other (``fulfilment.deliver``: its
    lease, taken once the verdict committed, checks again that no money went back meanwhile).
    """
    now = timezone.now()
    verdict: dict[str, Any] = {
        **charges.mirrored_values(remote, token.environment, now),
        **_sale_columns(sale_key(token), promo_code, now),
        "last_attempt_at": now,
    }
    try:
        with transaction.atomic():
            consumed = TransactionToken.objects.filter(
                pk=token.pk, consumed_at__isnull=True
            ).update(consumed_at=now)
            if not consumed:
                raise _Contended
            written = Charge.objects.filter(
                pk=charge.pk,
                token_id=token.pk,
                verification=Verification.PENDING,
                # Refunded since AcceptOn was asked (the sync saw it): the locked path refuses.
                refunded=False,
                amount_refunded=0,
            ).update(**verdict, attempts=F("attempts") + 1)
            if not written:
                raise _Contended
    except (_Contended, IntegrityError):
        return None
    for name, value in verdict.items():
        setattr(charge, name, value)
    charge.attempts += 1
    token.consumed_at = now
    charge.token = token  # the receivers get both without another query
    transaction.on_commit(lambda: fulfilment.deliver(charge.pk, charge=charge))
    return VerificationResult(Reason.OK, charge.pk, token.pk, charge)


def sale_key(token: TransactionToken) -> str | None:
    """What a charge for ``token`` sells, when it is sold once: its target object, else the
    store's reference. ``None`` for a plan's token, a catalogue product's (every paid token is
    a sale) and a token minted for a bare price, which names nothing."""
    if token.is_recurring or not token.sold_once:
        return None
    if token.content_type_id and token.object_id:
        return f"{token.environment}:{token.content_type_id}:{token.object_id}"[:128]
    if token.reference:
        # Hashed: a long reference cut to the column would make two orders one sale.
        digest = hashlib.sha256(token.reference.encode()).hexdigest()
        return f"{token.environment}:ref:{digest}"
    return None


def _sold(sale: str, charge_id: str) -> bool:
    return (
        Charge.objects.filter(sale_key=sale, verification=Verification.VERIFIED)
        .exclude(pk=charge_id)
        .exists()
    )


def _sale_columns(sale: str | None, promo_code: str | None, now: datetime) -> dict[str, Any]:
    """The charge's columns that say "paid", as both ways of writing a sale write them."""
    return {
        "reason": Reason.OK,
        "verification": Verification.VERIFIED,
        "verified_at": now,
        "sale_key": sale,
        "promo_code": cleaning.clean_text(promo_code or "")[:255],
    }


def _record_sale(
    charge: Charge,
    token: TransactionToken,
    sale: str | None,
    promo_code: str | None,
    subscription: Subscription | None,
    now: datetime,
) -> Reason:
    """Write the verdict "paid" (inside the verdict's transaction, the rows locked): the charge
    verified, its sale recorded, the token consumed. A concurrent verified charge for the same
    sale, through another token, makes the unique sale key refuse this one: it is then
    ``order_already_paid``, and nothing of the sale is written."""
    for name, value in _sale_columns(sale, promo_code, now).items():
        setattr(charge, name, value)
    charge.subscription = subscription
    # A savepoint only where the sale key may refuse the row: the verdict's transaction goes on.
    guard = transaction.atomic() if sale else nullcontext()
    try:
        with guard:
            charge.save()
    except IntegrityError:
        if not sale or not _sold(sale, charge.pk):
            raise  # not the sale key: nothing here explains it
        charge.verification, charge.verified_at, charge.sale_key = (
            Verification.PENDING,
            None,
            None,
        )
        charge.subscription = None
        charge.promo_code = ""
        return Reason.ORDER_ALREADY_PAID
    if not token.is_recurring:
        token.consumed_at = now
        token.save(update_fields=["consumed_at"])
    return Reason.OK


def _record_refusal(charge: Charge, remote: RemoteCharge, reason: Reason) -> None:
    """Write the verdict "refused"; money AcceptOn took for it becomes an attention item."""
    charge.reason = reason
    charge.verification = Verification.REJECTED
    attention.flag(charge, remote, reason)
    charge.save()


# A charge whose status is not a documented success (AcceptOn's documents show "paid" and
# "completed", its clients read "succeeded", and no failure status is documented; its processors
# are Stripe, PayPal, Braintree, Authorize.net and Amazon) waits as STATUS_UNCONFIRMED while it
# may look again: the customer sees the pending page, and a status that becomes a success is a
# sale like any other. Then it is refused as NOT_PAID, and held for a human as an attention item
# (attention.flag): money may have been taken under a status nobody documented.

# A recurring payment whose subscription could not be chosen: the reason it waits with, and the
# one it is refused with once it may not look again.
_UNDECIDED = {
    "not_visible": (Reason.SUBSCRIPTION_NOT_VISIBLE, Reason.NOT_A_FIRST_PAYMENT),
    "ambiguous": (Reason.SUBSCRIPTION_AMBIGUOUS, Reason.SUBSCRIPTION_UNDECIDED),
}


def _may_look_again(charge_id: str) -> bool:
    """Whether a recurring payment whose subscription could not be chosen may wait for another
    look: until it has had ``SUBSCRIPTION_LOOKUPS`` looks *and* is ``SUBSCRIPTION_WAIT`` old.
    Lookups are counted apart from attempts (a claim that waited out an outage still gets every
    look), and the time keeps a page refreshing every few seconds from spending them all at
    once."""
    return _may_wait(charge_id, "lookups")


def _may_hold(charge_id: str) -> bool:
    """Whether a claim whose status is not a documented success may wait for another look: as
    :func:`_may_look_again`, counted in attempts rather than in looks, which stay whole for the
    subscription a recurring payment looks for once its status is a success."""
    return _may_wait(charge_id, "attempts")


def _may_wait(charge_id: str, counted: str) -> bool:
    row = Charge.objects.filter(pk=charge_id).values_list(counted, "claimed_at").first()
    if row is None:
        return False
    count, claimed_at = row
    young = claimed_at is not None and timezone.now() - claimed_at < recurring.SUBSCRIPTION_WAIT
    return bool(young or count + 1 < recurring.SUBSCRIPTION_LOOKUPS)


def _waits(
    charge_id: str,
    token: TransactionToken,
    remote: RemoteCharge,
    reason: Reason,
    *,
    looked: bool = True,
) -> VerificationResult:
    logger.info("Charge %s stays pending: %s", charge_id, reason)
    # AcceptOn's fields (the payer's email, the time) are kept on the waiting claim: other
    # payments of the same plan tell from them whether this one is a rival for their
    # subscription (see recurring.choose). Never over a refund the sync recorded since
    # AcceptOn was asked: the row keeps that newer word, and only the wait is counted.
    now = timezone.now()
    counted = {
        "reason": reason,
        "attempts": F("attempts") + 1,
        "lookups": F("lookups") + (1 if looked else 0),
        "last_attempt_at": now,
    }
    claim = Charge.objects.filter(pk=charge_id, verification=Verification.PENDING)
    waiting = claim.filter(refunded=False, amount_refunded=0).update(
        **counted, **charges.mirrored_values(remote, token.environment, now)
    ) or claim.update(**counted)
    if not waiting:
        return _decided(charge_id, token)
    return VerificationResult(reason, charge_id, token.pk)


def _decided(charge_id: str, token: TransactionToken) -> VerificationResult:
    """A concurrent submission of the same claim reached the verdict first."""
    charge = Charge.objects.filter(pk=charge_id).first()
    if charge is None:  # dropped: AcceptOn does not know the charge
        return VerificationResult(Reason.UNKNOWN_CHARGE, charge_id, token.pk)
    return VerificationResult(Reason.ALREADY_CLAIMED, charge_id, token.pk, charge)


def _stays_pending(
    charge_id: str, token: TransactionToken, exc: AcceptOnError
) -> VerificationResult:
    logger.warning("Charge %s stays pending: AcceptOn did not answer (%s)", charge_id, exc)
    waiting = Charge.objects.filter(pk=charge_id, verification=Verification.PENDING).update(
        reason=Reason.API_UNAVAILABLE,
        attempts=F("attempts") + 1,
        last_attempt_at=timezone.now(),
    )
    if not waiting:
        return _decided(charge_id, token)
    return VerificationResult(Reason.API_UNAVAILABLE, charge_id, token.pk)


def _judge(remote: RemoteCharge, token: TransactionToken, discounted: int | None) -> Reason:
    # A recurring token is never consumed: each subscriber pays it once.
    if not token.is_recurring and token.consumed_at is not None:
        return Reason.TOKEN_ALREADY_FULFILLED
    if (remote.currency or "").lower() != token.currency:
        return Reason.CURRENCY_MISMATCH
    # Refunded first: under any status, that money went back (no hold, nobody to alert).
    if remote.refunded:
        return Reason.REFUNDED
    if not remote.is_paid:
        return Reason.NOT_PAID
    if remote.amount != token.amount and (discounted is None or remote.amount != discounted):
        return Reason.AMOUNT_MISMATCH
    # The charge carries the token's description: a charge made for another order of the
    # same price is refused here.
    if token.description and remote.description and remote.description != token.description:
        return Reason.DESCRIPTION_MISMATCH
    return Reason.OK


# Codes listed from AcceptOn when neither the charge nor the mirror explains a discount.
PROMO_PAGES = 10


def _promo_name(remote: RemoteCharge) -> str:
    name = remote.metadata.get("promo_code")
    return name.strip() if isinstance(name, str) else ""


def _explains(promo_type: str, value: object, token_amount: int, charged: int) -> bool:
    try:
        number = Decimal(str(value))
        return charged in pricing.possible_prices(token_amount, promo_type, number)
    except (ArithmeticError, ValueError):
        return False


def _discount(remote: RemoteCharge, token: TransactionToken) -> str | None:
    """The name of a promo code of the account that leaves exactly the charged amount from the
    token's; ``None`` when the charge is not below the token's amount, promo codes are not
    accepted, or no code explains it.

    The evidence, cheapest first: the code the charge's metadata names (fetched, never
    trusted by name alone), the mirrored codes (including those deleted after the payment),
    then AcceptOn's own list (up to ``PROMO_PAGES`` pages). Network only: call it outside
    transactions; an ``AcceptOnError`` (the list could not be read) reaches the caller, which
    keeps the claim pending rather than refuse a payment it cannot judge yet.
    """
    charged = remote.amount
    if charged >= token.amount or not get_settings().accept_promo_codes:
        return None
    client = get_client()
    named = _promo_name(remote)
    if named and len(named) <= 255:
        try:
            promo = client.promo_codes.retrieve(named)
        except NotFoundError:
            pass
        else:
            if charged in promo.possible_prices(token.amount):
                return promo.name
    # A code deleted after the payment still explains it.
    alive = Q(deleted_at__isnull=True)
    if remote.created is not None:
        alive |= Q(deleted_at__gte=remote.created)
    mirrored = PromoCode.objects.filter(alive, environment=token.environment)
    for name, promo_type, value in mirrored.values_list("name", "promo_type", "value"):
        if _explains(promo_type, value, token.amount, charged):
            return str(name)
    try:
        for number, listed in enumerate(client.promo_codes.iter_all(), start=1):
            if charged in listed.possible_prices(token.amount):
                return listed.name
            if number >= PROMO_PAGES * 100:
                break
    except PagingIgnored:
        pass
    return None


def _mirror(charge: Charge, remote: RemoteCharge) -> None:
    """Copy AcceptOn's fields onto the claimed row, exactly as the charge sync writes them."""
    fresh = charges.charge_row(remote, charge.environment, timezone.now())
    copy_mirrored(charge, fresh, charges.MIRRORED_FIELDS)


def _send_rejected(
    charge_id: str, token: TransactionToken, reason: Reason, charge: Charge | None
) -> None:
    transaction.on_commit(
        lambda: signals.charge_rejected.send(
            Charge, charge_id=charge_id, token=token, reason=reason, charge=charge
        )
    )
