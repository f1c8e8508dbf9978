"""``make bench``: django-accepton's performance against the sandbox on loopback, each figure
beside the machine's limit measured in the same run (absolute times vary from run to run; the
ratios are what carries over).

1. **Sync** of 10,000 and 100,000 subscriptions with ``sync_subscriptions``, beside the raw
   limit: the same pages (fetched once beforehand, held as bytes) decoded and upserted with the
   driver alone, one commit per page and in one transaction. The app's time excludes the time
   spent inside HTTP requests to the sandbox. Also the per-object baseline (one
   ``update_or_create`` per object), round trips and commits per page, and peak memory.
2. **Fan-out**: the same sync fanned out over page ranges by ``django_accepton.tasks.fan_out_sync``
   through Redis, to a real Celery worker with one process, then two: objects per second and
   the speed-up.
3. **The charge verification endpoint** (``POST /accepton/api/charges/verify/``) served by
   gunicorn at 1, 8 and 32 connections, beside a bare DRF view of the same server (one SELECT,
   one INSERT): requests per second, median and p99 latency, queries per request, and the
   time beyond the one API call. PostgreSQL only: the workers write concurrently.
4. **The template tag**: renders of ``{% accepton_form %}`` with the default
   ``TOKEN_CACHE_TTL``, with a shared token cache and with 0: API calls and renders per second.

The sandbox is a separate process (``python -m django_accepton.sandbox``) with keys made for
this run; the database is a scratch one, created and dropped here (PostgreSQL when
``POSTGRES_URL`` is set, else SQLite in WAL mode in a temporary folder). Each section's rows
are printed as it finishes and, with ``--write``, the page is written again then, so a run that
fails late keeps what it measured. Every process started here has a deadline to be ready and
is stopped on any way out (``benchmarks.processes``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from benchmarks.processes import Managed, http_answers, install_handlers, run_json, stop_all

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("sync", "fan-out", "verification", "template-tag")
CONNECTIONS = (1, 8, 32)
PAGES_PER_TASK = 10
GOAL = 0.8


@dataclass(frozen=True)
class Sizes:
    sync: tuple[int, ...] = (10_000, 100_000)
    fan_out: int = 30_000
    verify_warmup: int = 100
    verify_sequential: int = 300
    verify_concurrent: int = 2_000  # at each of 8 and 32 connections
    retrieves: int = 300
    renders: int = 1_000


FULL = Sizes()
# --quick: every section end to end in a few minutes, for development.
QUICK = Sizes(
    sync=(1_000, 3_000),
    fan_out=5_000,
    verify_warmup=20,
    verify_sequential=50,
    verify_concurrent=200,
    retrieves=50,
    renders=200,
)


@dataclass
class Row:
    section: str
    measure: str
    value: str
    compared: str = ""
    ratio: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def number(value: float) -> str:
    return f"{value:,.0f}"


def times(numerator: float, denominator: float, suffix: str = "x") -> str:
    return f"{numerator / denominator:.1f}{suffix}" if denominator else "-"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----- the sandbox process ----------------------------------------------------------------------


class Sandbox:
    """``python -m django_accepton.sandbox`` on a free port, with keys made for this run."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_key = "pkey_" + secrets.token_hex(16)
        self.secret_key = "skey_" + secrets.token_hex(16)
        # The banner prints the secret key: the log stays in the run's temporary folder.
        self.process = Managed(
            "the sandbox",
            [
                sys.executable,
                "-m",
                "django_accepton.sandbox",
                "--port",
                str(self.port),
                "--public-key",
                self.public_key,
                "--secret-key",
                self.secret_key,
            ],
            log=folder / "sandbox.log",
        )
        self.http = requests.Session()
        self.process.ready(http_answers(self.url + "/__sandbox__/state"), 60, "answering")

    def control(self, method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(
            method, f"{self.url}/__sandbox__/{name}", json=payload or {}, timeout=600
        )
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def seed(self, resource: str, count: int) -> None:
        self.control("POST", "seed", {"resource": resource, "count": count})

    def api_requests(self) -> int:
        return int(self.control("GET", "state")["requests"])

    def pay(self, token_id: str) -> str:
        return str(self.control("POST", "charges", {"token": token_id})["id"])

    def stop(self) -> None:
        self.process.stop(grace=10)


# ----- the scratch database ---------------------------------------------------------------------


def admin_connection(postgres_url: str) -> Any:
    """A connection to create and drop the scratch database through: the database
    ``POSTGRES_URL`` names, or the server's ``postgres`` database when that one does not exist
    (the URL may name the scratch database's would-be neighbour rather than an existing one).
    The server has 30 s to answer."""
    import psycopg

    deadline = time.monotonic() + 30
    url = postgres_url
    while True:
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            if "does not exist" in str(exc) and url == postgres_url:
                url = urlunsplit(urlsplit(postgres_url)._replace(path="/postgres"))
                continue
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@contextmanager
def scratch_database(postgres_url: str | None, folder: Path) -> Iterator[str]:
    if not postgres_url:
        path = folder / "bench.sqlite3"
        # WAL: readers never wait for the writer, and a commit appends to the log (it is a
        # property of the file, kept by every connection that opens it).
        with sqlite3.connect(path) as setup:
            setup.execute("PRAGMA journal_mode=WAL")
        setup.close()
        yield f"sqlite:///{path}"
        return
    # The pid and a random part: two runs at once (from two checkouts, say) never share one.
    name = f"accepton_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with admin_connection(postgres_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(postgres_url)
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        from django.db import connections

        connections.close_all()
        with admin_connection(postgres_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_version(url: str) -> str:
    import redis

    try:
        return str(redis.Redis.from_url(url, socket_timeout=5).info("server")["redis_version"])
    except redis.RedisError as exc:
        return f"unreachable ({type(exc).__name__})"


def machine() -> list[tuple[str, str]]:
    from django.conf import settings
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]} ({mode} journal)"
    import celery
    import django
    import gunicorn

    return [
        ("CPU", cpu),
        ("Cores", str(os.cpu_count())),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("gunicorn", gunicorn.__version__),
        ("Celery", celery.__version__),
        ("Redis", redis_version(settings.CELERY_BROKER_URL)),
        ("Database", database),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d")),
    ]


