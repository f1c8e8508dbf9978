"""Table: how the sandbox stores one kind of object, by key and by creation time.

Every resource is looked up by its id (promo codes by their name) and listed by creation time,
newest or oldest first, a page at a time, over as many as a million seeded objects. A ``Table``
keeps both views in step: a dict for the lookups and a list kept in ``records.order_key`` order
(``created_at``, then ``seq``), so a list call never sorts by time and a date filter is two
bisections. ``list_page`` cuts one page out of such a list, as every AcceptOn list answers.

Nothing here takes a lock: the account's one lock is held by whoever calls.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from .records import JSON, Ordered, order_key

T = TypeVar("T", bound=Ordered)


class Table(Generic[T]):
    """Objects by key, and the same objects oldest first."""

    __slots__ = ("_by_key", "_ordered")

    def __init__(self) -> None:
        self._by_key: dict[str, T] = {}
        self._ordered: list[T] = []

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[T]:
        """Oldest first."""
        return iter(self._ordered)

    @property
    def ordered(self) -> Sequence[T]:
        """Every object, oldest first: the table's own list, not a copy (never change it)."""
        return self._ordered

    def values(self) -> Iterator[T]:
        """Every object in the order it was stored (renaming one counts as storing it again)."""
        return iter(self._by_key.values())

    def get(self, key: str) -> T | None:
        return self._by_key.get(key)

    def add(self, key: str, item: T) -> T:
        """Store ``item`` under ``key``. The newest object (the usual case) is appended; an older
        one (a moved clock, a given date) is inserted in its place."""
        self._by_key[key] = item
        items = self._ordered
        if not items or order_key(items[-1]) <= order_key(item):
            items.append(item)
        else:
            bisect.insort(items, item, key=order_key)
        return item

    def extend(self, pairs: Iterable[tuple[str, T]]) -> list[T]:
        """Store many ``(key, item)`` at once (seeding): appended, then sorted in one pass.

        Each key is in the table as soon as its pair is taken from ``pairs``, so a generator
        choosing unused keys sees the ones it made before. Returns the items, in given order.
        """
        added = []
        for key, item in pairs:
            self._by_key[key] = item
            added.append(item)
        self._ordered.extend(added)
        self._ordered.sort(key=order_key)
        return added

    def remove(self, key: str) -> T:
        item = self._by_key.pop(key)
        self._ordered.remove(item)
        return item

    def rename(self, old: str, new: str) -> None:
        """File the object stored under ``old`` under ``new``; its place in time stays."""
        self._by_key[new] = self._by_key.pop(old)

    def clear(self) -> None:
        self._by_key.clear()
        self._ordered.clear()

    def created_between(
        self, start: datetime | None, end: datetime | None, *, include_end: bool
    ) -> Sequence[T]:
        """Objects created at or after ``start`` and before ``end`` (or at it, with
        ``include_end``), oldest first, found by bisection; a ``None`` bound is open. With no
        bound at all, the table's own list (as ``ordered``)."""
        items = self._ordered
        if start is None and end is None:
            return items
        low, high = 0, len(items)
        if start is not None:
            low = bisect.bisect_left(items, start, key=_created_at)
        if end is not None:
            search = bisect.bisect_right if include_end else bisect.bisect_left
            high = search(items, end, key=_created_at)
        return items[low:high]


def list_page(
    items: Sequence[T],
    field: str,
    desc: bool,
    page: int,
    per_page: int,
    render: Callable[[T], JSON],
    *,
    total_counts_page: bool,
) -> JSON:
    """One page of ``items`` (oldest first) ordered by ``field``: an AcceptOn list answer."""
    ordered: Sequence[T]
    if field == "created_at":
        ordered = items[::-1] if desc else items
    else:
        ordered = sorted(
            items, key=lambda item: (getattr(item, field), *order_key(item)), reverse=desc
        )
    start = (page - 1) * per_page
    window = ordered[start : start + per_page]
    return {
        "object": "list",
        "total": len(window) if total_counts_page else len(items),
        "data": [render(item) for item in window],
    }


def _created_at(item: Ordered) -> datetime:
    return item.created_at
