"""Copying AcceptOn's plans, subscriptions, promo codes and charges into the local mirrors.

A sync reads a resource's list one page of 100 at a time (the most AcceptOn allows) and writes
each page before reading the next, so memory holds one page whatever the account's size. A page
costs a constant number of queries and at most one commit: one query reads the rows the page
already has; then, in one transaction, the new and changed rows are upserted in one statement
(``services.upsert``), for plans and promo codes the unchanged rows are marked seen, and the
sync's lease is renewed. A page with nothing to write costs the read and the lease's renewal.
Running it twice changes nothing the second time: every object is then ``unchanged``.

Lists are read oldest first where AcceptOn lets them be ordered (plans, promo codes and charges
by ``created_at``; no source gives subscriptions that field, so they are read in the server's
own order). Charges are read by date: from the last successful sync (less a day of overlap)
unless ``full`` or ``since`` say otherwise.

Where a list ends is not documented either (what ``total`` counts is ambiguous, see
``client.Page``): a list ends on a short or empty page. A page that repeats the one before it
means the server ignored ``page``. For charges, whose paging is undocumented, the sync then
reads the rest by date windows (``Charges.walk_by_date``); any other list is left incomplete.
Rows are marked deleted only after a listing that is proven complete (it reached its end, every
object could be read, no page repeated), and only once AcceptOn answers "not found" for each.

Two syncs of one resource in one environment never overlap: each takes a lease on its
``SyncState`` row with one conditional update (the same on SQLite and PostgreSQL), renewed on
every page. A lease rather than a database lock, because a sync fanned out over Celery workers
holds it across many tasks and processes: ``start_sync`` takes it, any number of
``sync_page_range`` calls (in any process, in any order) write pages, ``finish_sync`` records the
outcome and gives it back. ``sync`` runs the three in a row.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django.db import DataError, IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from django_accepton import signals
from django_accepton.api import current_environment, get_client
from django_accepton.client import AcceptOn, AcceptOnError, NotFoundError, Page
from django_accepton.client import Charge as RemoteCharge
from django_accepton.client import Plan as RemotePlan
from django_accepton.client import PromoCode as RemotePromoCode
from django_accepton.client import Subscription as RemoteSubscription
from django_accepton.client.resources import parse_boolean
from django_accepton.client.validation import MAX_PER_PAGE
from django_accepton.models import Charge, Plan, PromoCode, Subscription, SyncResource, SyncState
from django_accepton.services import (
    charges,
    cleaning,
    plans,
    promo_codes,
    renewals,
    subscriptions,
    upsert,
)
from django_accepton.services.changes import announce

logger = logging.getLogger(__name__)

PER_PAGE = MAX_PER_PAGE
# A page takes at most the client's timeouts (5 + 30 s) and its retries; the lease is renewed
# on every page, so it only runs out when the process holding it has died.
LOCK_TTL = timedelta(minutes=10)
# AcceptOn filters charges by calendar day (UTC): read the day before the last sync again.
CHARGE_OVERLAP = timedelta(days=1)
# Rows a full listing did not show are looked up one by one before being marked deleted, up to
# this many; beyond it the listing is trusted only if it showed as many objects as AcceptOn
# reported (an account wiped on staging, say).
MAX_DELETION_CHECKS = 200

RESOURCES: tuple[str, ...] = tuple(SyncResource.values)
ORDER = ("created_at", "asc")
# A full charge sync without a known start reads by date from here when paging is ignored.
EPOCH = date(2015, 1, 1)


class SyncError(Exception):
    """A sync could not run or did not finish; ``result`` holds what it did until then."""

    def __init__(self, message: str, *, result: SyncResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class SyncAlreadyRunning(SyncError):
    """Another sync of the same resource and environment holds the lease."""


class SyncLockLost(SyncError):
    """The lease ran out and was taken by another sync; this one stopped writing."""


@dataclass
class SyncResult:
    """What a sync (or one page range of it) did. ``requests`` counts API calls made."""

    resource: str
    environment: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    deleted: int = 0
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    # AcceptOn's ``total`` on the last page read, and that page's number.
    remote_total: int | None = None
    last_page: int = 0
    # The listing reached its end (a short or empty page, or the last date window).
    reached_end: bool = False
    # A page repeated the one before it, or a day held more charges than a page could show.
    incomplete: bool = False
    dry_run: bool = False
    since: str | None = None
    until: str | None = None

    COUNTS = ("created", "updated", "unchanged", "failed", "deleted", "pages", "requests")

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    @property
    def complete(self) -> bool:
        """Every object of the list was read: deletions may be looked for."""
        return self.reached_end and not self.incomplete and not self.failed

    def merge(self, other: SyncResult) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        self.reached_end = self.reached_end or other.reached_end
        self.incomplete = self.incomplete or other.incomplete
        if other.last_page >= self.last_page:
            self.last_page, self.remote_total = other.last_page, other.remote_total

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncResult:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class SyncRun:
    """One sync between ``start_sync`` and ``finish_sync``; JSON-safe through ``as_dict`` so
    that Celery tasks can pass it along."""

    resource: str
    environment: str
    lock_token: str
    started_at: datetime
    since: date | None = None
    until: date | None = None
    dry_run: bool = False
    #: The caller chose the dates (a backfill): its success never moves the incremental
    #: cursor, which only a run reading up to now from the last success may move.
    bounded: bool = False
    #: No run of this resource has succeeded before: what it finds existed already (an account
    #: the package was just installed on), and ``subscription_created`` says so (``initial``).
    initial: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "environment": self.environment,
            "lock_token": self.lock_token,
            "started_at": self.started_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "dry_run": self.dry_run,
            "bounded": self.bounded,
            "initial": self.initial,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncRun:
        started_at = parse_datetime(data["started_at"])
        if started_at is None:
            raise ValueError(f"started_at is not a timestamp: {data['started_at']!r}")
        return cls(
            resource=data["resource"],
            environment=data["environment"],
            lock_token=data["lock_token"],
            started_at=started_at,
            since=parse_date(data["since"]) if data.get("since") else None,
            until=parse_date(data["until"]) if data.get("until") else None,
            dry_run=bool(data.get("dry_run")),
            bounded=bool(data.get("bounded")),
            initial=bool(data.get("initial")),
        )

    def new_result(self) -> SyncResult:
        return SyncResult(
            resource=self.resource,
            environment=self.environment,
            dry_run=self.dry_run,
            since=self.since.isoformat() if self.since else None,
            until=self.until.isoformat() if self.until else None,
        )


Progress = Callable[[SyncResult], None]


class _Unreadable:
    """A listed object the client could not read; counted as failed, the page goes on."""

    def __init__(self, data: Any, error: str) -> None:
        self.key = (data.get("id") or data.get("name")) if isinstance(data, dict) else None
        self.error = error


def _lenient(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_item(data: Any) -> Any:
        try:
            return parse(data)
        except (ValueError, TypeError, KeyError) as exc:
            return _Unreadable(data, str(exc))

    return parse_item


@dataclass(frozen=True)
class _Spec:
    """How one resource is listed, keyed, turned into rows and upserted."""

    name: str
    model: type[models.Model]
    key_field: str
    unique_fields: tuple[str, ...]
    update_fields: tuple[str, ...]
    fetch: Callable[[AcceptOn, SyncRun, int], Page[Any]]
    build: Callable[[Any, str, datetime], models.Model]
    key: Callable[[Any], str]
    # Only resources AcceptOn can delete are checked for deletions: plans and promo codes.
    retrieve: Callable[[AcceptOn, str], Any] | None = None


def _fetch_plans(client: AcceptOn, run: SyncRun, number: int) -> Page[Any]:
    service = client.plans
    filters = service.filters(*ORDER)
    return service.fetch_page(
        service.path, _lenient(RemotePlan.from_json), filters, number, PER_PAGE
    )


def _fetch_subscriptions(client: AcceptOn, run: SyncRun, number: int) -> Page[Any]:
    service = client.subscriptions
    filters = service.filters(None, None, None, None)
    return service.fetch_page(
        service.path, _lenient(RemoteSubscription.from_json), filters, number, PER_PAGE
    )


def _fetch_promo_codes(client: AcceptOn, run: SyncRun, number: int) -> Page[Any]:
    service = client.promo_codes
    filters = service.filters(None, *ORDER)
    return service.fetch_page(
        service.path, _lenient(RemotePromoCode.from_json), filters, number, PER_PAGE
    )


def _fetch_charges(client: AcceptOn, run: SyncRun, number: int) -> Page[Any]:
    # "Created after" and "created before" (AcceptOn's start_date and end_date), while the run
    # means its days themselves: each bound is moved a day out, and the extra charges are
    # mirrored like any other.
    since = run.since - timedelta(days=1) if run.since else None
    until = run.until + timedelta(days=1) if run.until else None
    service = client.charges
    filters = service.filters(None, since, until, *ORDER)
    return service.fetch_page(
        service.path, _lenient(RemoteCharge.from_json), filters, number, PER_PAGE
    )


SPECS: dict[str, _Spec] = {
    SyncResource.PLANS: _Spec(
        name=SyncResource.PLANS,
        model=Plan,
        key_field="id",
        unique_fields=("id",),
        update_fields=plans.MIRRORED_FIELDS,
        fetch=_fetch_plans,
        build=plans.plan_row,
        key=lambda remote: remote.id,
        retrieve=lambda client, key: client.plans.retrieve(key),
    ),
    SyncResource.SUBSCRIPTIONS: _Spec(
        name=SyncResource.SUBSCRIPTIONS,
        model=Subscription,
        key_field="id",
        unique_fields=("id",),
        update_fields=subscriptions.MIRRORED_FIELDS,
        fetch=_fetch_subscriptions,
        build=subscriptions.subscription_row,
        key=lambda remote: remote.id,
    ),
    SyncResource.PROMO_CODES: _Spec(
        name=SyncResource.PROMO_CODES,
        model=PromoCode,
        key_field="name",
        unique_fields=("environment", "name"),
        update_fields=promo_codes.MIRRORED_FIELDS,
        fetch=_fetch_promo_codes,
        build=promo_codes.promo_code_row,
        key=lambda remote: remote.name,
        retrieve=lambda client, key: client.promo_codes.retrieve(key),
    ),
    SyncResource.CHARGES: _Spec(
        name=SyncResource.CHARGES,
        model=Charge,
        key_field="id",
        unique_fields=("id",),
        update_fields=charges.MIRRORED_FIELDS,
        fetch=_fetch_charges,
        build=charges.charge_row,
        key=lambda remote: remote.id,
    ),
}


def _spec(resource: str) -> _Spec:
    try:
        return SPECS[resource]
    except KeyError:
        raise ValueError(
            f"Unknown resource {resource!r}; choose from {', '.join(RESOURCES)}."
        ) from None


# ----- the lease --------------------------------------------------------------------------------


def start_sync(
    resource: str,
    *,
    since: date | None = None,
    until: date | None = None,
    full: bool = False,
    dry_run: bool = False,
) -> SyncRun:
    """Take the lease of ``resource`` in the current environment and describe the run.

    For charges, ``since``/``until`` bound the dates read; without them the run starts a day
    before the last successful sync began, or reads everything when ``full`` (or when there
    was none). The other resources are always read whole. A dry run takes no lease.
    """
    _spec(resource)
    environment = current_environment()
    now = timezone.now()
    bounded = resource == SyncResource.CHARGES and (since is not None or until is not None)
    if dry_run:
        # A dry run writes nothing, not even the state row.
        found = SyncState.objects.filter(resource=resource, environment=environment).first()
        state = found or SyncState(resource=resource, environment=environment)
    else:
        state, _ = SyncState.objects.get_or_create(resource=resource, environment=environment)
    if resource != SyncResource.CHARGES:
        since = until = None
    elif since is None and not full and state.last_success_started_at is not None:
        since = (state.last_success_started_at - CHARGE_OVERLAP).astimezone(UTC).date()
    token = "" if dry_run else uuid.uuid4().hex
    if not dry_run:
        acquired = (
            SyncState.objects.filter(pk=state.pk)
            .filter(Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lte=now))
            .update(lock_token=token, lock_expires_at=now + LOCK_TTL, last_started_at=now)
        )
        if not acquired:
            state.refresh_from_db(fields=["lock_expires_at"])
            raise SyncAlreadyRunning(
                f"A sync of {resource} ({environment}) is already running; its lease runs "
                f"until {state.lock_expires_at:%Y-%m-%d %H:%M:%S %Z} unless it finishes first."
            )
    return SyncRun(
        resource=str(resource),
        environment=environment,
        lock_token=token,
        started_at=now,
        since=since,
        until=until,
        dry_run=dry_run,
        bounded=bounded,
        initial=state.last_success_started_at is None,
    )


def _renew(run: SyncRun) -> None:
    if run.dry_run:
        return
    renewed = SyncState.objects.filter(
        resource=run.resource, environment=run.environment, lock_token=run.lock_token
    ).update(lock_expires_at=timezone.now() + LOCK_TTL)
    if not renewed:
        raise SyncLockLost(
            f"The sync of {run.resource} ({run.environment}) lost its lease to another run."
        )


def _release(run: SyncRun, **changes: Any) -> None:
    state = SyncState.objects.filter(resource=run.resource, environment=run.environment)
    if changes:
        state.update(**changes)
    if not run.dry_run:
        state.filter(lock_token=run.lock_token).update(lock_token="", lock_expires_at=None)


# ----- pages ------------------------------------------------------------------------------------


def sync_page_range(
    run: SyncRun,
    first_page: int = 1,
    last_page: int | None = None,
    *,
    progress: Progress | None = None,
) -> SyncResult:
    """Read and write pages ``first_page`` to ``last_page`` (to the end of the list when
    ``None``), stopping early at the list's end. Any split of a list into ranges writes the
    same rows as one range over all of it.

    A page that repeats the one before it means the server ignores ``page``
    (:func:`_paging_ignored`). The range that starts at page 2 first reads page 1 again,
    unwritten, to tell that at once; later ranges tell it from their second page."""
    spec = _spec(run.resource)
    client = get_client()
    result = run.new_result()
    clock = time.monotonic()
    number = first_page
    previous: Page[Any] | None = None
    try:
        if first_page == 2:
            result.requests += 1
            previous = spec.fetch(client, run, 1)
        while last_page is None or number <= last_page:
            result.requests += 1
            page = spec.fetch(client, run, number)
            if previous is not None and page.repeats(previous):
                read_first = first_page <= 2
                _paging_ignored(spec, run, client, previous, result, progress, read_first)
                break
            result.pages += 1
            _write(spec, run, page.data, result, lease=True)
            result.remote_total, result.last_page = page.total, number
            result.reached_end = not page.has_more
            if progress is not None:
                progress(result)
            if result.reached_end:
                break
            previous = page
            number += 1
    except AcceptOnError as exc:
        result.seconds = time.monotonic() - clock
        raise SyncError(
            f"Syncing {run.resource} stopped at page {number}: {exc}", result=result
        ) from exc
    result.seconds = time.monotonic() - clock
    return result


def _paging_ignored(
    spec: _Spec,
    run: SyncRun,
    client: AcceptOn,
    written: Page[Any],
    result: SyncResult,
    progress: Progress | None,
    read_on: bool,
) -> None:
    """A page repeated ``written``, the page before it: AcceptOn ignores ``page``. Charges are
    read on by date windows, once, by the range that started at page 1 or 2 (``read_on``),
    leaving out what ``written`` already wrote; any other list stays incomplete."""
    if spec.name != SyncResource.CHARGES:
        result.incomplete = True
        logger.warning(
            "%s: a page repeats the one before it, AcceptOn ignores paging on this list; only "
            "its first page was read and deletions are not checked.",
            spec.name,
        )
        return
    if not read_on:
        return
    done = {spec.key(item) for item in written.data if not isinstance(item, _Unreadable)}
    first = run.since or _first_charge_day(client)
    last = run.until or (timezone.now() + CHARGE_OVERLAP).astimezone(UTC).date()
    for window in client.charges.walk_by_date(
        first, last, parse_item=_lenient(RemoteCharge.from_json), per_page=PER_PAGE
    ):
        result.requests += 1
        result.pages += 1
        fresh = [
            item
            for item in window.page.data
            if isinstance(item, _Unreadable) or spec.key(item) not in done
        ]
        _write(spec, run, fresh, result, lease=True)
        if not window.complete:
            result.incomplete = True
            logger.warning(
                "charges: more than %d charges from %s to %s, and AcceptOn ignores paging and "
                "the time of day in date filters; only %d of them were read.",
                PER_PAGE,
                window.start.isoformat(),
                window.end.isoformat(),
                len(window.page.data),
            )
        if progress is not None:
            progress(result)
    result.reached_end = True


def _first_charge_day(client: AcceptOn) -> date:
    """The day the date walk starts: the oldest charge's, asked for as the first of two in
    ascending order. A server that lists them otherwise (its fixtures show the newest first)
    says nothing about the oldest one, and the walk starts at ``EPOCH``."""
    service = client.charges
    page = service.fetch_page(
        service.path,
        _lenient(RemoteCharge.from_json),
        service.filters(None, None, None, *ORDER),
        1,
        2,
    )
    listed = [item.created for item in page.data if isinstance(item, RemoteCharge)]
    created = [moment for moment in listed if moment is not None]
    if not created or len(created) < len(listed):
        return EPOCH
    if len(created) > 1 and created[1] < created[0]:  # not in the order asked for
        return EPOCH
    return created[0].astimezone(UTC).date() - CHARGE_OVERLAP


def _existing(spec: _Spec, environment: str, keys: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """``key -> (raw, deleted_at)`` of the rows this page already has, in one query."""
    tracked = ("deleted_at",) if spec.retrieve is not None else ()
    rows = upsert.read_rows(
        spec.model,
        spec.key_field,
        keys,
        ("raw", *tracked),
        environment=environment if spec.key_field != "id" else None,
    )
    return {row[0]: row[1:] for row in rows}


class _Refused(Exception):
    """The database refused a page's single upsert: the page is written again, row by row."""


