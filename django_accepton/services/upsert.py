"""Writing a page of mirror rows in one statement: an upsert helper per database backend.

A sync page is at most 100 rows, each inserted or, when its key exists, overwritten with
AcceptOn's columns. ``QuerySet.bulk_create(update_conflicts=True)`` says that in one statement
too, but measured on PostgreSQL it spends most of a page's time outside the database: Django
5.2 sends the rows as one array per column (``UNNEST``), and psycopg 3's client-side binding,
Django's default, quotes each array into SQL text in Python, element by element (about 15 ms
of a 46 ms page), before the ORM's own compilation of 100 model instances.

So the two backends the package is tested on get the statement written here, with the values
each field prepares for the database (``pre_save`` then ``get_db_prep_save``: what
``bulk_create`` would send, time zones, JSON and decimals included):

- **PostgreSQL** (psycopg 3): ``INSERT … VALUES ($1, …), (…) ON CONFLICT (…) DO UPDATE SET
  c = EXCLUDED.c`` on a cursor of Django's own connection (its transaction, its time zone and
  adapters) that binds its parameters on the server (``psycopg.RawCursor``): the values travel
  beside the statement, are never quoted into it, and the statement is never parsed again in
  Python. Statements are not prepared (Django's default, which keeps connection poolers
  working). A statement carries at most :data:`MAX_PARAMETERS` values; longer lists are split.
- **SQLite**: the same upsert for one row, given to ``executemany`` (the loop runs inside the
  sqlite3 module, in C).

The cursor is wrapped like any Django cursor, so execute wrappers, query logging and
``assertNumQueries`` see the statement. Every other backend (and psycopg 2) keeps
``bulk_create``, the portable path; the tests write the same pages both ways and compare the
tables column by column.

The helper runs inside whatever transaction the caller holds, and does not catch the
database's errors: a page the database refuses is the caller's to retry row by row
(``services.sync``).

The page's rows are read before it is written (:func:`read_rows`) by one ``SELECT`` on the same
two backends, with the values converted as the ORM converts them (the backend's converters,
then the field's own, ``JSONField.from_db_value`` among them): building the ORM's query for a
hundred keys costs more than the query on PostgreSQL. Other backends use ``values_list``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

try:
    import psycopg
except ImportError:  # SQLite only, or psycopg 2
    psycopg = None  # type: ignore[assignment]
# PostgreSQL's protocol carries at most 65,535 parameters in one statement.
MAX_PARAMETERS = 60_000

#: The database a sync page is written on, and where what it wrote is read back (its
#: announcements, its renewal links), whatever a router says of reads: a replica would not
#: show a page's rows yet.
WRITTEN_ON = DEFAULT_DB_ALIAS


def upsert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    using: str = WRITTEN_ON,
) -> None:
    """Insert ``rows`` (unsaved instances of ``model``), or overwrite ``update_fields`` of the
    row that has the same ``unique_fields``, in as few statements as the backend allows."""
    if not rows:
        return
    connection = connections[using]
    writer = _WRITERS.get(_backend(connection))
    if writer is None:
        portable_upsert(
            model, rows, unique_fields=unique_fields, update_fields=update_fields, using=using
        )
        return
    fields = _inserted_fields(model, rows)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    conflict = ", ".join(_column(connection, model, name) for name in unique_fields)
    updates = ", ".join(
        f"{column} = EXCLUDED.{column}"
        for column in (_column(connection, model, name) for name in update_fields)
    )
    prepare = [_preparer(field, connection) for field in fields]
    values = [tuple(to_db(row) for to_db in prepare) for row in rows]
    # Names from the model's own meta, quoted; the values are parameters.
    head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
    tail = f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    writer(connection, head, tail, len(fields), values)
    for row in rows:  # written, as bulk_create leaves them
        row._state.adding = False
        row._state.db = using


def portable_upsert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    using: str = WRITTEN_ON,
) -> None:
    """The same write through the ORM's ``bulk_create``: every backend Django supports."""
    model._default_manager.db_manager(using).bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=update_fields,
    )


def read_rows(
    model: type[models.Model],
    key_field: str,
    keys: Sequence[str],
    fields: Sequence[str],
    *,
    environment: str | None = None,
    using: str = WRITTEN_ON,
) -> list[tuple[Any, ...]]:
    """``(key, *fields)`` of the rows of ``model`` whose ``key_field`` is one of ``keys`` (and
    whose ``environment`` is ``environment``, when given), as ``values_list`` returns them."""
    connection = connections[using]
    if _backend(connection) not in _WRITERS or not keys:
        rows = model._default_manager.db_manager(using).filter(**{f"{key_field}__in": keys})
        if environment is not None:
            rows = rows.filter(environment=environment)
        return list(rows.order_by().values_list(key_field, *fields))
    selected: list[Any] = [
        model._meta.pk if name == "pk" else model._meta.get_field(name)
        for name in (key_field, *fields)
    ]
    quote = connection.ops.quote_name
    key = quote(selected[0].column)
    # Prepared as the ORM prepares a lookup's values (a number asked of a text key is text).
    values = [selected[0].get_db_prep_value(value, connection) for value in keys]
    params: list[Any]
    if connection.vendor == "postgresql":
        where, params = f"{key} = ANY(%s)", [values]
    else:
        where, params = f"{key} IN ({', '.join(['%s'] * len(values))})", values
    if environment is not None:
        where += f" AND {_column(connection, model, 'environment')} = %s"
        params.append(environment)
    columns = ", ".join(quote(field.column) for field in selected)
    # Names from the model's own meta, quoted; the keys are parameters.
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {where}"  # noqa: S608
    converters = _converters(connection, model, selected)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not converters:
        return [tuple(row) for row in found]
    converted = []
    for row in found:
        cells = list(row)
        for index, convert, column in converters:
            cells[index] = convert(cells[index], column, connection)
        converted.append(tuple(cells))
    return converted


