"""The sync's page write (services.upsert) against the ORM's ``bulk_create``: the same pages,
written both ways, leave the same tables, column by column, on every backend the suite runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_accepton.api import get_client
from django_accepton.models import Charge, Plan, PromoCode, Subscription
from django_accepton.services import sync as sync_service
from django_accepton.services import upsert
from django_accepton.services.promo_codes import create_promo_code
from django_accepton.signals import subscription_created
from tests.checkout.conftest import SUCCESS_CARD, render_form, token_in

pytestmark = [pytest.mark.django_db, pytest.mark.accepton_dialects]

RESOURCES = ("plans", "subscriptions", "promo_codes", "charges")


def hostile_charge(sandbox: Any) -> None:
    """A paid charge whose email, description and metadata hold what databases refuse."""
    token = token_in(render_form({"amount": 1200, "currency": "usd", "description": "Ink ☃"}))
    sandbox.state.create_form_charge(
        token,
        SUCCESS_CARD,
        12,
        date.today().year + 2,
        "123",
        "eve\x00@example.com",
        metadata={"note": "a\x00b", "odd": "\ud800x", "long": "ü" * 5000},
    )


def remote_page(resource: str) -> list[Any]:
    """Page 1 of ``resource`` as the sync reads it."""
    spec = sync_service.SPECS[resource]
    run = sync_service.start_sync(resource, full=True, dry_run=True)
    return list(spec.fetch(get_client(), run, 1).data)


def rows_of(resource: str, remote: list[Any], *, now: Any) -> list[models.Model]:
    spec = sync_service.SPECS[resource]
    return [spec.build(item, "sandbox", now) for item in remote]


def table(model: type[models.Model]) -> list[dict[str, Any]]:
    """Every column of every row, but the auto primary key (it numbers inserts) and the times
    the database row was written (``auto_now_add``: the moment of each write)."""
    auto = model._meta.auto_field
    written = {
        field.attname
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)
    }
    for name in written:
        assert not model._default_manager.filter(**{f"{name}__isnull": True}).exists()
    names = ["pk"] if model is not PromoCode else []
    names += [
        field.attname
        for field in model._meta.concrete_fields
        if field is not auto and field.attname not in written
    ]
    key = "name" if model is PromoCode else "pk"
    return list(model._default_manager.order_by(key).values(*names))


def write_twice(
    resource: str, writer: Any, remote: list[Any], first: datetime
) -> list[dict[str, Any]]:
    """Insert a page read at ``first``, then write it again changed (every row updated); the
    table after."""
    spec = sync_service.SPECS[resource]
    options = {"unique_fields": spec.unique_fields, "update_fields": spec.update_fields}
    inserted = rows_of(resource, remote, now=first)
    writer(spec.model, inserted, **options)
    later = rows_of(resource, remote, now=first + timedelta(minutes=5))
    for row in later:
        row.raw = {**row.raw, "seen": "again"}  # type: ignore[attr-defined]
    writer(spec.model, later, **options)
    rows = table(spec.model)
    if spec.model is Subscription:
        # A fresh token per row built: the insert's stays, the update never writes it. (So the
        # two writers' tables differ there by construction, and are compared without it.)
        assert [row.pop("insert_token") for row in rows] == [
            row.insert_token  # type: ignore[attr-defined]
            for row in sorted(inserted, key=lambda row: row.pk)
        ]
    return rows


@pytest.fixture
def seeded(accepton: Any) -> Any:
    for resource in RESOURCES:
        accepton.state.seed(resource, 30)
    create_promo_code("TENOFF", "percentage", Decimal("10"))
    hostile_charge(accepton)
    return accepton


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_fast_upsert_writes_what_bulk_create_writes(seeded: Any, resource: str) -> None:
    model = sync_service.SPECS[resource].model
    model._default_manager.all().delete()
    remote = remote_page(resource)
    assert len(remote) >= 30

    # The same moment both ways: the rows hold when they were read.
    first = timezone.now()
    fast = write_twice(resource, upsert.upsert, remote, first)
    model._default_manager.all().delete()
    portable = write_twice(resource, upsert.portable_upsert, remote, first)

    assert len(fast) == len(remote)
    assert all(row["raw"]["seen"] == "again" for row in fast)
    differences = [
        (row["pk" if "pk" in row else "name"], name, value, other[name])
        for row, other in zip(fast, portable, strict=True)
        for name, value in row.items()
        if value != other[name]
    ]
    assert not differences


def values_list_of(spec: Any, keys: list[str], fields: tuple[str, ...], env: Any) -> list[Any]:
    rows = spec.model._default_manager.filter(**{f"{spec.key_field}__in": keys})
    if env is not None:
        rows = rows.filter(environment=env)
    return sorted(rows.values_list(spec.key_field, *fields), key=lambda row: row[0])


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_page_read_returns_what_values_list_returns(seeded: Any, resource: str) -> None:
    """The rows a page already has, read by one statement, converted as the ORM converts them:
    the JSON decoded (cleaned of what the database refused), the deletion moment aware."""
    spec = sync_service.SPECS[resource]
    remote = fresh_page(resource)
    write_page(resource, remote)
    keys = [spec.key(item) for item in remote]
    stored = spec.model._default_manager.filter(**{f"{spec.key_field}__in": keys[:3]})
    stored.update(raw={"nested": {"list": [1, 2.5, None, "ü"]}, "flag": True})
    gone = timezone.now() - timedelta(days=1)
    fields: tuple[str, ...] = ("raw",)
    if any(field.name == "deleted_at" for field in spec.model._meta.fields):
        spec.model._default_manager.filter(**{f"{spec.key_field}__in": keys[3:5]}).update(
            deleted_at=gone
        )
        fields += ("deleted_at",)
    asked = [*keys, "not_mirrored_here"]
    env = "sandbox" if spec.key_field != "id" else None

    read = sorted(upsert.read_rows(spec.model, spec.key_field, asked, fields, environment=env))

    assert read == values_list_of(spec, asked, fields, env)
    assert len(read) == len(keys)
    by_key = {row[0]: row for row in read}
    assert by_key[keys[0]][1] == {"nested": {"list": [1, 2.5, None, "ü"]}, "flag": True}
    if "deleted_at" in fields:
        assert sum(row[2] == gone for row in read) == 2
    # Another environment's rows are not this one's.
    if env is not None:
        assert not upsert.read_rows(spec.model, spec.key_field, asked, fields, environment="live")


def test_the_page_read_is_one_query_and_keeps_the_portable_path(seeded: Any, monkeypatch) -> None:
    spec = sync_service.SPECS["subscriptions"]
    remote = fresh_page("subscriptions")
    write_page("subscriptions", remote)
    keys = [spec.key(item) for item in remote]

    with CaptureQueriesContext(connection) as captured:
        fast = upsert.read_rows(spec.model, spec.key_field, keys, ("raw",))
    monkeypatch.setattr(upsert, "_WRITERS", {})
    portable = upsert.read_rows(spec.model, spec.key_field, keys, ("raw",))

    assert len(captured) == 1
    assert sorted(fast) == sorted(portable) == values_list_of(spec, keys, ("raw",), None)


def test_the_page_read_takes_what_values_list_takes() -> None:
    """The key named "pk", and keys given as numbers for a text column, as the ORM takes them."""
    Plan.objects.create(
        id="123", environment="sandbox", name="p", amount=1, currency="usd", period_unit="month"
    )
    Plan.objects.filter(pk="123").update(raw={"a": 1})

    assert upsert.read_rows(Plan, "pk", ["123"], ("raw",)) == [("123", {"a": 1})]
    assert upsert.read_rows(Plan, "id", [123], ("raw",)) == [("123", {"a": 1})]
    assert list(Plan.objects.filter(id__in=[123]).values_list("pk", "raw")) == [("123", {"a": 1})]


def fresh_page(resource: str) -> list[Any]:
    """Page 1 of ``resource`` read from the sandbox, its mirror emptied."""
    remote = remote_page(resource)
    sync_service.SPECS[resource].model._default_manager.all().delete()
    return remote


def write_page(resource: str, remote: list[Any]) -> None:
    spec = sync_service.SPECS[resource]
    upsert.upsert(
        spec.model,
        rows_of(resource, remote, now=timezone.now()),
        unique_fields=spec.unique_fields,
        update_fields=spec.update_fields,
    )


def test_a_page_is_one_statement_where_the_backend_has_a_writer(seeded: Any) -> None:
    remote = fresh_page("charges")

    with CaptureQueriesContext(connection) as captured:
        write_page("charges", remote)

    assert len(captured) == 1, [query["sql"][:80] for query in captured]
    assert Charge.objects.count() == len(remote)


def test_a_list_beyond_one_statement_is_split_and_written_whole(seeded: Any, monkeypatch) -> None:
    remote = fresh_page("subscriptions")
    # Three rows' worth of parameters a statement.
    monkeypatch.setattr(upsert, "MAX_PARAMETERS", 3 * len(Subscription._meta.concrete_fields))

    write_page("subscriptions", remote)

    assert Subscription.objects.count() == len(remote)


def test_an_unknown_backend_takes_the_portable_path(seeded: Any, monkeypatch) -> None:
    remote = fresh_page("plans")
    monkeypatch.setattr(upsert, "_WRITERS", {})

    with CaptureQueriesContext(connection) as captured:
        write_page("plans", remote)

    assert Plan.objects.count() == len(remote)
    assert any("ON CONFLICT" in query["sql"].upper() for query in captured)


def test_a_row_the_database_refuses_fails_alone(seeded: Any, monkeypatch) -> None:
    """The page's one statement is refused; the page is written again row by row and only
    the row the database will not store is counted failed."""
    from django.db import IntegrityError

    real = upsert.upsert
    calls: list[int] = []

    def refuse_poison(model: Any, rows: Any, **options: Any) -> None:
        calls.append(len(rows))
        if any(getattr(row, "pk", "") == poisoned for row in rows):
            raise IntegrityError("refused")
        real(model, rows, **options)

    remote = remote_page("subscriptions")
    poisoned = remote[3].id
    monkeypatch.setattr(upsert, "upsert", refuse_poison)
    Subscription.objects.all().delete()

    result = sync_service.sync_subscriptions()

    assert result.failed == 1
    assert result.created == Subscription.objects.count()
    assert not Subscription.objects.filter(pk=poisoned).exists()
    assert calls[: len(remote) + 1] == [len(remote)] + [1] * len(remote)


@pytest.fixture
def server_side_binding(monkeypatch):
    assert connection.vendor == "postgresql"
    connection.close()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    connection.features.__dict__.pop("uses_server_side_binding", None)
    yield
    connection.close()
    connection.features.__dict__.pop("uses_server_side_binding", None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_page_is_written_with_queries_logged_and_server_side_binding(
    accepton, server_side_binding
):
    """Django's query log writes out a statement with its %s placeholders: with the
    server_side_binding option the page goes through Django's own cursor."""
    accepton.state.seed("charges", 5)
    assert connection.features.uses_server_side_binding
    with CaptureQueriesContext(connection):  # what DEBUG=True does on every request/task
        result = sync_service.sync_charges(full=True)
    assert result.created == 5
    assert Charge.objects.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_page_is_written_with_server_side_binding(accepton, server_side_binding):
    accepton.state.seed("charges", 5)
    assert sync_service.sync_charges(full=True).created == 5


@pytest.mark.django_db(transaction=True)
def test_the_announced_subscription_is_a_saved_instance(accepton):
    """Receivers get the row as the page wrote it: saved, as bulk_create leaves rows."""
    accepton.state.seed("subscriptions", 2)
    seen = []

    def receiver(sender, subscription, **kwargs):
        try:
            subscription.full_clean(exclude=["user", "plan"])
            problem = None
        except ValidationError as exc:
            problem = exc.message_dict
        seen.append((subscription._state.adding, subscription._state.db, problem))

    subscription_created.connect(receiver, weak=False, dispatch_uid="review-state")
    try:
        sync_service.sync_subscriptions()
    finally:
        subscription_created.disconnect(dispatch_uid="review-state")
    assert len(seen) == 2
    assert all(state == (False, "default", None) for state in seen), seen
