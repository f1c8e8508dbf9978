"""JSON decoding that measures the nesting before Python's decoder recurses into it.

Python's decoder descends once per level of nesting, in C, and stops only at the
interpreter's recursion limit, with a ``RecursionError``. A few kilobytes of brackets nest
that deep, and every body that reaches this package (a form's field, a route's body, an
answer from AcceptOn) may hold them. Catching the ``RecursionError`` is not enough: while the
stack is that deep, the garbage collector may run and call finalizers (a socket's
``ResourceWarning``, a generator's ``close``) with next to no stack left; they fail in turn
and are reported as ignored exceptions, away from the request that caused them.

So the depth is measured first, without recursion: strings are removed by one regular
expression, and a running count is kept over the brackets left. In valid JSON no ``"`` stands
outside a string, so the strings the expression finds are the strings the decoder finds. In
text that is not JSON the decoder stops at its first error, before it can nest deeper than the
count does over the same text. Text with fewer opening brackets than the limit cannot nest
deeper than it and is not scanned at all, which is every body this package expects.

This module uses nothing but the standard library: the API client and the sandbox use it too.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: The deepest nesting decoded: far deeper than anything is stored (a charge's metadata is
#: mirrored to 64 levels, see :mod:`django_accepton.services.cleaning`), and half the
#: interpreter's default recursion limit, which leaves the other half for the stack the
#: decoding starts from and for any finalizer the garbage collector runs meanwhile.
MAX_NESTING = 500

# A JSON string, escapes included, unrolled so that it does not try an alternative per
# character. A string never closed runs to the end of the text: the decoder fails inside it,
# before any bracket after its quote. (Were it left unmatched, the expression would try again
# from each later quote to the end, which is quadratic: seconds for a few kilobytes.)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class NestingError(ValueError):
    """JSON text nested deeper than the limit (a ``ValueError``, as any other bad JSON)."""


def nesting(text: str) -> int:
    """How many levels the arrays and objects of JSON ``text`` nest (0 for a bare value)."""
    brackets = _BRACKET.findall(_STRING.sub("", text))
    # The running depth, summed in C: a Python loop over a page's brackets costs twice as much.
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets)), default=0))


def check(text: str, limit: int = MAX_NESTING) -> None:
    """Raise :class:`NestingError` if ``text`` nests deeper than ``limit``."""
    if text.count("[") + text.count("{") <= limit:
        return
    if nesting(text) > limit:
        raise NestingError(f"JSON nested deeper than {limit} levels.")


def loads(data: str | bytes | bytearray, *, limit: int = MAX_NESTING, **kwargs: Any) -> Any:
    """:func:`json.loads`, refusing text nested deeper than ``limit`` with a
    :class:`NestingError`. Bytes are decoded as :func:`json.loads` decodes them."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    check(data, limit)
    return json.loads(data, **kwargs)
