"""One sync measurement, in a process of its own so that its peak memory and its time are its own.

``python -m benchmarks.sync_case MODE [PAGES_DIR]`` prints JSON: seconds, objects, pages, the
time spent inside HTTP requests, what the database was sent around each page, and the resident
memory before and at its peak.

- ``bulk`` is ``django_accepton.services.sync.sync_subscriptions``, the app's sync, through its
  public function, whatever it does inside.
- ``per_object`` reads the same pages with the same client and writes each object with its own
  ``update_or_create``, the way dj-stripe's ``sync_from_stripe_data`` does: the baseline.
- ``limit_per_page`` and ``limit_one_transaction`` are the machine's limit: the pages the
  sandbox answered (``PAGES_DIR``, one file per page, read into memory before the clock starts,
  so no HTTP), decoded, turned into row tuples and upserted with the database's own driver
  (psycopg, or sqlite3), one ``INSERT ... ON CONFLICT (id) DO UPDATE`` per page, committed
  after each page or once at the end.
- ``floor_per_page`` is the same, with what the app's sync must send besides, raw: each page's
  rows read first (``SELECT id, raw`` of the page's keys, outside the transaction, as the app
  reads them to tell new, changed and unchanged rows apart), then in one transaction the
  upsert, the read of which new rows it inserted (a ``SELECT`` of their insert tokens, for
  their ``subscription_created``) and the renewal of the run's lease (an ``UPDATE`` of its
  state row, which this mode
  creates before the clock starts and frees at the end). The app's time over this one is what
  its Python costs; this one's over ``limit_per_page`` is what the sync's rules cost.

How the Django modes count what reaches the database (``Counts``): every statement Django
executes passes through ``connection.execute_wrapper``; savepoint statements and SQLite's
``BEGIN`` (Django sends it itself there) are told apart by their first word. ``COMMIT`` and
``ROLLBACK`` do not pass through it (Django calls the driver's ``commit()``), so the
connection's ``_commit`` and ``_rollback`` are wrapped. On PostgreSQL psycopg sends the
``BEGIN`` of a transaction Django opened before its first statement, one round trip of its own:
there is one per ``COMMIT`` or ``ROLLBACK``. A write executed in autocommit (outside any
transaction) is committed by the server on its own, with no round trip of its own: it counts
as a commit, not as a round trip.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUS = Path("/proc/self/status")
TABLE = "django_accepton_subscription"
STATE = "django_accepton_syncstate"
# The columns the app's sync writes (subscriptions.MIRRORED_FIELDS, plan as plan_id, with the
# key, the environment and a new row's insert token); on a conflict the mirrored ones are
# updated, as the app's bulk upsert does.
UPDATED = ("plan_id", "active", "email", "last_billed_at", "created", "raw", "synced_at")
COLUMNS = ("id", "environment", *UPDATED, "insert_token")


def memory_kib(field: str) -> int | None:
    """``VmRSS`` (resident now) or ``VmHWM`` (its peak) of this process, in KiB (Linux)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> None:
    """Start the peak (VmHWM) again from the current RSS; Linux only, ignored elsewhere."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


# ----- counting what the app's sync sends -------------------------------------------------------


@dataclass
class Counts:
    statements: int = 0  # statements carrying data: SELECT, INSERT, UPDATE, DELETE...
    savepoints: int = 0  # SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO SAVEPOINT
    begins: int = 0  # BEGIN, whoever sends it (see the module docstring)
    commits: int = 0  # COMMIT
    rollbacks: int = 0  # ROLLBACK
    autocommit_writes: int = 0  # writes committed on their own, outside any transaction

    def round_trips(self) -> int:
        return self.statements + self.savepoints + self.begins + self.commits + self.rollbacks

    def durable_commits(self) -> int:
        return self.commits + self.autocommit_writes

    def minus(self, other: Counts) -> dict[str, int]:
        mine, theirs = asdict(self), asdict(other)
        return {name: mine[name] - theirs[name] for name in mine}


def count_database(counts: Counts) -> Callable[..., Any]:
    """Wrap the default connection so that ``counts`` follows it; returns the execute wrapper
    to install with ``connection.execute_wrapper``."""
    from django.db import connection

    implicit_begin = connection.vendor == "postgresql"
    commit, rollback = connection._commit, connection._rollback

    def counted_commit() -> Any:
        counts.commits += 1
        if implicit_begin:
            counts.begins += 1
        return commit()

    def counted_rollback() -> Any:
        counts.rollbacks += 1
        if implicit_begin:
            counts.begins += 1
        return rollback()

    connection._commit = counted_commit  # type: ignore[method-assign]
    connection._rollback = counted_rollback  # type: ignore[method-assign]

    def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word == "BEGIN":
            counts.begins += 1
        elif word in ("SAVEPOINT", "RELEASE") or sql.lstrip().upper().startswith("ROLLBACK TO"):
            counts.savepoints += 1
        else:
            counts.statements += 1
            if word not in ("SELECT", "SHOW") and not connection.in_atomic_block:
                counts.autocommit_writes += 1
        return execute(sql, *args)

    return wrapper


class HttpClock:
    """Time spent inside ``requests.Session.send`` (the request sent, the answer read whole),
    wrapped on the class so that any session the client makes is timed."""

    def __init__(self) -> None:
        import requests

        self.seconds = 0.0
        self.calls = 0
        original = requests.Session.send

        def timed_send(session: Any, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(session, request, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        requests.Session.send = timed_send  # type: ignore[method-assign]


# ----- the app's sync and the per-object baseline ------------------------------------------------


def per_object_sync(on_page: Callable[[int], None]) -> tuple[int, int]:
    from django.utils import timezone

    from django_accepton.api import current_environment, get_client
    from django_accepton.client import Subscription as RemoteSubscription
    from django_accepton.models import Subscription
    from django_accepton.services.subscriptions import MIRRORED_FIELDS, subscription_row

    client = get_client()
    service = client.subscriptions
    # The same listing as the sync reads: the server's own order (no source gives
    # subscriptions a creation time to order by).
    filters = service.filters(None, None, None, None)
    environment = current_environment()
    fields = ["environment", *("plan_id" if name == "plan" else name for name in MIRRORED_FIELDS)]
    number = objects = 0
    while True:
        number += 1
        page = service.fetch_page(service.path, RemoteSubscription.from_json, filters, number, 100)
        now = timezone.now()
        for remote in page.data:
            row = subscription_row(remote, environment, now)
            Subscription.objects.update_or_create(
                id=row.id, defaults={name: getattr(row, name) for name in fields}
            )
            objects += 1
        on_page(number)
        if not page.has_more:
            return number, objects


def django_case(mode: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.db import connection

    from django_accepton.services.sync import sync_subscriptions

    counts = Counts()
    marks: list[Counts] = []
    http = HttpClock()
    wrapper = count_database(counts)

    def mark(_: Any) -> None:
        marks.append(Counts(**asdict(counts)))

    connection.ensure_connection()
    gc.collect()
    reset_peak()
    rss_before = memory_kib("VmRSS")
    with connection.execute_wrapper(wrapper):
        started = time.perf_counter()
        if mode == "bulk":
            result = sync_subscriptions(progress=mark)
            pages, objects = result.pages, result.created + result.updated + result.unchanged
        else:
            pages, objects = per_object_sync(mark)
        seconds = time.perf_counter() - started
    before_each = [Counts(), *marks[:-1]]
    per_page = [after.minus(before) for before, after in zip(before_each, marks, strict=True)]
    return {
        "mode": mode,
        "seconds": seconds,
        "http_seconds": http.seconds,
        "http_calls": http.calls,
        "objects": objects,
        "pages": pages,
        "vendor": connection.vendor,
        "totals": asdict(counts),
        "per_page": per_page,
        "rss_before_kib": rss_before,
        "rss_peak_kib": memory_kib("VmHWM"),
    }


# ----- the limit: the driver alone ---------------------------------------------------------------


def row_tuples(page: bytes, environment: str, now: Any) -> list[tuple[Any, ...]]:
    """A page's subscriptions as the table's columns. Timestamps go as the text AcceptOn sent
    (the database parses them); ``raw`` is each object's JSON."""
    rows = []
    for item in json.loads(page)["data"]:
        rows.append(
            (
                item["id"],
                environment,
                item["plan"]["id"],
                bool(item["active"]),
                item.get("email") or "",
                item.get("last_billed_at"),
                item.get("created_at") or item.get("created"),
                json.dumps(item),
                now,
                secrets.token_hex(16),
            )
        )
    return rows