@dataclass
class _Page:
    """What writing a page takes, found by comparing it with the rows it already has."""

    existing: dict[str, tuple[Any, ...]]
    counts: SyncResult
    # Rows to upsert (new or changed), by key, as the builders made them.
    built: dict[str, models.Model] = field(default_factory=dict)
    # Keys of rows that are the same as AcceptOn's object.
    unchanged: list[str] = field(default_factory=list)
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def _write(
    spec: _Spec, run: SyncRun, items: Iterable[Any], result: SyncResult, *, lease: bool = False
) -> None:
    """Write a page of ``items``, renewing the run's lease when ``lease``.

    The rows the page already has are read first, in one query outside any transaction (the
    lease keeps other syncs of the resource away, and a read inside one would lock nothing
    more). A page with nothing to write then costs that query and the lease's renewal. Any
    other page is written in one transaction: the new and changed rows upserted in one
    statement (:mod:`~django_accepton.services.upsert`), the unchanged ones marked seen, and
    the lease renewed last; its change signals go out once it commits, and the renewals it
    shows are linked then (:func:`_link_renewals`). One commit a page.

    When the database refuses the upsert (a value it will not store), that transaction is
    rolled back whole and the page written again with each row in its own savepoint, so one
    bad row never stops the page and the common page pays for no savepoint. A refusal that
    says nothing about the rows (a lock timeout, a lost connection) is not caught: it stops
    the run."""
    readable = _readable(spec, items, result)
    page = _compare(spec, run, readable)
    if run.dry_run:
        _add(result, page.counts)
        return
    if not page.built and not (page.unchanged and spec.retrieve is not None):
        if lease:
            _renew(run)
        _add(result, page.counts)
    else:
        for whole in (True, False):
            try:
                with transaction.atomic():
                    _write_page(spec, run, page, whole=whole)
                    if lease:
                        # Last: the state row stays locked from here to the commit only, so
                        # the page ranges of a run fanned out over workers do not queue
                        # behind it; a lease lost meanwhile rolls the page back.
                        _renew(run)
            except _Refused:
                continue
            _add(result, page.counts)
            break
    _link_renewals(spec, run, readable, page)


