"""``make bench``: django-accepton's performance against the sandbox on loopback, in one run.

1. **Sync** of 10,000 and 100,000 subscriptions with ``sync_subscriptions`` (bulk upserts), and
   the same pages written one ``update_or_create`` per object (the dj-stripe way) as the
   baseline: HTTP requests against ⌈N/100⌉, database queries per page, objects per second,
   and the peak resident memory each sync added (each sync runs in a fresh process).
2. **The charge verification endpoint** (``POST /accepton/api/charges/verify/``) served by
   gunicorn, each request with its own pre-minted token and paid charge: requests per second,
   median and p99 latency, queries per request, and the time spent beyond the one API call
   (endpoint latency minus a direct ``client.charges.retrieve`` measured in the same run).
   PostgreSQL only: the workers write concurrently.
3. **The template tag**: 1,000 renders of ``{% accepton_form %}`` with the default
   ``TOKEN_CACHE_TTL`` and with 0: API calls and renders per second.

The sandbox is a separate process (``python -m django_accepton.sandbox``) with keys made for
this run; the database is a scratch one, created and dropped here (PostgreSQL when
``POSTGRES_URL`` is set, else SQLite in a temporary folder). The results are printed as one
table and, with ``--write``, written to a Markdown page.
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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
SYNC_SIZES = (10_000, 100_000)
RENDERS = 1_000
VERIFY_SEQUENTIAL = 300
VERIFY_CONCURRENT = 2_000
VERIFY_WARMUP = 100
CONCURRENCY = 8
RETRIEVES = 300


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


def wait_for(url: str, seconds: float = 60) -> None:
    """Until ``url`` answers at all. A server's first answer under load may take longer than a
    request's timeout: any request error (a refused connection, a read timeout) is a retry
    until the deadline, never the end of a run that has already measured for minutes."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def number(value: float) -> str:
    return f"{value:,.0f}"


def times(numerator: float, denominator: float, suffix: str = "x") -> str:
    return f"{numerator / denominator:.1f}{suffix}" if denominator else "-"


# ----- the sandbox process ----------------------------------------------------------------------


