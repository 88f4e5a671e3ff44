"""What every part of the stand-in shares: the weddings, the settings and the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from aiohttp import web

from wedwatch.calendar import Wedding
from wedwatch.platform.http import ApiError
from wedwatch.platform.settings import PlatformSettings

__all__ = ["Clock", "CLOCK", "SETTINGS", "WEDDINGS", "utc_now", "wedding_of", "iso"]

# Every simulated delay (propagation, delivery) is measured on this clock, not on the loop's
# monotonic one: a test or a demo that moves the clock moves the whole platform consistently.
Clock = Callable[[], datetime]

CLOCK: web.AppKey[Clock] = web.AppKey("clock")
SETTINGS = web.AppKey("settings", PlatformSettings)
WEDDINGS: web.AppKey[Mapping[str, Wedding]] = web.AppKey("weddings")


def utc_now() -> datetime:
    """The real time, timezone-aware."""
    return datetime.now(UTC)


def wedding_of(request: web.Request) -> Wedding:
    """The wedding named by the route's `wedding_id`, or a 404."""
    wedding_id = request.match_info["wedding_id"]
    wedding = request.config_dict[WEDDINGS].get(wedding_id)
    if wedding is None:
        raise ApiError(404, f"unknown wedding {wedding_id!r}", field="wedding_id")
    return wedding


def iso(instant: datetime) -> str:
    """An instant as RFC 3339 UTC with a `Z`, the way the API writes every timestamp."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