# ----- the report: printed and written as each section finishes ----------------------------------


class Report:
    def __init__(self, path: str | None, sections: list[str], sizes: Sizes) -> None:
        self.path = Path(path) if path else None
        self.pending = list(sections)
        self.sizes = sizes
        self.rows: list[Row] = []
        self.facts: list[tuple[str, str]] = []
        self.failures: list[str] = []
        self.started = time.perf_counter()

    def add(self, rows: list[Row]) -> None:
        self.rows += rows
        print(table(rows), flush=True)
        self.write()

    def done(self, section: str) -> None:
        if section in self.pending:
            self.pending.remove(section)
        self.write()

    def failed(self, section: str, exc: BaseException) -> None:
        self.failures.append(section)
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        self.add([Row(section, "failed", message.replace("|", "/"))])
        self.done(section)

    def write(self) -> None:
        if self.path is not None:
            seconds = time.perf_counter() - self.started
            self.path.write_text(page(self.facts, self.rows, seconds, self.pending, self.sizes))


def table(rows: list[Row]) -> str:
    header = ["What", "Measure", "Value", "Compared with", "Ratio"]
    body = [[row.section, row.measure, row.value, row.compared, row.ratio] for row in rows]
    widths = [max(len(line[column]) for line in [header, *body]) for column in range(5)]
    lines = [header, ["-" * width for width in widths], *body]
    return "\n".join(
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        + " |"
        for line in lines
    )


# ----- 1. sync ----------------------------------------------------------------------------------


def empty_mirrors() -> None:
    from django.db import connection, connections

    from django_accepton.models import Plan, Subscription, SyncState

    with connection.cursor() as cursor:
        for model in (Subscription, Plan, SyncState):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    connections.close_all()


def fetch_pages(folder: Path) -> int:
    """Every page of the subscription list as the sync reads it, its body written as the
    sandbox sent it, one file per page; the number of pages."""
    from django_accepton.api import get_client
    from django_accepton.client import Page

    service = get_client().subscriptions
    filters = service.filters(None, None, None, None)
    number = 0
    while True:
        number += 1
        params = {**filters, "page": number, "per_page": 100}
        body = service.client.transport.send("GET", service.path, params=params).content
        (folder / f"{number:06d}.json").write_bytes(body)
        listed = Page.from_json(json.loads(body), lambda item: item, page=number, per_page=100)
        if not listed.has_more:
            return number


def sync_case(
    sandbox: Sandbox, mode: str, count: int, pages: Path, environment: str
) -> dict[str, Any]:
    empty_mirrors()
    before = sandbox.api_requests()
    argv = [sys.executable, "-m", "benchmarks.sync_case", mode]
    if mode.startswith(("limit", "floor")):
        argv += [str(pages), environment]
    # The per-object baseline of 100,000 takes minutes; anything much slower is stuck.
    output = run_json(argv, timeout=300 + count / 40, what=f"the {mode} sync of {count:,}")
    result: dict[str, Any] = json.loads(output)
    result["requests"] = sandbox.api_requests() - before
    if result["objects"] != count:
        raise RuntimeError(f"{mode} sync wrote {result['objects']} of {count} subscriptions")
    return result


def growth_mib(result: dict[str, Any]) -> float:
    return max(0, result["rss_peak_kib"] - result["rss_before_kib"]) / 1024


def typical(per_page: list[dict[str, int]]) -> dict[str, int]:
    """Each figure's median over the pages after the first (which also starts the run), leaving
    out the last one (short, or empty when N is a multiple of 100) when there are others."""
    later = per_page[1:-1] or per_page[1:] or per_page
    return {name: int(statistics.median_low(p[name] for p in later)) for name in later[0]}


def round_trips(figures: dict[str, int]) -> int:
    return sum(figures[name] for name in ("statements", "savepoints", "begins", "commits"))


def described(figures: dict[str, int]) -> str:
    parts = [f"{figures['statements']} statements", f"{figures['begins']} BEGIN"]
    parts.append(f"{figures['commits']} COMMIT")
    if figures["savepoints"]:
        parts.append(f"{figures['savepoints']} savepoint")
    if figures["rollbacks"]:
        parts.append(f"{figures['rollbacks']} ROLLBACK")
    return f"{round_trips(figures) + figures['rollbacks']} = " + " + ".join(parts)


def without_api(result: dict[str, Any]) -> float:
    return max(result["seconds"] - result["http_seconds"], 1e-9)


