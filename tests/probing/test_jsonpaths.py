"""JSONPath counts: the skipping decoder (the guest_list preset's fast path) answers exactly as the general path does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wedwatch.calendar import Wedding
from wedwatch.platform.guests import fake_guests
from wedwatch.probing.jsonpaths import NotJson, compile_path, decode_json

NOT_JSON = "response is not JSON"
GUESTS = compile_path("$.guests[*]")
_WEDDING = Wedding("w-1", datetime(2026, 6, 6, 14, tzinfo=UTC), "UTC", 380, 8)
REAL = json.dumps({"wedding_id": "w-1", "guests": fake_guests(_WEDDING, 0)}, separators=(",", ":")).encode()

CASES: list[tuple[str, bytes, int | str]] = [
    ("platform list", REAL, 380),
    ("empty list", b'{"guests": []}', 0),
    ("top-level list", b"[1, 2, 3]", 0),
    ("nested values", b'{"guests": [{"a": [1, {"b": null}]}, "x", 2.5e3, true]}', 4),
    ("last duplicate key wins", b'{"guests": [1], "guests": [1, 2]}', 2),
    ("whitespace around", b'  \n{"guests": [1]}\t ', 1),
    ("utf-8 byte-order mark", b'\xef\xbb\xbf{"guests": [1]}', 1),
    ("unicode escapes", b'{"guests": ["\\u00e9", "\xc3\xa9"]}', 2),
    ("no guests key", b'{"wedding_id": "w-1"}', 0),
    ("guests null", b'{"guests": null}', 0),
    ("guests an object", b'{"guests": {"a": 1}}', 1),  # `[*]` selects an object's member values
    ("a string", b'"guests"', 0),
    ("a number", b"42", 0),
    ("empty body", b"", NOT_JSON),
    ("html error page", b"<html>502 Bad Gateway</html>", NOT_JSON),
    ("truncated", REAL[:-100], NOT_JSON),
    ("trailing comma", b'{"guests": [1, 2,]}', NOT_JSON),
    ("bad inside a guest", b'{"guests": [{"a": tru}]}', NOT_JSON),
    ("trailing garbage", b'{"guests": []} x', NOT_JSON),
    ("invalid utf-8 inside a guest", b'{"guests": [{"name": "\xff"}]}', NOT_JSON),
]


def _outcome(body: bytes, *, fast: bool) -> int | str:
    try:
        if fast:
            counted = GUESTS.count_in(body)
            if counted is not None:
                return counted
        return len(GUESTS.select(decode_json(body)))
    except NotJson as exc:
        assert str(exc).startswith(NOT_JSON)
        return NOT_JSON


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fast", [True, False], ids=["skipping", "general"])
def test_count_guests(body: bytes, expected: int | str, fast: bool) -> None:
    assert _outcome(body, fast=fast) == expected


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("$[*]", b"[1, 2, 3]", 3),
        ("$.data.guests[*]", b'{"data": {"guests": [1, 2]}, "x": [1]}', 2),
        ("$['guests'][*]", b'{"guests": [1, 2, 3, 4]}', 4),
    ],
)
def test_countable_paths_are_counted_without_building(path: str, body: bytes, expected: int) -> None:
    compiled = compile_path(path)
    assert compiled.countable
    assert compiled.count_in(body) == expected == len(compiled.select(decode_json(body)))


@pytest.mark.parametrize("path", ["$.guests[?@.rsvp == 'yes']", "$..guests[*]", "$.guests[0:2]", "$.guests"])
def test_other_paths_take_the_general_path(path: str) -> None:
    assert not compile_path(path).countable


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("$.guests[", "invalid JSONPath '$.guests[': unexpected end of query"),
        ("guests[*]", "invalid JSONPath 'guests[*]': it must start with $"),
        ("$.guests[?@.a ==]", "invalid JSONPath '$.guests[?@.a ==]': unexpected end of expression"),
    ],
)
def test_invalid_paths_name_the_problem(path: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        compile_path(path)
    assert str(info.value) == message