class Sandbox:
    """``python -m django_accepton.sandbox`` on a free port, with keys made for this run."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_key = "pkey_" + secrets.token_hex(16)
        self.secret_key = "skey_" + secrets.token_hex(16)
        # The banner prints the secret key: it goes nowhere.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
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
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = requests.Session()
        wait_for(self.url + "/__sandbox__/state")

    def control(self, method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(
            method, f"{self.url}/__sandbox__/{name}", json=payload or {}, timeout=600
        )
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def api_requests(self) -> int:
        return int(self.control("GET", "state")["requests"])

    def pay(self, token_id: str) -> str:
        return str(self.control("POST", "charges", {"token": token_id})["id"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# ----- the scratch database ---------------------------------------------------------------------


@contextmanager
def scratch_database(postgres_url: str | None) -> Iterator[str]:
    if not postgres_url:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
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


def admin_connection(postgres_url: str) -> Any:
    """A connection to create and drop the scratch database through: the database
    ``POSTGRES_URL`` names, or the server's ``postgres`` database when that one does not exist
    (the URL may name the scratch database's would-be neighbour rather than an existing one)."""
    import psycopg

    try:
        return psycopg.connect(postgres_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        parts = urlsplit(postgres_url)
        fallback = urlunsplit(parts._replace(path="/postgres"))
        return psycopg.connect(fallback, autocommit=True, connect_timeout=10)


def machine(database_url: str) -> list[tuple[str, str]]:
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
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    import django
    import gunicorn

    return [
        ("CPU", cpu),
        ("Cores", str(os.cpu_count())),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("gunicorn", gunicorn.__version__),
        ("Database", database),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d")),
    ]


# ----- 1. sync ----------------------------------------------------------------------------------


def empty_mirrors() -> None:
    from django.db import connection

    from django_accepton.models import Plan, Subscription, SyncState

    with connection.cursor() as cursor:
        for model in (Subscription, Plan, SyncState):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608


def sync_case(sandbox: Sandbox, mode: str, count: int) -> dict[str, Any]:
    from django.db import connections

    empty_mirrors()
    connections.close_all()
    before = sandbox.api_requests()
    output = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.sync_case", mode],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
        cwd=ROOT,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    result["requests"] = sandbox.api_requests() - before
    if result["objects"] != count:
        raise RuntimeError(f"{mode} sync wrote {result['objects']} of {count} subscriptions")
    return result


def growth_mib(result: dict[str, Any]) -> float:
    return max(0, result["rss_peak_kib"] - result["rss_before_kib"]) / 1024


def bench_sync(sandbox: Sandbox, rows: list[Row], sizes: tuple[int, ...]) -> None:
    grown: dict[int, float] = {}
    first = sizes[0]
    for count in sizes:
        sandbox.reset()
        sandbox.control("POST", "seed", {"resource": "subscriptions", "count": count})
        print(f"sync of {count:,} subscriptions: bulk, then per object", file=sys.stderr)
        bulk = sync_case(sandbox, "bulk", count)
        single = sync_case(sandbox, "per_object", count)
        section = f"Sync, {count:,} subscriptions"
        pages = math.ceil(count / 100)
        rows.append(
            Row(
                section,
                "HTTP requests",
                number(bulk["requests"]),
                f"⌈N/100⌉ = {number(pages)}",
                f"{bulk['requests'] / pages:.2f}",
            )
        )
        later = bulk["queries_per_page"][1:] or bulk["queries_per_page"]
        single_later = single["queries_per_page"][1:] or single["queries_per_page"]
        rows.append(
            Row(
                section,
                "DB round trips per page of 100, BEGIN and COMMIT included (page 1; later)",
                f"{bulk['queries_per_page'][0]}; {min(later)}-{max(later)}",
                f"per object: {min(single_later)}-{max(single_later)}",
                times(statistics.median(single_later), statistics.median(later), "x fewer"),
            )
        )
        bulk_rate = count / bulk["seconds"]
        single_rate = count / single["seconds"]
        rows.append(
            Row(
                section,
                "objects/s (seconds)",
                f"{number(bulk_rate)} ({bulk['seconds']:.1f} s)",
                f"per object: {number(single_rate)} ({single['seconds']:.1f} s)",
                times(bulk_rate, single_rate),
            )
        )
        grown[count] = growth_mib(bulk)
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
                else times(grown[count], grown[first], f"x for {count // first}x N"),
            )
        )


# ----- 2. the verification endpoint -------------------------------------------------------------


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
        output = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "benchmarks.load",
                url,
                handle.name,
                "--concurrency",
                str(concurrency),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    finally:
        os.unlink(handle.name)
    result: dict[str, Any] = json.loads(output)
    if result["errors"] or result["statuses"] != {"200": len(bodies)}:
        raise RuntimeError(
            f"the endpoint did not answer 200 to every request: {result['statuses']}, "
            f"{result['errors'][:3]}"
        )
    return result


@contextmanager
def gunicorn_server(workers: int, threads: int) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
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
        cwd=ROOT,
        env=os.environ,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/accepton/failed/")
        yield f"http://127.0.0.1:{port}/accepton/api/charges/verify/"
    finally:
        server.terminate()
        server.wait(timeout=30)


