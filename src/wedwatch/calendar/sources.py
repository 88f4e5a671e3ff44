"""Calendar sources: a YAML/JSON file, the store's `weddings` table, or the platform's API.

A source that cannot be read at all raises CalendarError; a bad entry inside a readable source
is reported as an EntryError and the good entries still load. A file or URL calendar of another
shape is read through a CalendarMapping (`calendar.items`, `calendar.fields`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import yaml

from wedwatch.calendar.mapping import CalendarMapping
from wedwatch.calendar.model import EntryError, Wedding
from wedwatch.config.model import CalendarConfig
from wedwatch.errors import CalendarError
from wedwatch.httpio import read_capped

__all__ = [
    "CalendarLoad",
    "WeddingRows",
    "parse_calendar",
    "load_calendar_file",
    "load_calendar_url",
    "load_calendar_store",
    "load_calendar",
    "MAX_CALENDAR_BYTES",
]

MAX_CALENDAR_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CalendarLoad:
    """The weddings a source yielded and the entries it had to skip."""

    source: str
    weddings: list[Wedding] = field(default_factory=list)
    errors: list[EntryError] = field(default_factory=list)


_OWN_SHAPE = CalendarMapping()


def parse_calendar(
    data: Any, *, source: str, strict: bool = True, mapping: CalendarMapping | None = None
) -> CalendarLoad:
    """Parse a decoded calendar: a list of entries or a mapping with a `weddings` list, or as `mapping` says."""
    mapping = mapping or _OWN_SHAPE
    weddings: list[Wedding] = []
    errors: list[EntryError] = []
    seen: set[str] = set()
    for index, raw in enumerate(mapping.entries(data, source=source)):
        parsed = mapping.parse(index, raw, strict=strict)
        if isinstance(parsed, EntryError):
            errors.append(parsed)
        elif parsed.id in seen:
            errors.append(EntryError(index, parsed.id, "id", "duplicate id; the first entry with it is kept"))
        else:
            seen.add(parsed.id)
            weddings.append(parsed)
    return CalendarLoad(source=source, weddings=weddings, errors=errors)


def load_calendar_file(path: str | Path, *, mapping: CalendarMapping | None = None) -> CalendarLoad:
    """Read a YAML or JSON calendar file (JSON is YAML, so one parser serves both)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"{file}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise CalendarError(f"{file}: not valid {'JSON' if file.suffix == '.json' else 'YAML'}: {exc}") from exc
    return parse_calendar(data, source=str(file), mapping=mapping)


async def load_calendar_url(
    session: aiohttp.ClientSession,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    timeout_seconds: float = 30.0,
    max_bytes: int = MAX_CALENDAR_BYTES,
    mapping: CalendarMapping | None = None,
    authorization: Callable[[], Awaitable[str]] | None = None,
) -> CalendarLoad:
    """GET a JSON calendar from the platform; unknown fields in its entries are ignored.

    `authorization` gives the platform's Authorization header (OAuth2); an Authorization in
    `headers` wins, as a step's own header wins over the platform's.
    """
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    sent = dict(headers or {})
    if authorization is not None and not any(k.lower() == "authorization" for k in sent):
        sent["Authorization"] = await authorization()
    try:
        async with session.get(url, headers=sent, timeout=timeout) as response:
            if response.status != 200:
                raise CalendarError(f"{url}: HTTP {response.status}")
            body = await read_capped(response.content, max_bytes)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CalendarError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if len(body) > max_bytes:
        raise CalendarError(f"{url}: response larger than {max_bytes} bytes")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CalendarError(f"{url}: not valid JSON: {exc}") from exc
    return parse_calendar(data, source=url, strict=False, mapping=mapping)


class WeddingRows(Protocol):
    """What a calendar read from the store needs of it (a `wedwatch.store.Store` is one).

    A protocol rather than the store's class: the store persists the calendar's `Wedding`s, so
    it imports the calendar, and the calendar must not import it back.
    """

    async def list_weddings(self) -> list[dict[str, Any]]:
        """The `weddings` table's rows, as calendar entries."""
        ...


async def load_calendar_store(store: WeddingRows) -> CalendarLoad:
    """Read the store's `weddings` table."""
    rows = await store.list_weddings()
    return parse_calendar(rows, source="store:weddings", strict=False)


async def load_calendar(
    config: CalendarConfig,
    *,
    store: WeddingRows | None = None,
    session: aiohttp.ClientSession | None = None,
    authorization: Callable[[], Awaitable[str]] | None = None,
) -> CalendarLoad:
    """Load the calendar from the configured source (`authorization`: the platform's OAuth2 header, for a URL)."""
    mapping = CalendarMapping.from_config(config)
    if config.file:
        # A big YAML calendar takes a while to parse; keep the event loop free meanwhile.
        return await asyncio.to_thread(load_calendar_file, config.file, mapping=mapping)
    if config.url:
        if "{base_url}" in config.url:
            # A Config built in code rather than read by load_config, which fills it from platform.base_url.
            raise CalendarError(f"{config.url}: {{base_url}} is not filled in")
        if session is not None:
            return await load_calendar_url(session, config.url, config.headers, mapping=mapping, authorization=authorization)
        async with aiohttp.ClientSession() as own:
            return await load_calendar_url(own, config.url, config.headers, mapping=mapping, authorization=authorization)
    if config.store:
        if store is None:
            raise CalendarError("calendar.store is set but no store is open")
        return await load_calendar_store(store)
    return CalendarLoad(source="none")