def _link_renewals(spec: _Spec, run: SyncRun, readable: dict[str, Any], page: _Page) -> None:
    """Link the renewals a written page shows, after it committed, each link in a transaction
    of its own that holds one subscription and one charge (``renewals``). Inside the page's
    transaction a link would hold the page's rows while waiting for a subscription, and a
    charge page and a subscription page, each holding what the other's links want, would wait
    for each other.

    A run that dies between the commit and its links leaves them to the next subscription
    sync, which looks again at every mirrored subscription billed in the last
    ``renewals.RELINK_WITHIN``, changed or not."""
    if spec.name == SyncResource.CHARGES:
        # New and changed charges: an unchanged one was judged when it was written, and a
        # subscription billed since is matched from its side (link_billed).
        renewals.link_renewals(run.environment, page.built)
    elif spec.name == SyncResource.SUBSCRIPTIONS:
        # Only a subscription mirrored before can have a first payment linked here (a new
        # one's billing is its own first payment).
        recent = timezone.now() - renewals.RELINK_WITHIN
        moments = [
            remote.last_billed_at
            for key, remote in readable.items()
            if key in page.existing
            and remote.last_billed_at is not None
            and (key in page.built or remote.last_billed_at >= recent)
        ]
        renewals.link_billed(run.environment, moments)


