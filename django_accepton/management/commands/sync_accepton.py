"""``manage.py sync_accepton``: the sync, the re-verification of pending charges and the
settling of refunds of unknown outcome, from cron or by hand."""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from django_accepton.api import AccountNotShared, require_store_account
from django_accepton.services import attention
from django_accepton.services.attention import refund_unfulfilled
from django_accepton.services.fulfilment import redeliver_fulfilments
from django_accepton.services.refunds import reconcile_refunds
from django_accepton.services.sync import PER_PAGE, RESOURCES, SyncError, SyncResult, sync
from django_accepton.services.verification import (
    claim_orphaned_charges,
    reverify_pending_charges,
    summarize,
)

COLUMNS = ("created", "updated", "unchanged", "failed", "deleted", "pages", "requests", "seconds")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day (YYYY-MM-DD)") from None


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; plain lines elsewhere (cron, CI logs)."""

    width = 30

    def __init__(self, resource: str, stream: OutputWrapper) -> None:
        self.resource = resource
        self.stream = stream
        self.tty = stream.isatty()
        self.drawn = False
        self.started = time.monotonic()

    def __call__(self, result: SyncResult) -> None:
        page = result.last_page
        # What ``total`` counts is undocumented: it tells the number of pages only when it
        # cannot be the size of one page, and the end is known once it is reached.
        total_pages: int | None = None
        if result.reached_end:
            total_pages = page
        elif result.remote_total is not None and result.remote_total > page * PER_PAGE:
            total_pages = math.ceil(result.remote_total / PER_PAGE)
        if self.tty:
            done = min(page / total_pages, 1.0) if total_pages else 0.0
            filled = int(self.width * done)
            bar = "#" * filled + "-" * (self.width - filled)
            elapsed = time.monotonic() - self.started
            left = ""
            if total_pages and 0 < page < total_pages:
                left = f", about {_duration(elapsed / page * (total_pages - page))} left"
            self.stream.write(
                f"\r{self.resource:<14} [{bar}] page {page}/{total_pages or '?'}"
                f"  {result.seen} objects  {_duration(elapsed)}{left}\x1b[K",
                ending="",
            )
            self.stream.flush()
            self.drawn = True
            if result.reached_end:
                # The line is finished before anything else (the sync's log line) is written.
                self.stream.write("")
                self.drawn = False
        elif page == 1 or page == total_pages or page % 10 == 0:
            # Every tenth page: a log line per page would drown a 1000-page sync.
            self.stream.write(
                f"{self.resource}: page {page} of {total_pages or '?'}, {result.seen} objects"
            )

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Copy AcceptOn's plans, subscriptions, promo codes and charges into the local mirrors "
        "(all four when none is named), then re-verify pending charges and settle refunds "
        "whose outcome is unknown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "resources",
            nargs="*",
            metavar="RESOURCE",
            help=f"Any of: {', '.join(RESOURCES)}.",
        )
        parser.add_argument(
            "--since",
            type=_day,
            help="Charges created from this day on (YYYY-MM-DD, UTC). Default: a day before "
            "the last successful charge sync.",
        )
        parser.add_argument(
            "--until", type=_day, help="Charges created up to this day (YYYY-MM-DD, UTC)."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read every charge, ignoring the last successful sync.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read AcceptOn and count what would change; write nothing.",
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            require_store_account()
        except AccountNotShared as exc:
            raise CommandError(str(exc)) from None
        resources = options["resources"] or list(RESOURCES)
        unknown = sorted(set(resources) - set(RESOURCES))
        if unknown:
            raise CommandError(
                f"Unknown resource {', '.join(unknown)}; choose from {', '.join(RESOURCES)}."
            )
        results: list[SyncResult] = []
        errors: list[dict[str, str]] = []
        for resource in dict.fromkeys(resources):
            bar = ProgressBar(resource, self.stderr)
            try:
                results.append(
                    sync(
                        resource,
                        since=options["since"],
                        until=options["until"],
                        full=options["full"],
                        dry_run=options["dry_run"],
                        progress=bar,
                    )
                )
            except SyncError as exc:
                if exc.result is not None:
                    results.append(exc.result)
                errors.append({"resource": resource, "error": str(exc)})
            finally:
                bar.close()

        summary: dict[str, Any] = {
            "dry_run": options["dry_run"],
            "syncs": [result.as_dict() for result in results],
            "errors": errors,
        }
        if not options["dry_run"]:
            summary["pending_charges"] = summarize(reverify_pending_charges())
            summary["orphaned_charges"] = summarize(claim_orphaned_charges())
            summary["refunds"] = reconcile_refunds().as_dict()
            summary["deliveries"] = redeliver_fulfilments().as_dict()
            summary["attention"] = {
                **refund_unfulfilled().as_dict(),
                "open": len(attention.open_items()),
            }

        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            self._print_table(summary)
        if errors:
            raise CommandError(
                "; ".join(f"{error['resource']}: {error['error']}" for error in errors)
            )

    def _print_table(self, summary: dict[str, Any]) -> None:
        rows = [["resource", *COLUMNS]]
        for result in summary["syncs"]:
            cells = [str(result[column]) for column in COLUMNS[:-1]]
            rows.append([result["resource"], *cells, f"{result['seconds']:.2f}"])
        widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
        for number, row in enumerate(rows):
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            self.stdout.write("  ".join(cells))
            if number == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        if summary["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
        if "pending_charges" in summary:
            pending = summary["pending_charges"]
            self.stdout.write(
                f"Pending charges: {pending['verified']} verified, {pending['rejected']} "
                f"rejected, {pending['still_pending']} still pending."
            )
            orphans = summary["orphaned_charges"]
            self.stdout.write(
                f"Charges nobody came back with: {orphans['verified']} matched and verified, "
                f"{orphans['rejected']} rejected, {orphans['still_pending']} pending."
            )
            settled = summary["refunds"]
            self.stdout.write(
                f"Refunds of unknown outcome: {settled['succeeded']} confirmed, "
                f"{settled['released']} released, {settled['still_unknown']} still unknown."
            )
            deliveries = summary["deliveries"]
            self.stdout.write(
                f"Verified charges the store was told about again: {deliveries['delivered']} "
                f"delivered, {deliveries['failed']} still failing."
            )
            items = summary["attention"]
            self.stdout.write(
                f"Paid but not fulfilled: {items['open']} open, {items['refunded']} refunded "
                f"automatically, {items['failed']} refunds failed."
            )
