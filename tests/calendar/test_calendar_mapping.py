"""Calendars of any JSON shape: `calendar.items` and `calendar.fields`, read from a URL and from a file."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from wedwatch.calendar import CalendarLoad, Wedding, load_calendar
from wedwatch.config import Config, parse_config
from wedwatch.config.calendar import CALENDAR_FIELDS, CalendarConfig
from wedwatch.errors import CalendarError, ConfigError

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

# DESIGN.md section 2b's example.
FIELDS = {
    "id": "$.ref",
    "ceremony_at": "$.when.local",
    "timezone": "$.when.zone",
    "guests": "$.party.size",
    "vendors": "$.supplier_count",
}


def _event(ref: str, local: str, zone: str, size: Any = 120, suppliers: int = 8, **extra: Any) -> dict[str, Any]:
    """An entry as a platform with its own shape sends it."""
    when = {"local": local, "zone": zone}
    return {"ref": ref, "when": when, "party": {"size": size}, "supplier_count": suppliers, **extra}


def _own(id: str, ceremony_at: str, timezone: str, guests: int = 120, vendors: int = 8) -> dict[str, Any]:
    """An entry in wedwatch's own shape."""
    return {"id": id, "ceremony_at": ceremony_at, "timezone": timezone, "guests": guests, "vendors": vendors}


def _row(w: Wedding) -> tuple[str, str, str, int, int, str | None]:
    return (w.id, w.ceremony_at.isoformat(), w.timezone, w.guests, w.vendors, w.name)


class Reader:
    """Serves or writes a calendar document and loads it through a config, as the services do."""

    def __init__(self, kind: str, tmp_path: Path, base_url: str = "http://127.0.0.1:1") -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.base_url = base_url
        self.document: Any = None
        self.source = ""

    async def __call__(self, document: Any, options: dict[str, Any]) -> CalendarLoad:
        self.document = document
        if self.kind == "url":
            calendar = {"url": "{base_url}/v2/events?kind=wedding", **options}
            self.source = f"{self.base_url}/v2/events?kind=wedding"
        else:
            (self.tmp_path / "calendar.json").write_text(json.dumps(document))
            calendar = {"file": "calendar.json", **options}
            self.source = str(self.tmp_path / "calendar.json")
        text = yaml.safe_dump({"platform": {"base_url": self.base_url}, "calendar": calendar})
        config = parse_config(text, base_dir=self.tmp_path).config
        assert (config.calendar.url or config.calendar.file) == self.source
        return await load_calendar(config.calendar)


@pytest.fixture(params=["url", "file"])
async def read(request: pytest.FixtureRequest, aiohttp_server: ServerFactory, tmp_path: Path) -> Reader:
    reader = Reader(request.param, tmp_path)
    if request.param == "url":

        async def events(request: web.Request) -> web.Response:
            # `{base_url}` was filled from platform.base_url; the rest of the URL is kept as written.
            assert request.query["kind"] == "wedding"
            return web.json_response(reader.document)

        app = web.Application()
        app.router.add_get("/v2/events", events)
        server = await aiohttp_server(app)
        reader.base_url = str(server.make_url("/")).rstrip("/")
    return reader