def _add(result: SyncResult, counts: SyncResult) -> None:
    for name in ("created", "updated", "unchanged", "failed"):
        setattr(result, name, getattr(result, name) + getattr(counts, name))


def _readable(spec: _Spec, items: Iterable[Any], result: SyncResult) -> dict[str, Any]:
    """``key -> object`` of the page's objects that can be written; the others are counted
    failed and logged."""
    readable: dict[str, Any] = {}
    for item in items:
        if isinstance(item, _Unreadable):
            result.failed += 1
            logger.warning("Unreadable %s %s from AcceptOn: %s", spec.name, item.key, item.error)
        elif not cleaning.storable_key(spec.model, spec.key_field, spec.key(item)):
            # Not even looked up: PostgreSQL refuses such a key in any statement.
            result.failed += 1
            logger.warning("Unstorable %s key from AcceptOn: %r", spec.name, spec.key(item)[:80])
        else:
            # A key listed twice on one page is written once (PostgreSQL refuses an upsert
            # that touches a row twice).
            readable[spec.key(item)] = item
    return readable


def _compare(spec: _Spec, run: SyncRun, readable: dict[str, Any]) -> _Page:
    """The page's objects against the rows it already has: what to write, what to announce."""
    now = timezone.now()
    page = _Page(
        existing=_existing(spec, run.environment, list(readable)) if readable else {},
        counts=run.new_result(),
    )
    for key, remote in readable.items():
        before = page.existing.get(key)
        if (
            before is not None
            and _same(before[0], remote.raw)
            and (len(before) == 1 or before[1] is None)
        ):
            page.counts.unchanged += 1
            page.unchanged.append(key)
            continue
        try:
            page.built[key] = spec.build(remote, run.environment, now)
        except (ValueError, TypeError) as exc:  # cleaning.Unstorable among them
            page.counts.failed += 1
            logger.warning("Unstorable %s %s from AcceptOn: %s", spec.name, key, exc)
            continue
        page.events += _changes(spec.name, key, before[0] if before else None, remote, run.initial)
        if before is None:
            page.counts.created += 1
        else:
            page.counts.updated += 1
    return page


