"""The sync against the sandbox: pages, queries, idempotency, changes, deletions, the lease."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_accepton.models import Charge, Plan, PromoCode, Subscription, SyncState, Verification
from django_accepton.services import renewals
from django_accepton.services import sync as sync_service
from django_accepton.services.plans import create_plan
from django_accepton.services.sync import (
    SyncAlreadyRunning,
    SyncError,
    SyncLockLost,
    SyncResult,
    finish_sync,
    page_ranges,
    start_sync,
    sync_charges,
    sync_page_range,
    sync_plans,
    sync_promo_codes,
    sync_subscriptions,
)
from tests.mirror.helpers import fault, recurring
from tests.mirror.test_renewals import renew, subscribed

# A staging account answered by `responses`, for what the sandbox cannot send.
STUBBED_STAGING = {
    "ENVIRONMENT": "staging",
    "BASE_URL": "https://accepton.test",
    "SECRET_KEY": "skey_" + "0" * 32,
    "PUBLIC_KEY": "pkey_" + "0" * 16,
    "MAX_RETRIES": 0,
}

# Money paths: run against every sandbox dialect (docs/api-calls.md).
pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

SUBSCRIPTIONS = 2550  # 26 pages, the last one short


def list_calls(sandbox, path: str) -> int:
    return sandbox.state.request_count("GET", path)


def queries_per_page(run_sync):
    """Run a sync and return the number of queries each page cost."""
    marks: list[int] = []
    with CaptureQueriesContext(connection) as captured:
        result = run_sync(progress=lambda _: marks.append(len(captured)))
    return result, [after - before for before, after in zip([0, *marks], marks, strict=False)]


# Transactional: counted as in production, where a sync runs in autocommit (inside a caller's
# transaction each page's write takes a savepoint too).
@pytest.mark.django_db(transaction=True)
def test_sync_of_thousands_costs_one_request_and_constant_queries_per_page(accepton):
    accepton.state.seed("subscriptions", SUBSCRIPTIONS)
    accepton.state.clear_request_log()

    result, per_page = queries_per_page(sync_subscriptions)

    pages = math.ceil(SUBSCRIPTIONS / 100)
    assert (result.created, result.updated, result.unchanged, result.failed) == (
        SUBSCRIPTIONS,
        0,
        0,
        0,
    )
    assert result.pages == pages
    assert result.requests == pages == list_calls(accepton, recurring(accepton, "subscriptions"))
    assert Subscription.objects.count() == SUBSCRIPTIONS
    # Page 1 also pays for taking the lease; every page, the short last one too, costs the
    # same: the page's rows read, then one transaction (BEGIN, one upsert of the whole page,
    # which of its new rows it inserted, the lease renewed, COMMIT), whatever the rows behind it.
    # One commit a page.
    assert len(per_page) == pages
    assert set(per_page[1:]) == {6}, per_page
    assert per_page[0] <= 6 + 6, per_page  # and taking the lease


@pytest.mark.django_db(transaction=True)
def test_second_sync_finds_everything_unchanged_and_writes_nothing(accepton):
    accepton.state.seed("subscriptions", SUBSCRIPTIONS)
    sync_subscriptions()
    before = dict(Subscription.objects.values_list("id", "synced_at"))

    with CaptureQueriesContext(connection) as captured:
        result, per_page = queries_per_page(sync_subscriptions)

    assert (result.created, result.updated, result.unchanged) == (0, 0, SUBSCRIPTIONS)
    assert dict(Subscription.objects.values_list("id", "synced_at")) == before
    # Read the page's rows, renew the lease: nothing to write, no transaction; and, where the
    # page shows a subscription billed in the last two days, one read of unlinked renewals
    # near those billings (renewals.RELINK_WITHIN).
    assert set(per_page[1:]) <= {2, 3}, per_page
    writes = [
        query["sql"][:60]
        for query in captured
        if query["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE", "BEGIN")
        and "syncstate" not in query["sql"]
    ]
    assert writes == []


def test_changes_on_acceptOns_side_are_picked_up(accepton):
    accepton.state.seed("subscriptions", 450)
    sync_subscriptions()
    active = [
        row["id"] for row in accepton.state.list_subscriptions(per_page=100, active=True)["data"]
    ]
    for subscription_id in active[:7]:
        accepton.state.cancel_subscription(subscription_id)
    for subscription_id in active[7:10]:
        accepton.state.bill_subscription(subscription_id)
    plan = accepton.state.create_plan("New plan", 700, "usd", "month")
    new = accepton.state.create_subscription(plan["id"], "new@example.com")

    result = sync_subscriptions()

    assert (result.created, result.updated, result.unchanged) == (1, 10, 440)
    assert Subscription.objects.filter(pk__in=active[:7], active=False).count() == 7
    assert Subscription.objects.get(pk=new["id"]).plan_id == plan["id"]
    billed = Subscription.objects.get(pk=active[8])
    assert billed.last_billed_at == timezone.datetime.fromisoformat(
        accepton.state.retrieve_subscription(active[8])["last_billed_at"]
    )


def test_promo_codes_deleted_or_renamed_on_acceptOn_are_marked_deleted(accepton):
    accepton.state.seed("promo_codes", 1050)
    first = sync_promo_codes()
    assert (first.created, first.pages, first.requests) == (1050, 11, 11)
    for name in ("SEED1", "SEED2", "SEED3"):
        accepton.state.delete_promo_code(name)
    accepton.state.update_promo_code("SEED4", name="RENAMED4")
    accepton.state.update_promo_code("SEED5", value=0.5, promo_type="percentage")
    accepton.state.clear_request_log()

    result = sync_promo_codes()

    assert (result.created, result.updated, result.deleted) == (1, 1, 4)
    assert result.unchanged == 1050 - 5
    # 11 pages, then one lookup per unlisted code to confirm it is gone.
    assert result.requests == 11 + 4 == accepton.state.request_count("GET", "/v1/promo_codes")
    gone = PromoCode.objects.filter(deleted_at__isnull=False)
    assert sorted(gone.values_list("name", flat=True)) == ["SEED1", "SEED2", "SEED3", "SEED4"]
    assert PromoCode.objects.get(name="SEED5").promo_type == "percentage"
    # Deleted rows stay deleted, at no extra request.
    again = sync_promo_codes()
    assert (again.deleted, again.requests, again.unchanged) == (0, 11, 1047)


def test_a_code_created_again_under_a_deleted_name_comes_back(accepton):
    accepton.state.create_promo_code("BACK", "amount", 100)
    sync_promo_codes()
    accepton.state.delete_promo_code("BACK")
    sync_promo_codes()
    assert PromoCode.objects.get(name="BACK").deleted_at is not None
    accepton.state.create_promo_code("BACK", "fixed_price", 900)

    result = sync_promo_codes()

    assert (result.created, result.updated) == (0, 1)
    row = PromoCode.objects.get(name="BACK")
    assert (row.deleted_at, row.promo_type) == (None, "fixed_price")


def test_plans_gone_from_acceptOn_are_marked_deleted(accepton):
    accepton.state.seed("plans", 5)
    sync_plans()
    # Staging accounts get wiped: every plan is replaced.
    accepton.state.reset()
    accepton.state.seed("plans", 2)

    result = sync_plans()

    assert (result.created, result.deleted) == (2, 5)
    assert Plan.objects.filter(deleted_at__isnull=True).count() == 2


def test_a_row_the_listing_missed_is_not_marked_deleted(accepton, monkeypatch):
    accepton.state.seed("promo_codes", 5)
    sync_promo_codes()
    real_write = sync_service._write

    def lose_one(spec, run, items, result, **options):
        # As if SEED3 had moved between two pages while they were read.
        real_write(
            spec,
            run,
            [item for item in items if getattr(item, "name", "") != "SEED3"],
            result,
            **options,
        )

    monkeypatch.setattr(sync_service, "_write", lose_one)
    result = sync_promo_codes()

    assert result.deleted == 0
    assert PromoCode.objects.filter(deleted_at__isnull=False).count() == 0


def test_charges_sync_incrementally_from_the_last_success(accepton):
    accepton.state.seed("charges", 250)
    first = sync_charges()
    assert (first.created, first.since) == (250, None)
    state = SyncState.objects.get(resource="charges", environment="sandbox")
    accepton.state.clear_request_log()

    second = sync_charges()

    expected_since = (state.last_success_started_at - timedelta(days=1)).date()
    assert second.since == expected_since.isoformat()
    # Sent as "created after" the day before, so that the day itself is read.
    read_from = expected_since - timedelta(days=1)
    assert f"start_date={read_from.isoformat()}" in accepton.state.request_log[0].query
    assert "order=asc" in accepton.state.request_log[0].query
    assert second.unchanged == Charge.objects.filter(created__date__gte=read_from).count()
    full = sync_charges(full=True)
    assert (full.since, full.unchanged) == (None, 250)


def test_dry_run_counts_and_writes_nothing(accepton):
    accepton.state.seed("promo_codes", 120)

    result = sync_promo_codes(dry_run=True)

    assert (result.created, result.pages, result.dry_run) == (120, 2, True)
    assert not PromoCode.objects.exists()
    assert not SyncState.objects.filter(last_success_started_at__isnull=False).exists()


def test_a_second_sync_of_the_same_resource_is_refused_while_one_runs(accepton):
    run = start_sync("plans")

    with pytest.raises(SyncAlreadyRunning, match="already running"):
        sync_plans()
    sync_promo_codes()  # another resource is not blocked

    finish_sync(run, [sync_page_range(run)])
    assert sync_plans().pages == 1


def test_an_expired_lease_is_taken_over_and_the_old_run_stops(accepton):
    accepton.state.seed("plans", 3)
    stale = start_sync("plans")
    SyncState.objects.filter(resource="plans").update(
        lock_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert sync_plans().created == 3  # the process holding the lease died
    with pytest.raises(SyncLockLost):
        sync_page_range(stale)


def test_a_page_written_after_its_lease_was_lost_is_rolled_back(accepton):
    # The lease is renewed last in the page's transaction: a run that lost it writes nothing.
    accepton.state.seed("plans", 3)
    stale = start_sync("plans")
    SyncState.objects.filter(resource="plans").update(lock_token="another run")

    with pytest.raises(SyncLockLost):
        sync_page_range(stale)

    assert not Plan.objects.exists()


def test_a_failed_page_stops_the_sync_and_keeps_the_last_success(accepton):
    accepton.state.seed("subscriptions", 450)
    sync_subscriptions()
    success = SyncState.objects.get(resource="subscriptions").last_success_started_at
    accepton.state.seed("subscriptions", 10)

    def break_the_next_page(result):
        if result.last_page == 1:
            fault(accepton, status=502, path_prefix=recurring(accepton, "subscriptions"))

    with pytest.raises(SyncError, match="stopped at page 2") as caught:
        sync_subscriptions(progress=break_the_next_page)

    assert (caught.value.result.pages, caught.value.result.requests) == (1, 2)
    state = SyncState.objects.get(resource="subscriptions")
    assert state.last_success_started_at == success
    assert "502" in state.last_error
    assert state.lock_token == ""
    # Subscriptions are listed in AcceptOn's own order: the new ones may have been on page 1.
    assert caught.value.result.created + sync_subscriptions().created == 10
    assert Subscription.objects.count() == 460


def test_fanned_out_ranges_write_what_a_serial_sync_writes(accepton):
    accepton.state.seed("promo_codes", 1234)
    run = start_sync("promo_codes")
    first = sync_page_range(run, 1, 1)
    ranges = page_ranges(first.remote_total, pages_per_range=3)
    if accepton.state.dialect.total == "list":
        assert ranges == [(2, 4), (5, 7), (8, 10), (11, None)]
    else:  # a total that may count only page 1 says nothing about the pages after it
        assert ranges == [(2, None)]
    random.Random(7).shuffle(ranges)

    parts = [sync_page_range(run, start, end) for start, end in ranges]
    result = finish_sync(run, [first, *parts])

    # The range from page 2 reads page 1 again, to tell whether AcceptOn honours paging.
    assert (result.created, result.pages, result.requests, result.failed) == (1234, 13, 14, 0)
    assert result.complete
    serial = sync_promo_codes()
    assert (serial.created, serial.updated, serial.unchanged, serial.deleted) == (0, 0, 1234, 0)


def test_page_ranges_cover_every_page_once():
    # A total up to one page may count only that page: one open range reads on to the end.
    assert page_ranges(100) == [(2, None)]
    assert page_ranges(101) == [(2, None)]
    assert page_ranges(None) == [(2, None)]
    assert page_ranges(2550, pages_per_range=10) == [(2, 11), (12, 21), (22, None)]


@responses.activate
def test_an_unreadable_object_is_counted_failed_and_the_page_goes_on(settings):
    # The sandbox only sends well-formed plans; a server sending a broken one is simulated.
    settings.ACCEPTON = STUBBED_STAGING
    plan = {"object": "plan", "name": "Gold", "amount": 1500, "currency": "usd"}
    responses.get(
        "https://accepton.test/v1/recurring/plans",
        json={
            "object": "list",
            "total": 3,
            "data": [
                {**plan, "id": "pln_1", "period_unit": "month"},
                {**plan, "id": "pln_2", "period_unit": "month", "amount": "lots"},
                {**plan, "id": "pln_3", "period_unit": "year"},
            ],
        },
    )
    Plan.objects.create(id="pln_old", environment="staging", name="Old", amount=1, currency="usd")

    result = sync_plans()

    assert (result.created, result.failed, result.pages, result.deleted) == (2, 1, 1, 0)
    assert sorted(Plan.objects.values_list("id", flat=True)) == ["pln_1", "pln_3", "pln_old"]
    # With an object unread, nobody can tell pln_old is gone: it is not marked.
    assert Plan.objects.get(pk="pln_old").deleted_at is None


def test_a_second_sync_of_hundreds_of_codes_marks_none_deleted(accepton):
    # Under a total that counts only the page, a sync that trusted total stopped at page 1 and
    # the next one took the other 150 codes for deleted.
    accepton.state.seed("promo_codes", 250)
    assert sync_promo_codes().created == 250

    again = sync_promo_codes()

    assert (again.unchanged, again.deleted) == (250, 0)
    assert PromoCode.objects.filter(deleted_at__isnull=True).count() == 250


def test_codes_deleted_on_acceptOn_are_checked_two_hundred_a_run(accepton):
    accepton.state.seed("promo_codes", 20)
    sync_promo_codes()
    # 230 rows AcceptOn no longer has (a wiped staging account, say).
    PromoCode.objects.bulk_create(
        PromoCode(environment="sandbox", name=f"GONE{n}", promo_type="amount", value=1)
        for n in range(230)
    )
    accepton.state.clear_request_log()

    first = sync_promo_codes()

    # Each unseen row is asked about before it is marked deleted, at most 200 a run.
    assert accepton.state.request_count("GET", "/v1/promo_codes/") == 200
    assert first.deleted == 200
    second = sync_promo_codes()
    assert second.deleted == 30
    gone = PromoCode.objects.filter(deleted_at__isnull=False)
    assert set(gone.values_list("name", flat=True)) == {f"GONE{n}" for n in range(230)}


@responses.activate
def test_a_listing_whose_pages_repeat_marks_nothing_deleted(settings):
    # A server that ignores page on promo codes: the sandbox only does that on charges.
    settings.ACCEPTON = STUBBED_STAGING
    codes = [
        {"object": "promo_code", "name": f"C{n}", "promo_type": "amount", "value": 100}
        for n in range(100)
    ]
    for _ in range(2):
        responses.get(
            "https://accepton.test/v1/promo_codes",
            json={"object": "list", "total": 100, "data": codes},
        )
    PromoCode.objects.create(environment="staging", name="ELSEWHERE", promo_type="amount", value=1)

    result = sync_promo_codes()

    assert (result.created, result.incomplete, result.deleted) == (100, True, 0)
    assert PromoCode.objects.get(name="ELSEWHERE").deleted_at is None
    assert len(responses.calls) == 2  # no page 3, no look-ups


def test_an_incomplete_charge_sync_keeps_the_last_success(accepton):
    sync_charges()
    state = SyncState.objects.get(resource="charges")
    success = state.last_success_started_at
    run = start_sync("charges")
    part = SyncResult(resource="charges", environment="sandbox", reached_end=True)
    part.incomplete = True  # a day with more charges than a page, paging and time ignored

    finish_sync(run, [part])

    state.refresh_from_db()
    assert state.last_success_started_at == success
    assert "incomplete" in state.last_error
    assert state.lock_token == ""


@pytest.mark.django_db
def test_a_renewal_is_linked_even_if_the_charge_sync_died_before_linking_it(accepton, monkeypatch):
    """The charge page committed and the run died before linking its renewal; the charges look
    unchanged from then on. The next subscription sync looks again at every subscription
    billed recently, and links it."""
    plan = create_plan("Ink club", 1500, "usd", "month")
    subscription = subscribed(accepton, plan, "ann@example.com")
    renewal = renew(accepton, subscription.pk)
    sync_subscriptions()  # the subscription is seen billed first (no charge to link yet)

    real = renewals.link_renewals

    def dies(*args, **kwargs):
        raise SystemExit("worker killed (SIGTERM) right after the page")

    monkeypatch.setattr(renewals, "link_renewals", dies)
    with pytest.raises(SystemExit):
        sync_charges(full=True)
    monkeypatch.setattr(renewals, "link_renewals", real)

    sync_charges(full=True)  # the next runs
    sync_subscriptions()
    sync_charges(full=True)

    row = Charge.objects.get(pk=renewal)
    assert (row.verification, row.renewal_of_id) == (Verification.RENEWAL, subscription.pk)


def test_a_backfill_of_one_day_reads_the_charges_of_that_day(accepton):
    """--since D --until D: AcceptOn's filters say "created after" and "created before"."""
    from django.utils import timezone

    from tests.mirror.helpers import verified_charge

    charge = verified_charge(accepton, 2500)
    Charge.objects.filter(pk=charge.pk).delete()
    today = timezone.now().date()

    result = sync_charges(since=today, until=today)

    assert result.created == 1
    assert Charge.objects.filter(pk=charge.pk).exists()


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        (["2021-05-04T10:00:00Z", "2021-05-06T10:00:00Z"], "2021-05-03"),
        (["2021-05-06T10:00:00Z", "2021-05-04T10:00:00Z"], "2015-01-01"),  # newest first
        (["2021-05-04T10:00:00Z"], "2021-05-03"),
        ([], "2015-01-01"),
    ],
)
def test_the_date_walk_starts_at_the_oldest_charge_only_when_the_list_is_in_order(listed, expected):
    """Asked for in ascending order, a list's first charge is the oldest; a server that lists
    them another way (its fixtures show the newest first) is read from the beginning."""
    from datetime import date

    from django_accepton.client import AcceptOn

    base = "https://api.example.test"
    charges = [
        {"id": f"chg_{n}", "amount": 100, "currency": "usd", "status": "paid", "created_at": at}
        for n, at in enumerate(listed)
    ]
    with responses.RequestsMock() as mocked:
        mocked.get(f"{base}/v1/charges", json={"object": "list", "data": charges})
        client = AcceptOn("skey_" + "1" * 32, environment="sandbox", base_url=base)
        assert sync_service._first_charge_day(client) == date.fromisoformat(expected)
