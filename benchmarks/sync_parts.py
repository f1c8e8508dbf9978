"""Where a sync page's time goes: each step of writing one page of 100 subscriptions, timed
alone, in one run.

    DATABASE_URL=postgres://user:password@127.0.0.1:5432/db python -m benchmarks.sync_parts

The database must exist and may be written to: the script migrates it and empties the
subscription mirror. No sandbox and no HTTP: the page is JSON made here, so every figure is
time spent in this process and the database. Each step runs 200 times after one warm-up; the
figures are milliseconds per page (of 100 objects).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

REPEATS = 200


def timed(label: str, step: Callable[[], Any]) -> float:
    step()
    started = time.perf_counter()
    for _ in range(REPEATS):
        step()
    seconds = (time.perf_counter() - started) / REPEATS
    print(f"{label:<52} {seconds * 1000:7.3f} ms/page", flush=True)
    return seconds


def main() -> int:
    if "DATABASE_URL" not in os.environ:
        print(__doc__, file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from django_accepton.client import Subscription as RemoteSubscription
    from django_accepton.client.services import Page
    from django_accepton.services import sync, upsert
    from django_accepton.services.subscriptions import subscription_row

    call_command("migrate", verbosity=0)
    plan = {"id": "pln_bench", "name": "Gold", "amount": 900, "currency": "usd"}
    items = [
        {
            "id": f"sub_parts{number:05d}",
            "active": True,
            "email": f"customer{number}@example.com",
            "last_billed_at": "2026-11-01T10:00:00Z",
            "plan": {**plan, "period_unit": "month"},
        }
        for number in range(100)
    ]
    body = json.dumps({"data": items, "total": len(items)}).encode()
    spec = sync.SPECS["subscriptions"]
    parse = sync._lenient(RemoteSubscription.from_json)
    now = timezone.now()
    page = Page.from_json(json.loads(body), parse, page=1, per_page=100)
    rows = [subscription_row(remote, "sandbox", now) for remote in page.data]
    fields = upsert._inserted_fields(spec.model, rows)
    # The connection itself, as upsert() hands it over: through the proxy every attribute
    # costs a context-local lookup the sync never pays.
    prepare = [upsert._preparer(field, connections["default"]) for field in fields]
    keys = [remote.id for remote in page.data]
    options = {"unique_fields": spec.unique_fields, "update_fields": spec.update_fields}
    spec.model._default_manager.all().delete()

    print(f"{connection.vendor}, one page of 100 subscriptions, {REPEATS} times each")
    timed("JSON decoded", lambda: json.loads(body))
    timed(
        "parsed into the client's dataclasses",
        lambda: Page.from_json(json.loads(body), parse, page=1, per_page=100),
    )
    timed(
        "rows built and cleaned (subscription_row)",
        lambda: [subscription_row(remote, "sandbox", now) for remote in page.data],
    )
    timed(
        "values prepared for the database",
        lambda: [tuple(to_db(row) for to_db in prepare) for row in rows],
    )
    timed(
        "rows the page already has, read (none yet)", lambda: sync._existing(spec, "sandbox", keys)
    )

    def write() -> None:
        with transaction.atomic():
            upsert.upsert(spec.model, rows, **options)

    timed("upserted in one transaction (BEGIN, 1, COMMIT)", write)
    timed(
        "rows the page already has, read (all 100)", lambda: sync._existing(spec, "sandbox", keys)
    )
    spec.model._default_manager.all().delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