def bench_sync(sandbox: Sandbox, report: Report, sizes: tuple[int, ...], folder: Path) -> None:
    from django_accepton.api import current_environment

    environment = current_environment()
    grown: dict[int, float] = {}
    first = sizes[0]
    for count in sizes:
        sandbox.reset()
        sandbox.seed("subscriptions", count)
        pages = folder / f"pages-{count}"
        pages.mkdir()
        try:
            fetched = fetch_pages(pages)
            log(
                f"sync of {count:,}: raw limit (commit per page, one transaction), the sync's "
                "statements raw, app, per object"
            )
            limit = sync_case(sandbox, "limit_per_page", count, pages, environment)
            whole = sync_case(sandbox, "limit_one_transaction", count, pages, environment)
            floor = sync_case(sandbox, "floor_per_page", count, pages, environment)
        finally:
            shutil.rmtree(pages, ignore_errors=True)
        app = sync_case(sandbox, "bulk", count, pages, environment)
        single = sync_case(sandbox, "per_object", count, pages, environment)
        rows = sync_rows(
            count, fetched, {"limit": limit, "whole": whole, "floor": floor}, app, single
        )
        grown[count] = growth_mib(app)
        section = rows[0].section
        rows.append(
            Row(
                section,
                "peak memory added by the sync (RSS)",
                f"{grown[count]:.1f} MiB",
                f"per object: {growth_mib(single):.1f} MiB"
                if count == first
                else f"{first:,}: {grown[first]:.1f} MiB",
                ""
                if count == first
                else times(grown[count], grown[first], f"x for {count / first:g}x N"),
            )
        )
        report.add(rows)


def sync_rows(
    count: int,
    fetched: int,
    raw: dict[str, dict[str, Any]],
    app: dict[str, Any],
    single: dict[str, Any],
) -> list[Row]:
    section = f"Sync, {count:,} subscriptions"
    pages = math.ceil(count / 100)
    limit, whole, floor = raw["limit"], raw["whole"], raw["floor"]
    app_rate = count / without_api(app)
    limit_rate = count / limit["seconds"]
    whole_rate = count / whole["seconds"]
    floor_rate = count / floor["seconds"]
    single_rate = count / without_api(single)
    steady, first = typical(app["per_page"]), app["per_page"][0]
    single_steady = typical(single["per_page"])
    limit_trips = limit["round_trips"] / max(limit["commits"], 1)
    app_commits = steady["commits"] + steady["autocommit_writes"]
    rows = [
        Row(
            section,
            "HTTP requests (app sync)",
            number(app["requests"]),
            f"⌈N/100⌉ = {number(pages)} (pages listed: {fetched})",
            f"{app['requests'] / pages:.2f}",
        ),
        Row(
            section,
            "objects/s without API time: app sync vs raw limit, a commit per page",
            f"{number(app_rate)} ({app['seconds']:.1f} s - {app['http_seconds']:.1f} s in HTTP)",
            f"raw limit: {number(limit_rate)} ({limit['seconds']:.2f} s)",
            f"{app_rate / limit_rate:.2f} of the limit (goal >= {GOAL})",
        ),
        Row(
            section,
            "objects/s without API time: app sync vs raw limit, one transaction",
            number(app_rate),
            f"raw limit: {number(whole_rate)} ({whole['seconds']:.2f} s)",
            f"{app_rate / whole_rate:.2f} of the limit",
        ),
        Row(
            section,
            "objects/s without API time: app sync vs the sync's own statements, raw",
            number(app_rate),
            "the read, the upsert, the insert check and the lease, a commit per page: "
            f"{number(floor_rate)} "
            f"({floor['seconds']:.2f} s; {floor_rate / limit_rate:.2f} of the raw limit)",
            f"{app_rate / floor_rate:.2f} of the floor",
        ),
        Row(
            section,
            "objects/s with API time (seconds): app sync vs per object",
            f"{number(count / app['seconds'])} ({app['seconds']:.1f} s)",
            f"per object: {number(count / single['seconds'])} ({single['seconds']:.1f} s); "
            f"without API time {number(single_rate)}",
            times(single["seconds"], app["seconds"]),
        ),
        Row(
            section,
            "DB round trips per page of 100 (typical page)",
            described(steady),
            f"raw limit: {limit_trips:.0f} = 1 statement + 1 BEGIN + 1 COMMIT; "
            f"per object: {round_trips(single_steady)}",
            times(round_trips(steady), limit_trips),
        ),
        Row(
            section,
            "DB round trips on page 1 (it also starts the run)",
            described(first),
            "",
        ),
        Row(
            section,
            "commits per page of 100 (typical page)",
            f"{app_commits} ({steady['commits']} COMMIT + "
            f"{steady['autocommit_writes']} in autocommit)",
            "raw limit: 1",
            times(app_commits, 1),
        ),
    ]
    return rows


# ----- 2. fan-out over Celery workers -----------------------------------------------------------


def redis_ready(url: str, seconds: float = 30) -> None:
    import redis

    deadline = time.monotonic() + seconds
    while True:
        try:
            redis.Redis.from_url(url, socket_timeout=5).ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def celery_worker(concurrency: int, folder: Path) -> Managed:
    from benchmarks.celery_app import app

    queue = app.conf.task_default_queue
    node = f"{queue}-{concurrency}@{socket.gethostname()}"
    worker = Managed(
        f"the Celery worker ({concurrency} processes)",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "benchmarks.celery_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "-Q",
            queue,
            "-n",
            node,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        log=folder / f"celery-{concurrency}.log",
    )

    def answers_ping() -> bool:
        return bool(app.control.ping(destination=[node], timeout=1.0))

    worker.ready(answers_ping, 60, "answering a ping")
    return worker