def existing_rows(connection: Any, vendor: str, keys: list[str]) -> list[tuple[Any, ...]]:
    """The page's rows as the app reads them before writing, key and JSON, in autocommit (the
    sqlite3 module opens a transaction for a write only)."""
    if vendor == "postgresql":
        sql = f"SELECT id, raw FROM {TABLE} WHERE id = ANY(%s)"  # noqa: S608
        connection.autocommit = True
        try:
            return list(connection.execute(sql, [keys]).fetchall())
        finally:
            connection.autocommit = False
    marks = ", ".join(["?"] * len(keys))
    sql = f"SELECT id, raw FROM {TABLE} WHERE id IN ({marks})"  # noqa: S608
    return list(connection.execute(sql, keys).fetchall())


def inserted_rows(connection: Any, vendor: str, keys: list[str]) -> list[tuple[Any, ...]]:
    """Which of the page's rows its upsert inserted, read in the page's transaction."""
    if vendor == "postgresql":
        sql = f"SELECT id, insert_token FROM {TABLE} WHERE id = ANY(%s)"  # noqa: S608
        return list(connection.execute(sql, [keys]).fetchall())
    marks = ", ".join(["?"] * len(keys))
    sql = f"SELECT id, insert_token FROM {TABLE} WHERE id IN ({marks})"  # noqa: S608
    return list(connection.execute(sql, keys).fetchall())