def _write_page(spec: _Spec, run: SyncRun, page: _Page, *, whole: bool) -> None:
    """Write ``page`` inside the caller's transaction: in one statement when ``whole``, else
    row by row, leaving out (and counting failed, and out of ``page.built``) the rows the
    database refuses."""
    now = timezone.now()
    built, events = page.built, page.events
    if built and whole:
        try:
            upsert.upsert(
                spec.model,
                list(built.values()),
                unique_fields=spec.unique_fields,
                update_fields=spec.update_fields,
            )
        except (DataError, IntegrityError) as exc:
            logger.warning(
                "A %s page was refused whole (%s); writing it row by row", spec.name, exc
            )
            raise _Refused from exc
    elif built:
        refused = _upsert_each(spec, list(built.values()))
        for key in refused:
            page.counts.failed += 1
            if key in page.existing:
                page.counts.updated -= 1
            else:
                page.counts.created -= 1
        built = page.built = {key: row for key, row in built.items() if key not in refused}
        events = [event for event in events if event[1] not in refused]
    new = {key for name, key, _ in events if name == "subscription_created"}
    if new:
        # Only the rows this page's upsert inserted are new: a checkout may have inserted one,
        # and announced it, since the page read its rows (services.subscriptions).
        inserted = subscriptions.inserted_by({key: cast(Subscription, built[key]) for key in new})
        page.counts.created -= len(new - inserted)
        page.counts.updated += len(new - inserted)
        events = [e for e in events if e[0] != "subscription_created" or e[1] in inserted]
    if page.unchanged and spec.retrieve is not None:
        spec.model._default_manager.filter(
            environment=run.environment, **{f"{spec.key_field}__in": page.unchanged}
        ).update(last_seen_at=now)
    if events:
        # A refunded flag found here does not settle an attention item: under one reading of
        # AcceptOn's documents it turns on at a partial refund, so part of the money may still
        # be held. Refunds through the package settle it once they cover the charge; a human
        # marks it settled otherwise.
        _announce(spec, run.environment, events, written=built)


