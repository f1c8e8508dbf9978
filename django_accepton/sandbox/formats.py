"""Identifier and timestamp formats of AcceptOn objects."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def hex_id(prefix: str, digits: int) -> str:
    """``prefix`` followed by ``digits`` lowercase hex characters, e.g. ``chg_ff6024ab78980de7``."""
    return prefix + secrets.token_hex(digits // 2)


def alnum(length: int) -> str:
    # A byte modulo 62 is slightly biased; these ids only have to look like a processor's.
    return "".join(_ALNUM[byte % len(_ALNUM)] for byte in secrets.token_bytes(length))


def new_public_key() -> str:
    return hex_id("pkey_", 16)


def new_secret_key() -> str:
    return hex_id("skey_", 32)


def to_millis(moment: datetime) -> datetime:
    """UTC, cut to whole milliseconds, so a timestamp survives a trip through its text form."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def iso(moment: datetime | None) -> str | None:
    """``2015-01-16T20:08:17.837Z``: the style AcceptOn uses for embedded plan timestamps."""
    if moment is None:
        return None
    moment = to_millis(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_date_bound(
    value: str | date | datetime, *, end: bool, exclusive: bool = False
) -> tuple[datetime, bool]:
    """A charges-list date filter as ``(moment, inclusive)``.

    Clients send ``YYYY-MM-DD`` (Ruby docs) or full ISO 8601 (PHP docs); both are accepted. A bare
    date covers that whole day: as an end bound it becomes the next midnight, exclusive. With
    ``exclusive`` (the dialect switch ``charge_dates``), "created after" and "created before" a
    bare date leave the day itself out. Raises ``ValueError`` for anything else.
    """
    if isinstance(value, datetime):
        return to_millis(value), True
    if isinstance(value, date):
        day = value
    else:
        text = value.strip()
        if len(text) != 10:
            return to_millis(datetime.fromisoformat(text)), True
        day = date.fromisoformat(text)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if exclusive:
        return (midnight, False) if end else (midnight + timedelta(days=1), True)
    if end:
        return midnight + timedelta(days=1), False
    return midnight, True
