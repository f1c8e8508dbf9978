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
    meta = row._meta

    def column(name: str) -> str:
        return meta.get_field(name).attname  # type: ignore[union-attr]

    lookup = {column(name): getattr(row, column(name)) for name in unique_fields}
    defaults = {column(name): getattr(row, column(name)) for name in update_fields}
    saved, _ = type(row)._default_manager.update_or_create(defaults=defaults, **lookup)
    return saved