@pytest.mark.parametrize(
    ("document", "options", "weddings"),
    [
        pytest.param(
            {"results": [
                _event("E-1", "2027-06-12T14:00", "Europe/London", status="confirmed"),
                _event("E-2", "2027-07-03T16:30", "America/New_York", 80, 5),
            ], "next": None},
            {"items": "$.results[*]", "fields": FIELDS},
            [("E-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, None),
             ("E-2", "2027-07-03T16:30:00-04:00", "America/New_York", 80, 5, None)],
            id="nested mapping",
        ),
        pytest.param(
            [_event("E-1", "2027-06-12T14:00", "Europe/London")],
            {"items": "$[*]", "fields": FIELDS},
            [("E-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, None)],
            id="top-level list",
        ),
        pytest.param(
            {"data": {"weddings": [
                {"ref": "S-1", "starts_at": "2027-06-12T13:00:00Z", "tz": "Europe/London", "guests": 10},
                {"ref": "S-2", "starts_at": "2027-06-12T15:00:00+02:00", "tz": "Europe/London", "guests": 10},
                # The wedding's own day is a day later, or earlier, than the instant's.
                {"ref": "S-3", "starts_at": "2027-06-12T23:30:00Z", "tz": "Pacific/Auckland", "guests": 10},
                {"ref": "S-4", "starts_at": "2027-06-13T02:00:00+00:00", "tz": "America/Los_Angeles", "guests": 10},
                # London's repeated hour at the end of summer time: both 01:30s, told apart by their offset.
                {"ref": "S-5", "starts_at": "2027-10-31T00:30:00Z", "tz": "Europe/London", "guests": 10},
                {"ref": "S-6", "starts_at": "2027-10-31T01:30:00Z", "tz": "Europe/London", "guests": 10},
                # An instant inside the wall-clock gap of spring: it is 02:30 summer time.
                {"ref": "S-7", "starts_at": "2027-03-28T01:30:00Z", "tz": "Europe/London", "guests": 10},
                # Across the DST change and the date line at once: 04:30 UTC is 06:30 summer time on the 28th.
                {"ref": "S-8", "starts_at": "2027-03-27T23:30:00-05:00", "tz": "Europe/Berlin", "guests": 10},
            ]}},
            # guests and vendors are not mapped: read from their own names, vendors' default applies.
            {"items": "$.data.weddings[*]", "fields": {"id": "$.ref", "ceremony_at": "$.starts_at", "timezone": "$.tz"}},
            [("S-1", "2027-06-12T14:00:00+01:00", "Europe/London", 10, 0, None),
             ("S-2", "2027-06-12T14:00:00+01:00", "Europe/London", 10, 0, None),
             ("S-3", "2027-06-13T11:30:00+12:00", "Pacific/Auckland", 10, 0, None),
             ("S-4", "2027-06-12T19:00:00-07:00", "America/Los_Angeles", 10, 0, None),
             ("S-5", "2027-10-31T01:30:00+01:00", "Europe/London", 10, 0, None),
             ("S-6", "2027-10-31T01:30:00+00:00", "Europe/London", 10, 0, None),
             ("S-7", "2027-03-28T02:30:00+01:00", "Europe/London", 10, 0, None),
             ("S-8", "2027-03-28T06:30:00+02:00", "Europe/Berlin", 10, 0, None)],
            id="offset instants converted to the wedding's zone",
        ),
        pytest.param(
            {"results": [
                _event("L-1", "2027-12-05T18:45", "Asia/Kolkata"),
                _event("L-2", "2027-12-05T18:45", "Australia/Sydney"),
                _event("L-3", "2027-10-31T01:30", "Europe/London"),  # a repeated wall time: the first one
            ]},
            {"items": "$.results[*]", "fields": FIELDS},
            [("L-1", "2027-12-05T18:45:00+05:30", "Asia/Kolkata", 120, 8, None),
             ("L-2", "2027-12-05T18:45:00+11:00", "Australia/Sydney", 120, 8, None),
             ("L-3", "2027-10-31T01:30:00+01:00", "Europe/London", 120, 8, None)],
            id="local wall time stays as written",
        ),
        pytest.param(
            {"events": [
                _event("F-1", "2027-06-12T14:00", "Europe/London", kind="wedding", couple=["Asha", "Tom"]),
                _event("F-2", "2027-06-13T14:00", "Europe/London", kind="tasting"),
            ]},
            {"items": "$.events[?@.kind == 'wedding']", "fields": {**FIELDS, "name": "$.couple[*]"}},
            [("F-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, "Asha")],
            id="filter selects the entries, a field takes the first node",
        ),
        pytest.param(
            {"weddings": [_event("D-1", "2027-06-12T14:00", "Europe/London")]},
            {"fields": FIELDS},
            [("D-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, None)],
            id="fields without items read the weddings list",
        ),
        pytest.param(
            {"weddings": [_own("O-1", "2027-06-12T14:00", "Europe/London")]},
            {},
            [("O-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, None)],
            id="own shape unchanged",
        ),
        pytest.param(
            [_own("O-1", "2027-06-12T13:00:00Z", "Europe/London")],
            {},
            [("O-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, None)],
            id="own top-level list unchanged",
        ),
        pytest.param(
            {"data": {"results": None}},
            {"items": "$.data.results[*]", "fields": FIELDS},
            [],
            id="null list is an empty calendar",
        ),
    ],
)  # fmt: skip
async def test_mapped_calendar_yields_weddings(
    read: Reader, document: Any, options: dict[str, Any], weddings: list[tuple[Any, ...]]
) -> None:
    load = await read(document, options)
    assert load.errors == []
    assert [_row(w) for w in load.weddings] == weddings
    assert load.source == read.source


async def test_mapped_bad_entries_name_entry_field_and_path(read: Reader) -> None:
    document = {"results": [
        _event("E-1", "2027-06-12T14:00", "Europe/London"),
        _event("E-2", "2027-06-13T14:00", "Europe/London", size="many"),
        {"when": {"local": "2027-06-14T14:00", "zone": "Europe/London"}, "party": {"size": 5}},
        _event("E-4", "2027-06-15T14:00", "Europe/Lndon"),
        _event("E-5", "2027-03-28T01:30", "Europe/London"),
        "just a string",
        {"ref": "E-7", "when": {"local": "2027-06-17T14:00", "zone": "Europe/Paris"}},
        {"ref": "E-8", "when": {"local": "2027-06-18T14:00", "zone": "Europe/Paris"}, "party": {"size": 40}},
        _event("E-1", "2027-07-01T14:00", "Europe/London"),
        _event("E-10", "soon", "Europe/London"),
    ]}  # fmt: skip
    load = await read(document, {"items": "$.results[*]", "fields": FIELDS})
    assert [_row(w) for w in load.weddings] == [
        ("E-1", "2027-06-12T14:00:00+01:00", "Europe/London", 120, 8, None),
        ("E-8", "2027-06-18T14:00:00+02:00", "Europe/Paris", 40, 0, None),
    ]
    assert [str(e) for e in load.errors] == [
        "entry 1 (id 'E-2'): guests: Input should be a valid integer, unable to parse string as an integer (at $.party.size)",
        "entry 2: id: Field required ($.ref selects nothing)",
        "entry 3 (id 'E-4'): timezone: unknown IANA time zone 'Europe/Lndon' (at $.when.zone)",
        "entry 4 (id 'E-5'): ceremony_at: 2027-03-28T01:30:00 does not exist in Europe/London (DST gap) (at $.when.local)",
        "entry 5: an entry must be a mapping, not str",
        "entry 6 (id 'E-7'): guests: Field required ($.party.size selects nothing)",
        "entry 8 (id 'E-1'): id: duplicate id; the first entry with it is kept",
        "entry 9 (id 'E-10'): ceremony_at: Input should be a valid datetime or date, input is too short (at $.when.local)",
    ]
    assert [(e.index, e.wedding_id, e.field) for e in load.errors][:2] == [(1, "E-2", "guests"), (2, None, "id")]


@pytest.mark.parametrize(
    ("document", "options", "message"),
    [
        ({"error": "unauthorized"}, {"items": "$.results[*]", "fields": FIELDS}, "calendar.items: $.results selects nothing"),
        ({"results": "oops"}, {"items": "$.results[*]"}, "calendar.items: $.results must be a list, not str"),
        ({"results": []}, {"fields": FIELDS}, "expected a `weddings` list at the top level"),
    ],
)  # fmt: skip
async def test_mapped_document_that_is_no_calendar_raises(
    read: Reader, document: Any, options: dict[str, Any], message: str
) -> None:
    # A missing list is an answer misread (an error page, a renamed key), never a calendar without weddings.
    with pytest.raises(CalendarError) as info:
        await read(document, options)
    assert str(info.value) == f"{read.source}: {message}"


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        ({"url": "{base_url}/v2", "items": "$.results["},
         "calendar.items: invalid JSONPath '$.results[': unexpected end of query"),
        ({"url": "{base_url}/v2", "items": "$.a | $.b"},
         "calendar.items: invalid JSONPath '$.a | $.b': unexpected token '|'"),
        ({"file": "weddings.json", "fields": {"guests": "$.party["}},
         "calendar.fields.guests: invalid JSONPath '$.party[': unexpected end of query"),
        ({"url": "{base_url}/v2", "fields": {"guests": "party.size"}},
         "calendar.fields.guests: invalid JSONPath 'party.size': it must start with $"),
        ({"url": "{base_url}/v2", "fields": {"guest": "$.party.size"}},
         "calendar.fields.guest: unknown calendar field (known: id, ceremony_at, timezone, guests, vendors, name, venue)"),
        ({"url": "{base_url}/v2", "fields": {"guests": 5}},
         "calendar.fields.guests: Input should be a valid string (got 5)"),
        ({"url": "{base_url}/weddings/{wedding_id}"},
         "calendar.url: unknown template {wedding_id}; the calendar URL takes only {base_url}"),
        ({"url": "ftp://platform/weddings"},
         "calendar.url: must start with http://, https:// or {base_url}, got 'ftp://platform/weddings'"),
        ({"store": True, "items": "$[*]"},
         "calendar.items: applies to calendar.file and calendar.url only"),
        ({"store": True, "fields": {"id": "$.ref"}},
         "calendar.fields: applies to calendar.file and calendar.url only"),
    ],
)  # fmt: skip
def test_mapping_config_errors_are_one_line(calendar: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml.safe_dump({"calendar": calendar}), source="wedwatch.yml")
    assert str(info.value) == f"wedwatch.yml: {message}"


@pytest.mark.parametrize(
    ("base_url", "url", "filled"),
    [
        ("https://platform.example/", "{base_url}/v2/events?kind=wedding", "https://platform.example/v2/events?kind=wedding"),
        ("https://platform.example", "https://calendar.example/feed", "https://calendar.example/feed"),
        ("https://platform.example", "{base_url}/v2/events?q={{x}}", "https://platform.example/v2/events?q={x}"),
    ],
)  # fmt: skip
def test_calendar_url_base_url_is_filled_when_config_loads(base_url: str, url: str, filled: str) -> None:
    text = yaml.safe_dump({"platform": {"base_url": base_url}, "calendar": {"url": url}})
    assert parse_config(text).config.calendar.url == filled


async def test_calendar_url_unfilled_base_url_in_code_built_config_raises() -> None:
    config = Config(calendar=CalendarConfig(url="{base_url}/v2/events"))
    with pytest.raises(CalendarError, match=r"^\{base_url\}/v2/events: \{base_url\} is not filled in$"):
        await load_calendar(config.calendar)


def test_calendar_fields_are_the_wedding_fields() -> None:
    assert CALENDAR_FIELDS == tuple(f.name for f in dataclasses.fields(Wedding))