def upsert_sql(count: int, placeholder: str) -> str:
    row = "(" + ", ".join([placeholder] * len(COLUMNS)) + ")"
    assignments = ", ".join(f"{name} = excluded.{name}" for name in UPDATED)
    return (
        f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES "  # noqa: S608 - our own constants
        + ", ".join([row] * count)
        + f" ON CONFLICT (id) DO UPDATE SET {assignments}"
    )


def limit_case(mode: str, pages_dir: str, environment: str) -> dict[str, Any]:
    url = os.environ["BENCH_DATABASE_URL"]
    pages = [path.read_bytes() for path in sorted(Path(pages_dir).glob("*.json"))]
    per_page = mode in ("limit_per_page", "floor_per_page")
    floor = mode == "floor_per_page"
    statements: dict[int, str] = {}
    if url.startswith("sqlite"):
        import sqlite3

        # Autocommit off in the module's own way: it sends BEGIN before the first write.
        connection: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
        placeholder, vendor = "?", "sqlite"
        now: Any = datetime.now(UTC).isoformat(sep=" ")
    else:
        import psycopg

        connection = psycopg.connect(url)
        placeholder, vendor = "%s", "postgresql"
        now = datetime.now(UTC)
    state = (environment, "floor")
    if floor:
        connection.execute(
            f"INSERT INTO {STATE} (resource, environment, last_result, last_error, lock_token, "  # noqa: S608
            f"lock_expires_at) VALUES ('subscriptions', {placeholder}, '{{}}', '', "
            f"{placeholder}, {placeholder})",
            [*state, now],
        )
        connection.commit()
    objects = round_trips = commits = 0
    gc.collect()
    reset_peak()
    rss_before = memory_kib("VmRSS")
    try:
        started = time.perf_counter()
        for page in pages:
            rows = row_tuples(page, environment, now)
            if rows and floor:
                existing_rows(connection, vendor, [row[0] for row in rows])
                round_trips += 1
            if rows:
                sql = statements.get(len(rows)) or statements.setdefault(
                    len(rows), upsert_sql(len(rows), placeholder)
                )
                connection.execute(sql, [value for row in rows for value in row])
                objects += len(rows)
                round_trips += 1
            if rows and floor:
                # Which of the new rows the upsert inserted (their subscription_created).
                inserted_rows(connection, vendor, [row[0] for row in rows])
                round_trips += 1
            if rows and floor:
                connection.execute(
                    f"UPDATE {STATE} SET lock_expires_at = {placeholder} "  # noqa: S608
                    f"WHERE resource = 'subscriptions' AND environment = {placeholder} "
                    f"AND lock_token = {placeholder}",
                    [now, *state],
                )
                round_trips += 1
            if per_page and rows:
                connection.commit()
                commits += 1
        if not per_page:
            connection.commit()
            commits += 1
        seconds = time.perf_counter() - started
        if floor:
            connection.execute(f"DELETE FROM {STATE}")  # noqa: S608 - the app's runs take it
            connection.commit()
    finally:
        connection.close()
    # Each transaction also costs its BEGIN (a round trip on PostgreSQL, a call on SQLite).
    round_trips += 2 * commits
    return {
        "mode": mode,
        "seconds": seconds,
        "http_seconds": 0.0,
        "objects": objects,
        "pages": len(pages),
        "vendor": vendor,
        "round_trips": round_trips,
        "commits": commits,
        "rss_before_kib": rss_before,
        "rss_peak_kib": memory_kib("VmHWM"),
    }


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode in ("limit_per_page", "limit_one_transaction", "floor_per_page"):
        result = limit_case(mode, argv[1], argv[2] if len(argv) > 2 else "sandbox")
    elif mode in ("bulk", "per_object"):
        result = django_case(mode)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
