"""Test doubles for the platform tests: a small calendar, fast settings and a movable clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from wedwatch.calendar import Wedding, parse_calendar
from wedwatch.platform import PlatformSettings

CALENDAR = [
    {"id": "w-small", "ceremony_at": "2030-06-01T15:00", "timezone": "Europe/London", "guests": 10, "vendors": 2},
    {
        "id": "w-large",
        "ceremony_at": "2030-06-08T14:00",
        "timezone": "America/New_York",
        "guests": 400,
        "vendors": 12,
        "name": "Ada & Bo",
        "venue": "The Old Mill",
    },
]

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
AddFault = Callable[..., Awaitable[dict[str, Any]]]

# Nothing sleeps unless a test asks for it.
FAST = PlatformSettings(guest_list_base_seconds=0, guest_list_per_guest_seconds=0)


def calendar_weddings() -> list[Wedding]:
    """The test calendar, parsed the way every calendar source parses."""
    load = parse_calendar(CALENDAR, source="test")
    assert not load.errors
    return load.weddings


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ServedLikeTheCli(TestServer):
    """A test server with web.AppRunner's defaults, as `wedwatch platform` runs it.

    aiohttp's TestServer turns on handler_cancellation, which cancels a handler when its client
    disconnects; the CLI's AppRunner leaves it off, so hung requests must notice on their own.
    """

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        kwargs["handler_cancellation"] = False
        return web.AppRunner(self.app, **kwargs)