def bench_verification(sandbox: Sandbox, rows: list[Row]) -> None:
    from django.db import connection

    from django_accepton.api import get_client
    from django_accepton.models import Charge, Verification

    section = "Verification endpoint"
    if connection.vendor != "postgresql":
        rows.append(Row(section, "skipped", "needs PostgreSQL: set POSTGRES_URL"))
        return
    sandbox.reset()
    total = VERIFY_WARMUP + VERIFY_SEQUENTIAL + VERIFY_CONCURRENT
    print(f"verification endpoint: minting and paying {total:,} tokens", file=sys.stderr)
    pairs = paid_pairs(sandbox, total)
    warmup = pairs[:VERIFY_WARMUP]
    sequential = pairs[VERIFY_WARMUP : VERIFY_WARMUP + VERIFY_SEQUENTIAL]
    concurrent = pairs[VERIFY_WARMUP + VERIFY_SEQUENTIAL :]

    client = get_client()
    for pair in warmup[:20]:
        client.charges.retrieve(pair["charge_id"])
    direct = []
    for pair in concurrent[:RETRIEVES]:
        started = time.perf_counter()
        client.charges.retrieve(pair["charge_id"])
        direct.append(time.perf_counter() - started)

    workers, threads = os.cpu_count() or 2, 4
    with gunicorn_server(workers, threads) as url:
        print("verification endpoint: under load", file=sys.stderr)
        load(url, warmup, CONCURRENCY)
        one = load(url, sequential, 1)
        many = load(url, concurrent, CONCURRENCY)
    verified = Charge.objects.filter(verification=Verification.VERIFIED).count()
    if verified != total:
        raise RuntimeError(f"{verified} of {total} charges verified")

    server = f"gunicorn gthread, {workers} workers x {threads} threads"
    direct_median = statistics.median(direct)
    for label, result in (("1 connection", one), (f"{CONCURRENCY} connections", many)):
        latencies = result["latencies"]
        rows.append(
            Row(
                section,
                f"requests/s, {label} ({len(latencies):,} requests)",
                f"{number(len(latencies) / result['seconds'])}",
                server,
            )
        )
        rows.append(
            Row(
                section,
                f"latency median / p99, {label}",
                f"{ms(statistics.median(latencies))} / {ms(percentile(latencies, 0.99))}",
                f"direct charges.retrieve: {ms(direct_median)} / {ms(percentile(direct, 0.99))}",
                times(statistics.median(latencies), direct_median),
            )
        )
    queries = one["queries"] + many["queries"]
    rows.append(
        Row(
            section,
            "DB queries per request (min-max)",
            f"{min(queries)}-{max(queries)}",
            f"{verified:,} of {total:,} charges verified, every answer 200",
        )
    )
    overhead = statistics.median(one["latencies"]) - direct_median
    rows.append(
        Row(
            section,
            "time beyond the one API call (median, 1 connection)",
            ms(overhead),
            f"endpoint {ms(statistics.median(one['latencies']))} - retrieve {ms(direct_median)}",
        )
    )


# ----- 3. the template tag ----------------------------------------------------------------------


def bench_template_tag(sandbox: Sandbox, rows: list[Row]) -> None:
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
    for label, extra in cases:
        print(f"template tag: {RENDERS:,} renders, {label}", file=sys.stderr)
        with override_settings(ACCEPTON={**base, **extra}, CACHES=caches_with_hint):
            template.render(Context({"product": {**product, "description": "warm-up"}}))
            template.render(Context({"product": product, "request": request}))
            before = sandbox.api_requests()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                for _ in range(RENDERS):
                    template.render(Context({"product": product, "request": request}))
                seconds = time.perf_counter() - started
            figures[label] = (sandbox.api_requests() - before, RENDERS / seconds, len(queries))
    shutil.rmtree(hint_dir, ignore_errors=True)
    # The floor: the tag's own template rendered with a context made once.
    plain = get_template("django_accepton/form.html")
    plain_context = {
        "connection": {"form_script_url": "https://js.example/accepton.js", "public_key": "pkey_x"},
        "token": {"pk": "txn_" + "0" * 32},
        "redirect_uri": "https://shop.example/accepton/return/?token=txn_0",
    }
    started = time.perf_counter()
    for _ in range(RENDERS):
        plain.render(plain_context)
    plain_rate = RENDERS / (time.perf_counter() - started)
    section = f"Template tag, {RENDERS:,} renders"
    hinted = figures["hinted"]
    rows.append(
        Row(
            section,
            "renders/s with TOKEN_CACHE (a shared file cache)",
            number(hinted[1]),
            f"plain render of form.html: {number(plain_rate)}",
            times(plain_rate, hinted[1], "x the floor (goal <= 3x)"),
        )
    )
    rows.append(
        Row(
            section,
            "queries and API calls per 1,000 renders with TOKEN_CACHE",
            f"{hinted[2]} / {hinted[0]}",
            f"without: {figures['cached'][2]} / {figures['cached'][0]}",
            "",
        )
    )
    cached, uncached = figures["cached"], figures["uncached"]
    ttl = DEFAULTS["TOKEN_CACHE_TTL"]
    rows.append(
        Row(
            section,
            f"API calls (TOKEN_CACHE_TTL {ttl} s, the default)",
            number(cached[0]),
            f"TOKEN_CACHE_TTL 0: {number(uncached[0])}",
            times(uncached[0], cached[0], "x fewer"),
        )
    )
    rows.append(
        Row(
            section,
            "renders/s",
            number(cached[1]),
            f"TOKEN_CACHE_TTL 0: {number(uncached[1])}",
            times(cached[1], uncached[1]),
        )
    )