def _upsert_each(spec: _Spec, rows: list[models.Model]) -> set[str]:
    """Write ``rows`` one by one, each in its own savepoint; the keys of those the database
    refused (each logged with its reason)."""
    refused: set[str] = set()
    for row in rows:
        try:
            with transaction.atomic():
                upsert.upsert(
                    spec.model,
                    [row],
                    unique_fields=spec.unique_fields,
                    update_fields=spec.update_fields,
                )
        except (DataError, IntegrityError) as exc:
            # What this row holds is refused. Anything else (a lock timeout, a lost
            # connection) says nothing about the row: it stops the run, which then is not
            # recorded as a success.
            key = str(getattr(row, spec.key_field))
            refused.add(key)
            logger.warning("%s %s could not be stored: %s", spec.name, key, exc)
    return refused


# ----- what a page changed ----------------------------------------------------------------------


def _same(stored: Any, fresh: Any) -> bool:
    """Whether the mirror's copy of AcceptOn's JSON is what AcceptOn sent now. The copy was
    cleaned when it was written (services.cleaning), so JSON holding what a database cannot
    store is compared cleaned; anything else never pays for the cleaning."""
    return bool(stored == fresh or stored == cleaning.clean_json(fresh))


def _changes(
    resource: str, key: str, before: Any, remote: Any, initial: bool = False
) -> list[tuple[str, str, dict[str, Any]]]:
    """The change signals a listed object calls for, against the mirror's copy of AcceptOn's
    JSON (``before``; ``None`` for a new row). The services update that copy when they make a
    change, so what they announced is not announced again here."""
    raw = before if isinstance(before, dict) else None
    if resource == SyncResource.SUBSCRIPTIONS:
        if raw is None:
            return [("subscription_created", key, {"initial": initial})]
        # A renewal is announced with its charge, by services.renewals, not from the
        # subscription's ``last_billed_at`` (which no document says when it moves).
        if _flag(raw, "active", default=True) and not remote.active:
            return [("subscription_cancelled", key, {})]
        return []
    if resource == SyncResource.CHARGES:
        if raw is None or _flag(raw, "refunded", default=False) or not remote.refunded:
            return []
        # Only AcceptOn's flag is known: not the amount, nor (its meaning is undocumented)
        # whether it is all of the charge.
        return [("charge_refunded", key, {"amount": None, "full": None})]
    if resource == SyncResource.PROMO_CODES and raw is not None and not _same(raw, remote.raw):
        return [("promo_code_changed", key, {})]
    return []


def _flag(raw: dict[str, Any], key: str, *, default: bool) -> bool:
    """A true/false of the mirror's copy of AcceptOn's JSON, read as the client reads it
    (``"false"`` and ``0`` are false); what it cannot read counts as ``default``."""
    try:
        return parse_boolean(raw.get(key), key, default=default)
    except ValueError:
        return default


_SENT_AS = {
    "subscription_created": ("subscription", signals.subscription_created),
    "subscription_cancelled": ("subscription", signals.subscription_cancelled),
    "charge_refunded": ("charge", signals.charge_refunded),
    "promo_code_changed": ("promo_code", signals.promo_code_changed),
    "plan_deleted": ("plan", signals.plan_deleted),
    "promo_code_deleted": ("promo_code", signals.promo_code_deleted),
}


