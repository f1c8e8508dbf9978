"""JSON is measured before it is decoded: deep nesting is a ValueError, never a recursion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_accepton import jsontext
from django_accepton.jsontext import _STRING, MAX_NESTING, NestingError


def depth_of(value: Any) -> int:
    """The nesting of a decoded value, walked without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth + 1)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("12", 0),
        ('"[[[{"', 0),
        ("[]", 1),
        ('{"a": [{}], "b": []}', 3),
        ('["\\"[[", "\\\\", [["]"]]]', 3),
        ('{"k[": {"v": "}}}}"}, "\\u005b": [1]}', 2),
    ],
)
def test_nesting_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert depth_of(json.loads(text)) == depth
    assert jsontext.nesting(text) == depth


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:\u00e9\x00'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@given(json_values, st.booleans())
def test_nesting_is_the_depth_the_decoder_finds(value: Any, ascii_only: bool) -> None:
    assert jsontext.nesting(json.dumps(value, ensure_ascii=ascii_only)) == depth_of(value)


def test_the_limit_is_decoded_and_one_more_level_is_refused() -> None:
    at_limit = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert depth_of(jsontext.loads(at_limit)) == MAX_NESTING

    with pytest.raises(NestingError, match=f"deeper than {MAX_NESTING} levels"):
        jsontext.loads("[" + at_limit + "]")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[" * 20_000 + "]" * 20_000, NestingError),
        ('{"a":' * 20_000 + "1" + "}" * 20_000, NestingError),
        ("[" * 20_000, NestingError),  # never closed
        # Brackets inside a string never closed are not nesting: the decoder stops at once.
        ('"unclosed' + "[" * 20_000, json.JSONDecodeError),
    ],
)
def test_deep_text_is_a_value_error_not_a_recursion(text: str, error: type[ValueError]) -> None:
    with pytest.raises(error):
        jsontext.loads(text)


@pytest.mark.parametrize("tail", ['\\"', "\\"])
def test_an_unclosed_string_is_one_match_to_the_end(tail: str) -> None:
    """A quote never closed, then many more: the first one's match runs to the end of the
    text. Left unmatched, the expression would try again from each later quote to the end,
    which is quadratic (seconds for these 64 kB)."""
    text = "[" * (MAX_NESTING + 1) + '"' + tail * (32_000 // len(tail))

    match = _STRING.search(text)

    assert match is not None
    assert (match.start(), match.end()) == (MAX_NESTING + 1, len(text))
    assert jsontext.nesting(text) == MAX_NESTING + 1


def test_many_shallow_brackets_are_decoded() -> None:
    text = json.dumps([{"id": n, "metadata": {"tags": [n]}} for n in range(500)])
    assert len(jsontext.loads(text)) == 500


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_bytes_are_decoded_as_json_decodes_them(encoding: str) -> None:
    text = '{"name": "Zo\u00eb", "tags": [[1]]}'
    assert jsontext.loads(text.encode(encoding)) == json.loads(text.encode(encoding))
    with pytest.raises(NestingError):
        jsontext.loads(("[" * 501 + "]" * 501).encode(encoding))


def test_keyword_arguments_reach_the_decoder() -> None:
    assert jsontext.loads("1.5", parse_float=str) == "1.5"
