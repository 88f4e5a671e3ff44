"""parse_notification's two JSON readers (msgspec first, json for what msgspec refuses) give one answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from receiver_support import fixture

from wedwatch.receiver.payload import PayloadError, parse_notification

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(extra=json_values, ascii_only=st.booleans())
def test_the_raw_document_is_what_json_reads(extra: Any, ascii_only: bool) -> None:
    body = json.dumps({**fixture("firing"), "extra": extra}, ensure_ascii=ascii_only).encode()
    try:
        _, raw = parse_notification(body)
    except PayloadError as exc:  # only what cannot be stored: NUL or a lone surrogate
        assert "NUL" in str(exc) or "surrogate" in str(exc)
        return
    assert raw == json.loads(body)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("1e400", float("inf")),  # beyond a double: msgspec refuses, json reads infinity
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ('{"a": 1, "a": 2}', {"a": 2}),  # a repeated key: the last one, as json
    ],
)
def test_edge_numbers_and_keys(extra: str, expected: Any) -> None:
    text = json.dumps(fixture("firing"))
    _, raw = parse_notification(f'{text[:-1]}, "extra": {extra}}}'.encode())
    assert raw["extra"] == expected