def _announce(
    spec: _Spec,
    environment: str,
    events: list[tuple[str, str, dict[str, Any]]],
    *,
    written: dict[str, models.Model] | None = None,
) -> None:
    """Announce ``events`` with the rows as written, after the page commits. A new row is sent
    as the page wrote it (no query: a first sync announces every object); any other change
    with the row read back, in one query, with what the store added to it (its user)."""
    written = written or {}
    by_key: dict[str, Any] = {
        key: written[key]
        for name, key, _ in events
        if name == "subscription_created" and key in written
    }
    others = {key for name, key, _ in events if key not in by_key}
    if others:
        # Where the page wrote, whatever a router says of reads.
        rows = spec.model._default_manager.db_manager(upsert.WRITTEN_ON).filter(
            **{f"{spec.key_field}__in": others}
        )
        if spec.key_field != "id":
            rows = rows.filter(environment=environment)
        by_key.update({getattr(row, spec.key_field): row for row in rows})
    for name, key, extra in events:
        row = by_key.get(key)
        if row is None:
            continue
        argument, signal = _SENT_AS[name]
        announce(signal, spec.model, **{argument: row}, **extra, source="sync")


# ----- a few objects, now ------------------------------------------------------------------------

_RETRIEVE: dict[str, Callable[[AcceptOn, str], Any]] = {
    SyncResource.PLANS: lambda client, key: client.plans.retrieve(key),
    SyncResource.SUBSCRIPTIONS: lambda client, key: client.subscriptions.retrieve(key),
    SyncResource.PROMO_CODES: lambda client, key: client.promo_codes.retrieve(key),
    SyncResource.CHARGES: lambda client, key: client.charges.retrieve(key),
}


def resync(resource: str, keys: Iterable[str]) -> SyncResult:
    """Read the objects ``keys`` of ``resource`` from AcceptOn now and write them as a sync
    page would: cleaned, upserted, their changes announced once, renewals linked. For the
    admin's "re-sync selected". One call per object; an object AcceptOn does not know, or
    could not be read, is counted failed (never marked deleted: only a complete listing
    proves that) and the others go on. No lease is taken: a page written twice is the same
    page."""
    spec = _spec(resource)
    run = SyncRun(
        resource=str(resource),
        environment=current_environment(),
        lock_token="",
        started_at=timezone.now(),
    )
    result = run.new_result()
    client = get_client()
    found: list[Any] = []
    for key in dict.fromkeys(keys):
        result.requests += 1
        try:
            found.append(_RETRIEVE[spec.name](client, key))
        except AcceptOnError as exc:
            result.failed += 1
            logger.warning("Re-syncing %s %s: %s", spec.name, key, exc)
    _write(spec, run, found, result)
    return result


# ----- the end of a run -------------------------------------------------------------------------


def finish_sync(run: SyncRun, results: Iterable[SyncResult]) -> SyncResult:
    """Add up the page ranges, handle deletions, record the success and give the lease back."""
    spec = _spec(run.resource)
    total = run.new_result()
    for result in results:
        total.merge(result)
    try:
        if spec.retrieve is not None and not run.dry_run:
            _renew(run)
            _mark_deletions(spec, run, total)
    except BaseException as exc:
        abandon_sync(run, exc)
        raise
    total.seconds = (timezone.now() - run.started_at).total_seconds()
    if not run.dry_run and total.incomplete:
        # Not a success: the next incremental run starts from the last complete one, so what
        # this one could not read is read again.
        _release(
            run,
            last_result=total.as_dict(),
            last_error="The listing was incomplete (see the warnings); the last success stays.",
        )
    elif not run.dry_run and run.bounded:
        # A backfill of chosen dates: what earlier runs missed outside them is still missed.
        _release(run, last_result=total.as_dict(), last_error="")
    elif not run.dry_run:
        _release(
            run,
            last_success_started_at=run.started_at,
            last_success_finished_at=timezone.now(),
            last_result=total.as_dict(),
            last_error="",
        )
    logger.info(
        "Synced %s (%s): %d created, %d updated, %d unchanged, %d failed, %d deleted; "
        "%d pages in %.1f s%s",
        run.resource,
        run.environment,
        total.created,
        total.updated,
        total.unchanged,
        total.failed,
        total.deleted,
        total.pages,
        total.seconds,
        " (incomplete)" if total.incomplete else "",
    )
    return total


def abandon_sync(run: SyncRun, error: BaseException | str) -> None:
    """Record why the run failed and give its lease back; the last success stays as it was."""
    logger.warning("Sync of %s (%s) failed: %s", run.resource, run.environment, error)
    if not run.dry_run:
        _release(run, last_error=str(error)[:2000])


