"""guest_list's guest count: the skipping decoder (msgspec) answers exactly as json.loads does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wedwatch.calendar import Wedding
from wedwatch.exporter.probes import ProbeFailure, guest_list
from wedwatch.exporter.probes.guest_list import count_guests
from wedwatch.platform.guests import fake_guests

NO_LIST = "response holds no `guests` list"
NOT_JSON = "response is not JSON"
_WEDDING = Wedding("w-1", datetime(2026, 6, 6, 14, tzinfo=UTC), "UTC", 380, 8)
REAL = json.dumps({"wedding_id": "w-1", "guests": fake_guests(_WEDDING, 0)}, separators=(",", ":")).encode()

CASES: list[tuple[str, bytes, int | str]] = [
    ("platform list", REAL, 380),
    ("empty list", b'{"guests": []}', 0),
    ("top-level list", b"[1, 2, 3]", 3),
    ("nested values", b'{"guests": [{"a": [1, {"b": null}]}, "x", 2.5e3, true]}', 4),
    ("last duplicate key wins", b'{"guests": [1], "guests": [1, 2]}', 2),
    ("whitespace around", b'  \n{"guests": [1]}\t ', 1),
    ("utf-8 byte-order mark", b'\xef\xbb\xbf{"guests": [1]}', 1),
    ("unicode escapes", b'{"guests": ["\\u00e9", "\xc3\xa9"]}', 2),
    ("no guests key", b'{"wedding_id": "w-1"}', NO_LIST),
    ("guests null", b'{"guests": null}', NO_LIST),
    ("guests an object", b'{"guests": {"a": 1}}', NO_LIST),
    ("a string", b'"guests"', NO_LIST),
    ("a number", b"42", NO_LIST),
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
        return count_guests(body, fast=fast)
    except ProbeFailure as exc:
        assert exc.reason == "assertion"
        return NOT_JSON if str(exc).startswith(NOT_JSON) else str(exc)


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fast", [True, False], ids=["skipping", "stdlib"])
def test_count_guests(body: bytes, expected: int | str, fast: bool) -> None:
    assert _outcome(body, fast=fast) == expected


def test_the_skipping_decoder_is_in_use() -> None:
    # msgspec is a dependency: without it the probe still works, at several times the CPU.
    assert guest_list.msgspec is not None