# ----- output -----------------------------------------------------------------------------------


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


def page(facts: list[tuple[str, str]], rows: list[Row], seconds: float) -> str:
    machine_lines = "\n".join(f"| {name} | {value} |" for name, value in facts)
    return PAGE.format(machine=machine_lines, table=table(rows), seconds=f"{seconds:.0f}")


PAGE = """\
# Performance

Figures from one run of `make bench` (`python -m benchmarks`), against the sandbox on
loopback, {seconds} s in all. They are this machine's; the ratios carry over better than the
absolute numbers.

| Machine | |
|---|---|
{machine}

{table}

## What each figure measures

**Sync.** The sandbox (a separate process) holds N subscriptions; each sync writes all of them
into an empty table, in a fresh Python process. *HTTP requests* are counted by the sandbox.
*DB round trips per page* are every statement Django sends around each page of 100,
transaction control (`BEGIN`, `COMMIT`, savepoints) included (page 1 also creates the sync's
state row and takes its lease). *Peak memory added* is the process's peak resident set during
the sync minus its size just before (Linux's `VmHWM`, reset before the sync): it stays flat
as N grows tenfold because a page is written before the next is read. The baseline reads the
same pages with the same client and writes each object with one `update_or_create` (the way
dj-stripe syncs), in autocommit as a sync task would run.

**Verification endpoint.** `POST /accepton/api/charges/verify/` of a minimal project
(`benchmarks/settings.py`) under gunicorn on PostgreSQL, with the sandbox as a separate
process. Every request carries its own pre-minted token and its own paid charge, and is sent
once, by `benchmarks/load.py` (a thread per keep-alive connection, in its own process; why not
wrk is said there). Each request claims the charge, fetches it from the sandbox with the secret
key, judges it and records the verdict under row locks. *Time beyond the one API call* is the
endpoint's median latency on one connection minus the median of direct
`client.charges.retrieve` calls made by the same run. Queries are counted per request by a
middleware of the benchmark project (`X-Queries`). The load generator, gunicorn, the sandbox
and PostgreSQL share the machine's cores, so latency under load includes queueing for them.

**Template tag.** 1,000 renders of `{{% accepton_form product %}}` for the same product, with
`TOKEN_CACHE_TTL` at its default and at 0 (every render mints a token). API calls are counted
by the sandbox.

## Reproduce

```console
$ make bench                                              # SQLite: the endpoint part is skipped
$ POSTGRES_URL=postgres://user:password@127.0.0.1:5432/db make bench
```

The role needs `CREATEDB`: the run creates a scratch database and drops it at the end.
`make bench` installs the `bench` extra (gunicorn) and rewrites this page.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--write", metavar="PATH", help="also write the results page here")
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in SYNC_SIZES),
        help="subscription counts of the sync benchmark, comma-separated (10000,100000)",
    )
    parser.add_argument(
        "--only",
        choices=("sync", "verification", "template-tag"),
        action="append",
        help="run only this part (repeatable); all three by default",
    )
    args = parser.parse_args(argv)
    parts = set(args.only or ("sync", "verification", "template-tag"))
    sizes = tuple(int(size) for size in args.sizes.split(","))
    started = time.perf_counter()
    postgres_url = os.environ.get("POSTGRES_URL") or None
    sandbox = Sandbox()
    try:
        with scratch_database(postgres_url) as database_url:
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
            call_command("migrate", verbosity=0)
            facts = machine(database_url)
            rows: list[Row] = []
            if "sync" in parts:
                bench_sync(sandbox, rows, sizes)
            if "verification" in parts:
                bench_verification(sandbox, rows)
            if "template-tag" in parts:
                bench_template_tag(sandbox, rows)
    finally:
        sandbox.stop()
    seconds = time.perf_counter() - started
    print()
    for name, value in facts:
        print(f"{name}: {value}")
    print()
    print(table(rows))
    if args.write:
        Path(args.write).write_text(page(facts, rows, seconds))
        print(f"\nwritten to {args.write}")
    return 0