def _mark_deletions(spec: _Spec, run: SyncRun, result: SyncResult) -> None:
    """Mark rows this run did not see as deleted on AcceptOn, once AcceptOn confirms it.

    Only after a complete listing, and only rows AcceptOn then answers "not found" for, up to
    ``MAX_DELETION_CHECKS`` a run: the rest are checked by the next runs. A listing can look
    complete and still have missed an object (one that moved between two pages while they were
    read), and what ``total`` counts is not documented, so nothing else proves a deletion.
    """
    if not result.complete:
        logger.warning(
            "%s: the listing is not known to be complete (%d unreadable, end reached: %s, "
            "paging ignored or a page too full: %s); deletions are not checked this time.",
            spec.name,
            result.failed,
            result.reached_end,
            result.incomplete,
        )
        return
    unseen = spec.model._default_manager.filter(
        Q(last_seen_at__lt=run.started_at) | Q(last_seen_at__isnull=True),
        environment=run.environment,
        deleted_at__isnull=True,
    ).order_by(spec.key_field)
    keys = list(unseen.values_list(spec.key_field, flat=True)[: MAX_DELETION_CHECKS + 1])
    if len(keys) > MAX_DELETION_CHECKS:
        logger.warning(
            "%s: more than %d rows were not listed; %d are checked now, the rest by the next "
            "syncs.",
            spec.name,
            MAX_DELETION_CHECKS,
            MAX_DELETION_CHECKS,
        )
        keys = keys[:MAX_DELETION_CHECKS]
    now = timezone.now()
    assert spec.retrieve is not None
    client = get_client()
    gone = []
    for key in keys:
        result.requests += 1
        try:
            remote = spec.retrieve(client, key)
        except NotFoundError:
            gone.append(key)
            continue
        except AcceptOnError as exc:
            raise SyncError(
                f"Checking whether {spec.name} {key} was deleted failed: {exc}", result=result
            ) from exc
        # The listing missed it (it moved between two pages while they were read).
        _write(spec, run, [remote], result)
    if gone:
        result.deleted += spec.model._default_manager.filter(
            environment=run.environment, **{f"{spec.key_field}__in": gone}
        ).update(deleted_at=now)
        deleted = "plan_deleted" if spec.name == SyncResource.PLANS else "promo_code_deleted"
        _announce(spec, run.environment, [(deleted, key, {}) for key in gone])


# ----- whole syncs ------------------------------------------------------------------------------


def sync(
    resource: str,
    *,
    since: date | None = None,
    until: date | None = None,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Sync one resource in this process: ``start_sync``, every page, ``finish_sync``."""
    run = start_sync(resource, since=since, until=until, full=full, dry_run=dry_run)
    try:
        result = sync_page_range(run, 1, None, progress=progress)
    except BaseException as exc:
        abandon_sync(run, exc)
        raise
    return finish_sync(run, [result])


def sync_plans(*, dry_run: bool = False, progress: Progress | None = None) -> SyncResult:
    return sync(SyncResource.PLANS, dry_run=dry_run, progress=progress)


def sync_subscriptions(*, dry_run: bool = False, progress: Progress | None = None) -> SyncResult:
    return sync(SyncResource.SUBSCRIPTIONS, dry_run=dry_run, progress=progress)


def sync_promo_codes(*, dry_run: bool = False, progress: Progress | None = None) -> SyncResult:
    return sync(SyncResource.PROMO_CODES, dry_run=dry_run, progress=progress)


def sync_charges(
    *,
    since: date | None = None,
    until: date | None = None,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Charges created from ``since`` to ``until`` (days, UTC). Without ``since``: from a day
    before the last successful charge sync, or all of them when ``full`` or never synced.

    An incremental sync only sees charges created in its window: a later change to an older
    charge (a refund made in AcceptOn's dashboard) needs a ``full`` sync.
    """
    return sync(
        SyncResource.CHARGES,
        since=since,
        until=until,
        full=full,
        dry_run=dry_run,
        progress=progress,
    )


def page_ranges(
    remote_total: int | None, *, first_page: int = 2, pages_per_range: int = 10
) -> list[tuple[int, int | None]]:
    """Split the pages from ``first_page`` on into ranges for parallel workers.

    The last range is open-ended: it reads on until the list really ends, so objects created
    during the sync are not missed. ``remote_total`` is the ``total`` of page 1; it is used
    only when it cannot be the size of page 1 alone (it exceeds a page), since what it counts
    is undocumented. Otherwise one open range reads on until a short page.
    """
    if pages_per_range < 1:
        raise ValueError("pages_per_range must be at least 1")
    if remote_total is None or remote_total <= PER_PAGE:
        return [(first_page, None)]
    last = math.ceil(remote_total / PER_PAGE)
    if last < first_page:
        return [(first_page, None)]
    ranges: list[tuple[int, int | None]] = []
    start = first_page
    while start + pages_per_range - 1 < last:
        ranges.append((start, start + pages_per_range - 1))
        start += pages_per_range
    ranges.append((start, None))
    return ranges