def _converters(
    connection: Any, model: type[models.Model], fields: Sequence[Any]
) -> list[tuple[int, Callable[..., Any], Any]]:
    """What the ORM's compiler applies to each selected column: the backend's converters,
    then the field's own (``from_db_value``)."""
    found = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            found.append((index, convert, column))
    return found


def _backend(connection: Any) -> str:
    if connection.vendor == "postgresql":
        # psycopg 3.2 brought RawCursor; psycopg 2 (and older 3s) keep the portable path.
        return "postgresql" if hasattr(psycopg, "RawCursor") else "psycopg2"
    return str(connection.vendor)


def _column(connection: Any, model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(connection.ops.quote_name(field.column))  # type: ignore[union-attr]


# Fields whose value of these types goes to the database as it is, on every backend: Django's
# ``get_db_prep_save`` returns a str for a str, a bool for a bool.
_AS_IS: dict[type[models.Field], type] = {  # type: ignore[type-arg]
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
}


def _preparer(field: Any, connection: Any) -> Any:
    """``row -> value for the database`` of ``field``: ``pre_save`` then ``get_db_prep_save``,
    as ``bulk_create`` does, but for a text or boolean field's plain value (no ``pre_save`` of
    its own), an aware datetime (the backend's adaptation only), and a null, which is sent as
    it is."""
    kind = next((kind for base, kind in _AS_IS.items() if type(field) is base), None)
    attname = field.attname
    if kind is not None:

        def plain(row: models.Model) -> Any:
            value = getattr(row, attname)
            if type(value) is kind or (value is None and field.null):
                return value
            return field.get_db_prep_save(field.pre_save(row, True), connection)

        return plain
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):

        def moment(row: models.Model) -> Any:
            # An aware datetime needs none of get_prep_value's checks: only the backend's
            # adaptation (a string on SQLite, the datetime itself on PostgreSQL).
            value = getattr(row, attname)
            if value is None and field.null:
                return None
            if isinstance(value, datetime) and timezone.is_aware(value):
                return connection.ops.adapt_datetimefield_value(value)
            return field.get_db_prep_save(value, connection)

        return moment
    if type(field).pre_save is models.Field.pre_save:

        def nullable(row: models.Model) -> Any:
            value = getattr(row, attname)
            if value is None and field.null and not isinstance(field, models.JSONField):
                return None
            return field.get_db_prep_save(value, connection)

        return nullable
    return lambda row: field.get_db_prep_save(field.pre_save(row, True), connection)


def _inserted_fields(model: type[models.Model], rows: Sequence[models.Model]) -> list[Any]:
    """The concrete fields an INSERT names: all of them, but an auto primary key the rows
    leave to the database (as ``bulk_create`` does)."""
    auto = model._meta.auto_field
    leave_pk = auto is not None and all(row.pk is None for row in rows)
    return [field for field in model._meta.concrete_fields if not (leave_pk and field is auto)]


def _postgresql(
    connection: Any, head: str, tail: str, width: int, values: list[tuple[Any, ...]]
) -> None:
    per_statement = max(1, MAX_PARAMETERS // width)
    placeholders: Callable[[int], str]
    if connection.features.uses_server_side_binding:
        # Django's own cursor binds on the server then (the server_side_binding option), and
        # its query log can only write out %s statements.
        one = "(" + ", ".join(["%s"] * width) + ")"
        cursor = connection.cursor()
        placeholders = lambda rows: ", ".join([one] * rows)  # noqa: E731
    else:
        connection.ensure_connection()
        raw = psycopg.RawCursor(connection.connection)
        cursor = (
            connection.make_debug_cursor(raw)
            if connection.queries_logged
            else connection.make_cursor(raw)
        )
        placeholders = functools.partial(_numbered, width)
    with cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            params = [value for row in chunk for value in row]
            cursor.execute(head + placeholders(len(chunk)) + tail, params)


@functools.lru_cache(maxsize=64)
def _numbered(width: int, rows: int) -> str:
    """``($1, $2), ($3, $4)`` for ``rows`` rows of ``width`` values: PostgreSQL's own
    placeholders, which psycopg passes on as they are. (psycopg turns ``%s`` into them by
    parsing the statement, and caches that only for statements of 4 kB or less: a page's
    upsert is longer and would be parsed on every page.)"""
    return ", ".join(
        "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")"
        for row in range(rows)
    )


def _sqlite(
    connection: Any, head: str, tail: str, width: int, values: list[tuple[Any, ...]]
) -> None:
    one = "(" + ", ".join(["%s"] * width) + ")"
    with connection.cursor() as cursor:
        cursor.executemany(head + one + tail, values)


_WRITERS = {"postgresql": _postgresql, "sqlite": _sqlite}
