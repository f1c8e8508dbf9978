"""Writing one mirror row at once, the way the sync writes a page of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def save_mirror(row: M, *, unique_fields: Sequence[str], update_fields: Sequence[str]) -> M:
    """Insert ``row`` (unsaved, as a ``*_row`` builder makes it), or update the row with the
    same ``unique_fields`` with its ``update_fields``: what the next sync would write.

    Foreign keys are written by their column (``plan_id``), so a plan that is not mirrored yet
    is never looked up.
    """
    return write_mirror(row, unique_fields=unique_fields, update_fields=update_fields)[0]


def write_mirror(
    row: M, *, unique_fields: Sequence[str], update_fields: Sequence[str]
) -> tuple[M, bool]:
    """:func:`save_mirror`, and whether this write inserted the row (``update_or_create``'s
    insert fails on the key when another transaction inserted it first, and it then updates)."""
    lookup = {column: getattr(row, column) for column in _columns(row, unique_fields)}
    defaults = {column: getattr(row, column) for column in _columns(row, update_fields)}
    return type(row)._default_manager.update_or_create(defaults=defaults, **lookup)


def copy_mirrored(row: M, fresh: M, fields: Sequence[str]) -> None:
    """Copy ``fields`` of ``fresh`` (an unsaved row from a ``*_row`` builder) onto ``row``,
    foreign keys by their column like :func:`save_mirror`, for the caller to save."""
    for column in _columns(row, fields):
        setattr(row, column, getattr(fresh, column))


def _columns(row: models.Model, names: Sequence[str]) -> list[str]:
    return [row._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