def fan_out_once(count: int, concurrency: int, folder: Path) -> dict[str, Any]:
    from celery.result import AsyncResult

    from benchmarks.celery_app import app
    from django_accepton import tasks
    from django_accepton.models import Subscription

    empty_mirrors()
    worker = celery_worker(concurrency, folder)
    deadline = 120 + count / 50
    try:
        started = time.perf_counter()
        first = tasks.fan_out_sync.delay("subscriptions", pages_per_task=PAGES_PER_TASK)
        answer = first.get(timeout=deadline)
        if "skipped" in answer:
            raise RuntimeError(f"the fanned-out sync was skipped: {answer['skipped']}")
        if "finish_task_id" in answer:
            result = AsyncResult(answer["finish_task_id"], app=app).get(timeout=deadline)
        else:
            result = answer["result"]
        seconds = time.perf_counter() - started
    except Exception:
        log(worker.log_tail())
        raise
    finally:
        worker.stop()
    stored = Subscription.objects.count()
    if stored != count:
        raise RuntimeError(f"the fanned-out sync stored {stored} of {count} subscriptions")
    return {"seconds": seconds, "ranges": answer.get("ranges", 0), "result": result}


def forget_queue() -> None:
    """Delete the run's queue and its bindings from the broker (results expire by themselves,
    after ``CELERY_RESULT_EXPIRES``); nothing else there is touched."""
    import redis
    from django.conf import settings

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5)
    try:
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    except redis.RedisError as exc:
        log(f"could not delete the queue {queue} from the broker: {exc}")


def bench_fan_out(sandbox: Sandbox, report: Report, count: int, folder: Path) -> None:
    from django.conf import settings

    redis_ready(settings.CELERY_BROKER_URL)
    redis_ready(settings.CELERY_RESULT_BACKEND)
    sandbox.reset()
    sandbox.seed("subscriptions", count)
    section = f"Fan-out sync, {count:,} subscriptions"
    # The fan-out splits the list into ranges by page 1's total only when that total exceeds
    # a page (what it counts is undocumented); the sandbox's default counts the page's items,
    # which leaves one range. Here it counts the whole list, as the other reading has it.
    dialect = sandbox.control("GET", "dialect")["switches"]
    sandbox.control("PUT", "dialect", {**dialect, "total": "list"})
    runs = {}
    try:
        for concurrency in (1, 2):
            log(f"fan-out of {count:,}: a Celery worker of {concurrency} processes")
            runs[concurrency] = fan_out_once(count, concurrency, folder)
    finally:
        sandbox.control("PUT", "dialect", dialect)
        forget_queue()
    one, two = runs[1], runs[2]
    ranges = f"tasks: page 1, then {one['ranges']} ranges of up to {PAGES_PER_TASK} pages"
    report.add(
        [
            Row(
                section,
                "objects/s, 1 worker process (API time included)",
                f"{number(count / one['seconds'])} ({one['seconds']:.1f} s)",
                ranges,
            ),
            Row(
                section,
                "objects/s, 2 worker processes (API time included)",
                f"{number(count / two['seconds'])} ({two['seconds']:.1f} s)",
                f"1 process: {number(count / one['seconds'])}",
                times(one["seconds"], two["seconds"], "x speed-up"),
            ),
        ]
    )


# ----- 3. the verification endpoint -------------------------------------------------------------


def paid_pairs(sandbox: Sandbox, count: int) -> list[dict[str, str]]:
    from django_accepton.services.tokens import mint_token

    pairs = []
    for index in range(count):
        token = mint_token(
            {"amount": 1000 + index % 90, "currency": "usd", "description": f"Bench {index}"},
            reuse=False,
        )
        pairs.append({"charge_id": sandbox.pay(token.pk), "token": token.pk})
    return pairs


