"""What AcceptOn sends, made storable where it becomes a row.

AcceptOn stores what the payment form sends, and the form is filled by anyone: a description,
an email or a metadata value may hold characters no database column takes. PostgreSQL refuses
the NUL character in text and in ``jsonb`` strings; UTF-8 cannot encode a lone surrogate, which
JSON's ``"\\ud800"`` escape decodes to in Python; a string longer than its column is an error
on PostgreSQL and silently kept whole on SQLite. One such value used to stop a sync page, and
the rest of the list with it.

So every ``*_row`` builder passes its row through :func:`clean_row` before it is written:

- NUL characters are dropped and lone surrogates become U+FFFD, in text columns and in every
  string (keys included) of the JSON columns (``raw``, ``metadata``);
- text is cut to its column's ``max_length``;
- a primary key (or a code: a currency, a type, a choice) is never altered: one that is not
  storable as it is (or too long) raises :class:`Unstorable`, and the caller counts that object
  as failed. Changing an id would make a second object of it, and a cut currency another
  currency; so does an integer beyond any database's or a number that is not one.

The cleaned values are what the store sees; ``raw`` keeps everything else AcceptOn sent.
"""

from __future__ import annotations

import functools
import json
import math
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)

# JSON nested deeper than this is not kept: the part below is replaced by a marker string.
# (Python's own JSON decoder stops near 1,000 levels; nothing AcceptOn documents nests beyond 3.)
MAX_DEPTH = 64
TOO_DEEP = "[nested too deeply]"


# Columns holding a code whose meaning a cut would change.
CODES = frozenset({"currency", "period_unit", "promo_type"})


class Unstorable(ValueError):
    """An object whose identity cannot be stored as AcceptOn sent it."""


def clean_text(value: str) -> str:
    """``value`` without NUL characters and with each lone surrogate replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
    return value


def clean_json(value: Any, depth: int = 0) -> Any:
    """A decoded JSON value whose strings (keys too) are :func:`clean_text`'d, whose nesting
    stops at :data:`MAX_DEPTH`, and whose non-finite numbers (``NaN``, which Python's decoder
    accepts and no database's JSON does) are ``None``: ``value`` itself when it needs none of
    that (:func:`_is_clean`), else a cleaned copy."""
    if depth == 0 and _is_clean(value):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        return {clean_text(str(key)): clean_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        return [clean_json(item, depth + 1) for item in value]
    return value


# One encoder for every check: ``json.dumps`` with options builds a new one each call.
# (Decoded JSON cannot be circular; a structure that is would fail the check as too deep.)
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False)


def _is_clean(value: Any) -> bool:
    """Whether ``value`` certainly needs no cleaning, told by the JSON encoder (in C) rather
    than by a walk in Python: it refuses non-finite numbers, writes a NUL character as an
    escape, writes a lone surrogate as it is (which UTF-8 then refuses), and a text holding at
    most :data:`MAX_DEPTH` opening brackets cannot nest deeper than that. Anything it cannot
    vouch for is walked."""
    try:
        text = _ENCODER.encode(value)
        text.encode("utf-8")
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return "\\u0000" not in text and text.count("{") + text.count("[") <= MAX_DEPTH


def clean_row(row: M, *, keys: tuple[str, ...] = (), repair_keys: bool = False) -> M:
    """Make ``row``'s text and JSON storable in place (see the module docstring); raises
    :class:`Unstorable` for a primary key, a unique field or one of ``keys`` (the fields that
    identify the object) that is not storable as it is, unless ``repair_keys`` (for an object
    AcceptOn never lists again, such as a refund, whose record matters more than its id)."""
    for attname, name, is_json, is_key, limit in _plan(type(row), keys):
        value = getattr(row, attname)
        if is_json:
            setattr(row, attname, clean_json(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -(2**63) <= value < 2**63:
                raise Unstorable(f"{name} {value} is beyond any database's integers.")
        elif isinstance(value, Decimal) and not value.is_finite():
            raise Unstorable(f"{name} {value} is not a number.")
        elif isinstance(value, str):
            if is_key and not repair_keys:
                if not _storable(value, limit):
                    raise Unstorable(f"{name} {value[:80]!r} cannot be stored as AcceptOn sent it.")
                continue
            cleaned = clean_text(value)
            if limit and len(cleaned) > limit:
                cleaned = cleaned[:limit]
            if cleaned is not value:
                setattr(row, attname, cleaned)
    return row


@functools.cache
def _plan(
    model: type[models.Model], keys: tuple[str, ...]
) -> tuple[tuple[str, str, bool, bool, int | None], ...]:
    """Per concrete field of ``model``: its attribute, its name, whether it holds JSON,
    whether it identifies the object (a code cut short would be another code), its length."""
    return tuple(
        (
            field.attname,
            field.name,
            isinstance(field, models.JSONField),
            bool(
                field.primary_key
                or field.unique
                or field.is_relation
                or field.choices
                or field.name in keys
                or field.name in CODES
            ),
            getattr(field, "max_length", None),
        )
        for field in model._meta.concrete_fields
    )


def storable_key(model: type[models.Model], field_name: str, value: object) -> bool:
    """Whether ``value`` can identify a row of ``model`` by ``field_name`` as it is."""
    if not isinstance(value, str):
        return False
    return _storable(value, getattr(model._meta.get_field(field_name), "max_length", None))


def _storable(value: str, limit: int | None) -> bool:
    """``value`` needs no cleaning and fits a column of ``limit`` characters."""
    return clean_text(value) == value and not (limit and len(value) > limit)
