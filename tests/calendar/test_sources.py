"""Calendar sources: one bad entry is reported with its place and never hides the good ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from wedwatch.calendar import load_calendar_file, load_calendar_url, parse_calendar
from wedwatch.errors import CalendarError

GOOD = {"id": "w-1", "ceremony_at": "2027-06-12T14:00", "timezone": "Europe/London", "guests": 120, "vendors": 8}


def test_one_broken_entry_among_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "weddings.yml"
    path.write_text(
        "weddings:\n"
        "  - {id: w-1, ceremony_at: '2027-06-12T14:00', timezone: Europe/London, guests: 120}\n"
        "  - {id: w-2, ceremony_at: '2027-06-13T14:00', timezone: Europe/Lndon, guests: 80}\n"
        "  - {id: w-3, ceremony_at: '2027-06-14T14:00', timezone: Europe/Paris, guests: many}\n"
        "  - {ceremony_at: '2027-06-15T14:00', timezone: Europe/Paris, guests: 10}\n"
        "  - {id: w-5, ceremony_at: '2027-06-16T11:00', timezone: Asia/Tokyo, guests: 60, vendor: 3}\n"
        "  - just a string\n"
        "  - {id: w-1, ceremony_at: '2027-07-01T14:00', timezone: Europe/London, guests: 5}\n"
        "  - {id: w-8, ceremony_at: '2027-06-20T16:00', timezone: Pacific/Auckland, guests: 140}\n"
    )
    load = load_calendar_file(path)
    assert [w.id for w in load.weddings] == ["w-1", "w-8"]
    assert [str(e) for e in load.errors] == [
        "entry 1 (id 'w-2'): timezone: unknown IANA time zone 'Europe/Lndon'",
        "entry 2 (id 'w-3'): guests: Input should be a valid integer, unable to parse string as an integer",
        "entry 3: id: Field required",
        "entry 4 (id 'w-5'): vendor: unknown field",
        "entry 5: an entry must be a mapping, not str",
        "entry 6 (id 'w-1'): id: duplicate id; the first entry with it is kept",
    ]


def test_json_file_and_bare_list(tmp_path: Path) -> None:
    path = tmp_path / "weddings.json"
    path.write_text(json.dumps([GOOD]))
    load = load_calendar_file(path)
    assert [w.id for w in load.weddings] == ["w-1"] and load.errors == []
    assert load.weddings[0].ceremony_utc.isoformat() == "2027-06-12T13:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weddings: [\n", "not valid YAML"),
        ("other: []\n", "expected a `weddings` list"),
        ("weddings: {a: 1}\n", "`weddings` must be a list, not dict"),
    ],
)
def test_unusable_file_raises_with_its_name(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "weddings.yml"
    path.write_text(text)
    with pytest.raises(CalendarError, match=message) as info:
        load_calendar_file(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        load_calendar_file(tmp_path / "absent.yml")


def test_empty_calendar_is_valid() -> None:
    assert parse_calendar({"weddings": None}, source="x").weddings == []


async def _get(handler: Callable[[web.Request], Awaitable[web.StreamResponse]], **kwargs: Any) -> Any:
    app = web.Application()
    app.router.add_get("/api/weddings", handler)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        return await load_calendar_url(session, str(server.make_url("/api/weddings")), **kwargs)


async def test_url_source_ignores_unknown_fields_and_reports_bad_entries() -> None:
    async def handler(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer k"
        bad = {**GOOD, "id": "w-2", "guests": -1}
        return web.json_response({"weddings": [{**GOOD, "status": "confirmed"}, bad]})

    load = await _get(handler, headers={"Authorization": "Bearer k"})
    assert [w.id for w in load.weddings] == ["w-1"]
    assert [str(e) for e in load.errors] == ["entry 1 (id 'w-2'): guests: Input should be greater than or equal to 0"]


async def test_url_source_reads_a_calendar_streamed_in_pieces() -> None:
    # A chunked answer arrives in pieces; reading only what has arrived would cut it short.
    body = json.dumps({"weddings": [{**GOOD, "id": f"w-{i}"} for i in range(300)]}).encode()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for at in range(0, len(body), 2000):
            await response.write(body[at : at + 2000])
            await asyncio.sleep(0.005)
        await response.write_eof()
        return response

    load = await _get(handler)
    assert len(load.weddings) == 300 and not load.errors


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [(500, b"{}", "HTTP 500"), (200, b"<html>", "not valid JSON"), (200, b"x" * 2048, "larger than 1024 bytes")],
)
async def test_url_source_failures_raise(status: int, body: bytes, message: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body)

    with pytest.raises(CalendarError, match=message):
        await _get(handler, max_bytes=1024)
