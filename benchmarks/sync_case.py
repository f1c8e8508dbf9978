"""One sync measurement, in a process of its own so that its peak memory is its own.

``python -m benchmarks.sync_case bulk|per_object`` syncs every subscription the sandbox holds
into an empty table and prints JSON: seconds, objects, pages, API requests made, the database
queries of each page, and the resident memory before and at its peak.

- ``bulk`` is ``django_accepton.services.sync.sync_subscriptions``: pages of 100, one bulk
  upsert per page.
- ``per_object`` reads the same pages with the same client and writes each object with its own
  ``update_or_create``, the way dj-stripe's ``sync_from_stripe_data`` does: the baseline.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATUS = Path("/proc/self/status")


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


def main(argv: list[str]) -> int:
    mode = argv[0]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.db import connection

    from django_accepton.services.sync import sync_subscriptions

    queries = 0
    marks: list[int] = []

    def count(execute: Callable[..., Any], *args: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(*args)

    connection.ensure_connection()
    gc.collect()
    reset_peak()
    rss_before = memory_kib("VmRSS")
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        if mode == "bulk":
            result = sync_subscriptions(progress=lambda _: marks.append(queries))
            pages, objects = result.pages, result.created + result.updated + result.unchanged
        else:
            pages, objects = per_object_sync(lambda _: marks.append(queries))
        seconds = time.perf_counter() - started
    per_page = [after - before for before, after in zip([0, *marks], marks, strict=False)]
    json.dump(
        {
            "mode": mode,
            "seconds": seconds,
            "objects": objects,
            "pages": pages,
            "queries": queries,
            "queries_per_page": per_page,
            "rss_before_kib": rss_before,
            "rss_peak_kib": memory_kib("VmHWM"),
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