def load(url: str, bodies: list[dict[str, str]], concurrency: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(bodies, handle)
    try:
        output = run_json(
            [
                sys.executable,
                "-m",
                "benchmarks.load",
                url,
                handle.name,
                "--concurrency",
                str(concurrency),
            ],
            timeout=120 + len(bodies) / 2,
            what=f"{len(bodies):,} requests at {concurrency} connections",
        )
    finally:
        os.unlink(handle.name)
    result: dict[str, Any] = json.loads(output)
    if result["errors"] or result["statuses"] != {"200": len(bodies)}:
        raise RuntimeError(
            f"{url} did not answer 200 to every request: {result['statuses']}, "
            f"{result['errors'][:3]}"
        )
    return result


@contextmanager
def gunicorn_server(workers: int, threads: int, folder: Path) -> Iterator[str]:
    port = free_port()
    server = Managed(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "benchmarks.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        log=folder / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # A server's first answer under load may take a while: a minute to answer at all.
        server.ready(http_answers(base + "/accepton/failed/"), 60, "answering")
        yield base
    finally:
        server.stop()


def bench_verification(sandbox: Sandbox, report: Report, sizes: Sizes, folder: Path) -> None:
    from django.db import connection

    from benchmarks.views import FLOOR_SUFFIX
    from django_accepton.api import get_client
    from django_accepton.models import Charge, TransactionToken, Verification

    section = "Verification endpoint"
    if connection.vendor != "postgresql":
        report.add([Row(section, "skipped", "needs PostgreSQL: set POSTGRES_URL")])
        return
    sandbox.reset()
    warm, one, many = sizes.verify_warmup, sizes.verify_sequential, sizes.verify_concurrent
    total = warm + one + 2 * many
    log(f"verification endpoint: minting and paying {total:,} tokens")
    pairs = paid_pairs(sandbox, total)
    batches = {
        0: pairs[:warm],
        1: pairs[warm : warm + one],
        8: pairs[warm + one : warm + one + many],
        32: pairs[warm + one + many :],
    }

    # The floor sells each charge again, to a token of its own (a copy of the endpoint's row):
    # the database allows one verified charge per one-off token.
    copies = list(TransactionToken.objects.filter(pk__in=[pair["token"] for pair in pairs]))
    for copy in copies:
        copy.pk += FLOOR_SUFFIX
    TransactionToken.objects.bulk_create(copies)
    floor_batches = {
        key: [{**pair, "token": pair["token"] + FLOOR_SUFFIX} for pair in batch]
        for key, batch in batches.items()
    }

    client = get_client()
    for pair in batches[0][:20]:
        client.charges.retrieve(pair["charge_id"])
    direct = []
    for pair in batches[8][: sizes.retrieves]:
        started = time.perf_counter()
        client.charges.retrieve(pair["charge_id"])
        direct.append(time.perf_counter() - started)

    workers, threads = os.cpu_count() or 2, 4
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with gunicorn_server(workers, threads, folder) as base:
        urls = {
            "verify": base + "/accepton/api/charges/verify/",
            "bare": base + "/bench/bare/",
            "floor": base + "/bench/floor/",
        }
        log("verification endpoint, bare view, rules' floor: warm-up, then 1, 8, 32 connections")
        for name, url in urls.items():
            load(url, (floor_batches if name == "floor" else batches)[0], 8)
        for connections in CONNECTIONS:
            for name, url in urls.items():
                bodies = (floor_batches if name == "floor" else batches)[connections]
                results[(name, connections)] = load(url, bodies, connections)
    ids = [pair["charge_id"] for pair in pairs]
    verified = Charge.objects.filter(pk__in=ids, verification=Verification.VERIFIED).count()
    if verified != total:
        raise RuntimeError(f"{verified} of {total} charges verified")
    floored = Charge.objects.filter(
        pk__in=[charge_id + FLOOR_SUFFIX for charge_id in ids],
        verification=Verification.VERIFIED,
        fulfilled_at__isnull=False,
    ).count()
    if floored != total:
        raise RuntimeError(f"the rules' floor wrote {floored} of {total} sales")
    report.add(verification_rows(section, results, direct, workers, threads, verified, total))


def verification_rows(
    section: str,
    results: dict[tuple[str, int], dict[str, Any]],
    direct: list[float],
    workers: int,
    threads: int,
    verified: int,
    total: int,
) -> list[Row]:
    rows = []

    def rate(result: dict[str, Any]) -> float:
        return len(result["latencies"]) / result["seconds"]

    def latency(result: dict[str, Any]) -> str:
        values = result["latencies"]
        return f"{ms(statistics.median(values))} / {ms(percentile(values, 0.99))}"

    for connections in CONNECTIONS:
        verify, bare = results[("verify", connections)], results[("bare", connections)]
        floor = results[("floor", connections)]
        label = f"{connections} connection{'s' if connections > 1 else ''}"
        rows.append(
            Row(
                section,
                f"requests/s, {label} ({len(verify['latencies']):,} requests)",
                number(rate(verify)),
                f"bare view: {number(rate(bare))}; rules' floor: {number(rate(floor))}",
                f"{rate(verify) / rate(bare):.2f} of the bare view; "
                f"{rate(verify) / rate(floor):.2f} of the floor",
            )
        )
        v_median = statistics.median(verify["latencies"])
        rows.append(
            Row(
                section,
                f"latency median / p99, {label}",
                latency(verify),
                f"bare view: {latency(bare)}; rules' floor: {latency(floor)}",
                times(v_median, statistics.median(bare["latencies"]), "x the bare view; ")
                + times(v_median, statistics.median(floor["latencies"]), "x the floor"),
            )
        )
    queries = [q for c in CONNECTIONS for q in results[("verify", c)]["queries"]]
    bare_queries = [q for c in CONNECTIONS for q in results[("bare", c)]["queries"]]
    floor_queries = [q for c in CONNECTIONS for q in results[("floor", c)]["queries"]]
    rows.append(
        Row(
            section,
            "DB queries per request (min-max)",
            f"{min(queries)}-{max(queries)}",
            f"bare view: {min(bare_queries)}-{max(bare_queries)}; "
            f"rules' floor: {min(floor_queries)}-{max(floor_queries)}; "
            f"{verified:,} of {total:,} charges verified, every answer 200",
        )
    )
    direct_median = statistics.median(direct)
    one = statistics.median(results[("verify", 1)]["latencies"])
    bare_one = statistics.median(results[("bare", 1)]["latencies"])
    rows.append(
        Row(
            section,
            "direct charges.retrieve, median / p99 (no server)",
            f"{ms(direct_median)} / {ms(percentile(direct, 0.99))}",
            f"gunicorn gthread, {workers} workers x {threads} threads",
        )
    )
    rows.append(
        Row(
            section,
            "time beyond the one API call (median, 1 connection)",
            ms(one - direct_median),
            f"endpoint {ms(one)} - retrieve {ms(direct_median)}",
        )
    )
    rows.append(
        Row(
            section,
            "time beyond the bare view and the API call (median, 1 connection)",
            ms(one - bare_one - direct_median),
            f"endpoint {ms(one)} - bare view {ms(bare_one)} - retrieve {ms(direct_median)}",
        )
    )
    floor_one = statistics.median(results[("floor", 1)]["latencies"])
    rows.append(
        Row(
            section,
            "time the package adds to its rules' floor (median, 1 connection)",
            ms(one - floor_one),
            f"endpoint {ms(one)} - rules' floor {ms(floor_one)} (its API call included)",
            times(one, floor_one, "x the floor"),
        )
    )
    return rows


# ----- 4. the template tag ----------------------------------------------------------------------


def tag_rounds(
    render_tag: Callable[[], None], render_plain: Callable[[], None], renders: int
) -> dict[str, list[float]]:
    """Seconds a render, in 7 rounds that each time the tag, the plain render and the plain
    render with the hint's cache read (the two keys the tag reads, in one ``get_many``) one
    after the other, so that a slow moment of a shared machine weighs on all three; and each
    round's ratio of the tag to the plain render."""
    from django_accepton.models import TransactionToken
    from django_accepton.services import tokens

    store = tokens._hint_cache()
    fingerprint = TransactionToken.objects.latest("created").fingerprint
    keys = [tokens._hint_key(fingerprint), tokens._claimed_key(fingerprint)]
    if store.get(keys[0]) is None:
        raise RuntimeError("the hint the renders read is not in the cache")

    def render_and_read() -> None:
        store.get_many(keys)
        render_plain()

    each = max(renders // 5, 50)
    timed: dict[str, list[float]] = {"tag": [], "plain": [], "read": [], "ratio": []}
    for _ in range(7):
        for name, step in (("tag", render_tag), ("plain", render_plain), ("read", render_and_read)):
            started = time.perf_counter()
            for _ in range(each):
                step()
            timed[name].append((time.perf_counter() - started) / each)
        timed["ratio"].append(timed["tag"][-1] / timed["plain"][-1])
    return timed


def bench_template_tag(sandbox: Sandbox, report: Report, renders: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.template import Context, Template
    from django.template.loader import get_template
    from django.test import RequestFactory, override_settings
    from django.test.utils import CaptureQueriesContext

    from django_accepton.conf import DEFAULTS

    sandbox.reset()
    template = Template("{% load accepton %}{% accepton_form product %}")
    request = RequestFactory().get("/shop/")
    product = {"amount": 2500, "currency": "usd", "description": "Bench render"}
    figures = {}
    base = {key: value for key, value in settings.ACCEPTON.items() if key != "TOKEN_CACHE_TTL"}
    hint_dir = tempfile.mkdtemp(prefix="accepton-bench-cache-")
    caches_with_hint = {
        **settings.CACHES,
        "tokens": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": hint_dir,
        },
    }
    cases = (
        ("cached", {}),
        ("hinted", {"TOKEN_CACHE": "tokens"}),
        ("uncached", {"TOKEN_CACHE_TTL": 0}),
    )
    # The floor: the tag's own template rendered with a context made once.
    plain = get_template("django_accepton/form.html")
    plain_context = {
        "connection": {"form_script_url": "https://js.example/accepton.js", "public_key": "pkey_x"},
        "token": {"pk": "txn_" + "0" * 32},
        "redirect_uri": "https://shop.example/accepton/return/?token=txn_0",
    }

    def render_tag() -> None:
        template.render(Context({"product": product, "request": request}))

    def render_plain() -> None:
        plain.render(plain_context)

    rounds: dict[str, list[float]] = {"tag": [], "plain": [], "read": [], "ratio": []}
    try:
        for label, extra in cases:
            log(f"template tag: {renders:,} renders, {label}")
            with override_settings(ACCEPTON={**base, **extra}, CACHES=caches_with_hint):
                template.render(Context({"product": {**product, "description": "warm-up"}}))
                render_tag()
                before = sandbox.api_requests()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    for _ in range(renders):
                        render_tag()
                    seconds = time.perf_counter() - started
                figures[label] = (sandbox.api_requests() - before, renders / seconds, len(queries))
                if label == "hinted":
                    rounds = tag_rounds(render_tag, render_plain, renders)
    finally:
        shutil.rmtree(hint_dir, ignore_errors=True)
    started = time.perf_counter()
    for _ in range(renders):
        render_plain()
    plain_rate = renders / (time.perf_counter() - started)
    section = f"Template tag, {renders:,} renders"
    tag_us, plain_us, read_us = (
        statistics.median(rounds[name]) * 1e6 for name in ("tag", "plain", "read")
    )
    hinted = figures["hinted"]
    cached, uncached = figures["cached"], figures["uncached"]
    ttl = DEFAULTS["TOKEN_CACHE_TTL"]
    report.add(
        [
            Row(
                section,
                "renders/s with TOKEN_CACHE (a shared file cache)",
                number(hinted[1]),
                f"plain render of form.html: {number(plain_rate)}",
                times(plain_rate, hinted[1], "x the floor (one pass each; see the next row)"),
            ),
            Row(
                section,
                "µs a render with TOKEN_CACHE, median of 7 rounds interleaved with the floors",
                f"{tag_us:.0f}",
                f"plain render {plain_us:.0f}; plain render and the hint's one cache read "
                f"(2 keys) {read_us:.0f}",
                f"{statistics.median(rounds['ratio']):.1f}x the plain render (goal <= 3x); "
                f"{tag_us / read_us:.1f}x the render and the read",
            ),
            Row(
                section,
                f"queries and API calls per {renders:,} renders with TOKEN_CACHE",
                f"{hinted[2]} / {hinted[0]}",
                f"without: {figures['cached'][2]} / {figures['cached'][0]}",
                "",
            ),
            Row(
                section,
                f"API calls (TOKEN_CACHE_TTL {ttl} s, the default)",
                number(cached[0]),
                f"TOKEN_CACHE_TTL 0: {number(uncached[0])}",
                times(uncached[0], cached[0], "x fewer"),
            ),
            Row(
                section,
                "renders/s",
                number(cached[1]),
                f"TOKEN_CACHE_TTL 0: {number(uncached[1])}",
                times(cached[1], uncached[1]),
            ),
        ]
    )


# ----- the page ---------------------------------------------------------------------------------


def page(
    facts: list[tuple[str, str]],
    rows: list[Row],
    seconds: float,
    pending: list[str],
    sizes: Sizes,
) -> str:
    machine_lines = "\n".join(f"| {name} | {value} |" for name, value in facts)
    status = (
        f"**Partial: still to run when this was written: {', '.join(pending)}.**\n\n"
        if pending
        else ""
    )
    quick = "**`--quick`: small sizes, for development only.**\n\n" if sizes != FULL else ""
    return PAGE.format(
        machine=machine_lines,
        table=table(rows) if rows else "(nothing measured yet)",
        seconds=f"{seconds:.0f}",
        status=status,
        quick=quick,
        goal=GOAL,
        pages_per_task=PAGES_PER_TASK,
    )


PAGE = """\
# Performance

Figures from one run of `make bench` (`python -m benchmarks`), against the sandbox on
loopback, {seconds} s in all. They are this machine's; each is set beside a limit measured in
the same run, and those ratios carry over better than the absolute numbers.

{quick}{status}| Machine | |
|---|---|
{machine}

{table}

## What each figure measures

**Sync.** The sandbox (a separate process) holds N subscriptions; each sync writes all of them
into an empty table, in a fresh Python process. *HTTP requests* are counted by the sandbox.

- *Raw limit*: before the syncs, the run fetches every page of the list once, as the sync
  reads it, and keeps each answer's bytes. A fresh process reads them into memory, then, on
  the clock, decodes each page, turns its objects into row tuples and upserts them with the
  driver alone (psycopg 3 with its server-side binding on PostgreSQL, the `sqlite3` module on
  SQLite): one `INSERT ... ON CONFLICT (id) DO UPDATE SET ...` of the page's 100 rows into the
  same `django_accepton_subscription` table, emptied first, committed after each page (a
  BEGIN, the statement and a COMMIT per page) or once at the end (*one transaction*).
  Timestamps go as the text AcceptOn sent, for the database to parse. No HTTP is in it: it is
  what the database and one Python process can do with the same data.
- *App sync* is `sync_subscriptions()` called as a store calls it, in a fresh process; its
  time *without API time* is its wall time minus the time spent inside HTTP requests to the
  sandbox (`requests.Session.send`, wrapped in that process: the request sent and the answer
  read whole; the JSON is decoded after it, on the app's side). The ratio is app objects/s
  over raw-limit objects/s; the goal is {goal} of the limit that commits once per page.
- *The sync's own statements, raw* (the floor): the raw limit plus what the app's sync must
  send besides, in the same way: each page's rows read first (`SELECT id, raw` of the page's
  keys, in autocommit, which is how the sync tells new, changed and unchanged rows apart and
  announces each change once), then the upsert, the read of which new rows it inserted (their
  insert tokens: only the write that inserted a subscription announces it) and the renewal of
  the run's lease (an UPDATE of its state row, which keeps two runs apart) in one
  transaction. The app over the floor is what its Python costs (the client's typed objects,
  the cleaning, the comparison, the signals); the floor over the raw limit is what those rules
  cost the database.
- *DB round trips per page* are counted in the sync's process: every statement Django sends
  passes through `connection.execute_wrapper` (savepoints are told apart by their first word);
  COMMIT and ROLLBACK do not (Django calls the driver's `commit()`), so the connection's
  `_commit` and `_rollback` are wrapped and counted. On PostgreSQL psycopg sends the BEGIN of
  each transaction Django opens as a round trip of its own before its first statement: one per
  COMMIT or ROLLBACK. On SQLite Django sends BEGIN itself, and it is counted as sent.
  *Commits per page* are the COMMITs plus the writes run in autocommit, outside any
  transaction, each of which the database commits on its own (no round trip of its own, but a
  commit all the same). The typical page is the median over pages 2 to N/100; page 1 also
  creates the sync's state row and takes its lease.
- The *per-object* baseline reads the same pages with the same client and writes each object
  with one `update_or_create` (the way dj-stripe syncs), in autocommit as a sync task would run.
- *Peak memory added* is the sync process's peak resident set during the sync minus its size
  just before (Linux's `VmHWM`, reset before the sync): it stays flat as N grows tenfold
  because a page is written before the next is read.

On SQLite the scratch database is in WAL journal mode (`PRAGMA journal_mode=WAL`, set when the
run creates it, with the default `synchronous` of FULL): the raw limit and the app write the
same file the same way.

**Fan-out sync.** `django_accepton.tasks.fan_out_sync("subscriptions")` sent through Redis
(database 2 the broker, 3 the results, a queue named for the run) to a real Celery worker
(`celery -A benchmarks.celery_app worker --pool prefork`) started by the run with one process,
then, on an emptied table, with two. The task takes the lease and writes page 1; a chord
writes the other pages in ranges of {pages_per_task} pages on whichever process is free; its
callback records the run. For this part the sandbox answers a list's `total` as the count of
the whole list (its `total=list` dialect switch): the fan-out trusts page 1's total only when
it exceeds a page, and with the default reading (the page's own items) the whole list would be
one range. The time is from sending the task to the callback's result, API time included (the
sandbox serves the workers), and every subscription is checked to be stored. The worker, the
sandbox and the database share the machine's cores: the speed-up says how much of a second
core a second worker process can use here.

**Verification endpoint.** `POST /accepton/api/charges/verify/` of a minimal project
(`benchmarks/settings.py`) under gunicorn on PostgreSQL, with the sandbox as a separate
process. Every request carries its own pre-minted token and its own paid charge, and is sent
once, by `benchmarks/load.py` (a thread per keep-alive connection, in its own process; why not
wrk is said there), at 1, 8 and 32 connections. Each request claims the charge, fetches it from
the sandbox with the secret key, judges it, records the verdict (a sale of a one-off token: two
conditional updates in one transaction) and delivers it (the delivery's lease, then its end).
Beside it, in the same gunicorn server and with the same bodies, the *bare view*
(`benchmarks/views.py`, `POST /bench/bare/`): the same DRF authentication (CSRF checked),
parser and renderer, one SELECT of the token's row and one INSERT into a table of the bench
project, the least a request that writes must do, and no API call. And the *rules' floor*
(`POST /bench/floor/`, the same scaffolding): what the exactly-once rules require of a sale, as
raw SQL on the same tables, with no ORM: the token read, the claim (a charge row) committed on
its own before AcceptOn is asked, the one API call through the package's client, the token
consumed and the charge verified in one transaction, the delivery's lease and its end, each
committed; 6 statements and 4 commits. It sells each charge again to a copy of its token (the
database allows one verified charge per one-off token). The ratios are the endpoint's
throughput over the bare view's and the floor's at each concurrency, and its median latency
over theirs: the floor over the bare view is what the rules cost, the endpoint over the floor
what the package adds to them (the ORM's statements, the judging, the signals). *Time beyond
the one API call* is the endpoint's median latency on one connection minus the median of
direct `client.charges.retrieve` calls made by the same run; *beyond the bare view and the API
call* subtracts the bare view's median latency too. Queries are counted
per request by a middleware of the benchmark project (`X-Queries`; BEGIN and COMMIT are not
among them). The load generator, gunicorn, the sandbox and PostgreSQL share the machine's
cores, so latency under load includes queueing for them.

**Template tag.** Renders of `{{% accepton_form product %}}` for the same product, with
`TOKEN_CACHE_TTL` at its default, with a shared file cache as `TOKEN_CACHE`, and at 0 (every
render mints a token), beside the tag's own template rendered with a ready context (the
floor). API calls are counted by the sandbox. A shared machine's slow moments move these
figures a lot from run to run, so the render with `TOKEN_CACHE` is also timed in 7 rounds, each
round timing the tag, the plain render, and the plain render with the one cache read the tag
cannot do without (`get_many` of its two keys: the hint and the claim's tombstone, see
`django_accepton.services.tokens`), one after the other; the medians are shown.

## Reproduce

```console
$ make bench                                   # SQLite: the endpoint part is skipped
$ POSTGRES_URL=postgres://user:password@127.0.0.1:5432/db make bench
$ .venv/bin/python -m benchmarks --quick --only sync --write /tmp/perf.md   # small sizes
```

The role needs `CREATEDB`: the run creates a scratch database (named with its process id and
a random part, so that runs from two checkouts never meet) and drops it at the end. The
fan-out part needs Redis (`BENCH_CELERY_BROKER_URL` and `BENCH_CELERY_RESULT_BACKEND`, by
default databases 2 and 3 on 127.0.0.1:6379). `--only SECTION` (repeatable: `sync`, `fan-out`,
`verification`, `template-tag`) runs part of it, `--quick` runs every part with small sizes.
`make bench` installs the `bench` extra (gunicorn) and rewrites this page, after each part
as it finishes. A full run takes about 8 minutes on an idle two-core machine, most of it the
per-object baseline of 100,000 subscriptions (up to twice that on a busy one); `--quick` about
a minute and a half.
"""


# ----- the run ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--write", metavar="PATH", help="also write the results page here")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes everywhere: for development"
    )
    parser.add_argument(
        "--sizes",
        help="subscription counts of the sync part, comma-separated (10000,100000)",
    )
    parser.add_argument(
        "--fan-out", type=int, metavar="N", help="subscriptions of the fan-out part (30000)"
    )
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this part (repeatable); all of them by default",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.sizes:
        sizes = replace(sizes, sync=tuple(int(size) for size in args.sizes.split(",")))
    if args.fan_out:
        sizes = replace(sizes, fan_out=args.fan_out)
    parts = [section for section in SECTIONS if section in (args.only or SECTIONS)]
    report = Report(args.write, parts, sizes)
    install_handlers()
    postgres_url = os.environ.get("POSTGRES_URL") or None
    folder = Path(tempfile.mkdtemp(prefix="accepton-bench-"))
    os.environ.setdefault("BENCH_CELERY_QUEUE", f"accepton-bench-{os.getpid()}")
    try:
        sandbox = Sandbox(folder)
        try:
            with scratch_database(postgres_url, folder) as database_url:
                os.environ.update(
                    {
                        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
                        "BENCH_DATABASE_URL": database_url,
                        "BENCH_ACCEPTON_URL": sandbox.url,
                        "BENCH_ACCEPTON_SECRET_KEY": sandbox.secret_key,
                        "BENCH_ACCEPTON_PUBLIC_KEY": sandbox.public_key,
                    }
                )
                import django
                from django.core.management import call_command

                django.setup()
                call_command("migrate", run_syncdb=True, verbosity=0)
                report.facts = machine()
                report.write()
                sections: dict[str, Callable[[], None]] = {
                    "sync": lambda: bench_sync(sandbox, report, sizes.sync, folder),
                    "fan-out": lambda: bench_fan_out(sandbox, report, sizes.fan_out, folder),
                    "verification": lambda: bench_verification(sandbox, report, sizes, folder),
                    "template-tag": lambda: bench_template_tag(sandbox, report, sizes.renders),
                }
                for part in parts:
                    try:
                        sections[part]()
                    except Exception as exc:  # noqa: BLE001 - the other parts still run
                        traceback.print_exc()
                        report.failed(part, exc)
                    else:
                        report.done(part)
        finally:
            sandbox.stop()
    finally:
        stop_all()
        shutil.rmtree(folder, ignore_errors=True)
    print()
    for name, value in report.facts:
        print(f"{name}: {value}")
    print()
    print(table(report.rows))
    if report.path is not None:
        report.write()
        print(f"\nwritten to {report.path}")
    if report.failures:
        print(f"\nfailed: {', '.join(report.failures)}", file=sys.stderr)
        return 1
    return 0
