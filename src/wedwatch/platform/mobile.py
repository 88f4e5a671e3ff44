"""The mobile app's endpoint: a compact wedding summary, a little different for phones."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiohttp import hdrs, web

from wedwatch.calendar import Wedding, phase_at
from wedwatch.platform.faults import operation
from wedwatch.platform.state import CLOCK

__all__ = ["is_mobile", "summary", "routes"]

_MOBILE = re.compile(r"Mobile|iPhone|iPad|Android", re.IGNORECASE)


def is_mobile(user_agent: str) -> bool:
    """Whether a User-Agent is a phone's or tablet's."""
    return _MOBILE.search(user_agent) is not None


def summary(wedding: Wedding, now: datetime, *, mobile: bool) -> dict[str, Any]:
    """The summary the app shows; phones get the compact layout and smaller images."""
    return {
        "wedding_id": wedding.id,
        "name": wedding.name,
        "venue": wedding.venue,
        "ceremony_at": wedding.ceremony_at.isoformat(timespec="minutes"),  # local time, as the app shows it
        "timezone": wedding.timezone,
        "phase": phase_at(wedding, now).value,
        "countdown_seconds": max(0, round((wedding.ceremony_utc - now).total_seconds())),
        "guests": wedding.guests,
        "layout": "compact" if mobile else "full",
        "hero_image": {"url": f"/media/{wedding.id}/hero.jpg", "width": 750 if mobile else 1600},
    }


routes = web.RouteTableDef()


@routes.get("/api/mobile/weddings/{wedding_id}")
@operation("mobile")
async def get_summary(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """The compact summary; `Vary: User-Agent` because phones get another layout."""
    mobile = is_mobile(request.headers.get(hdrs.USER_AGENT, ""))
    body = summary(wedding, request.config_dict[CLOCK](), mobile=mobile)
    return web.json_response(body, headers={hdrs.VARY: hdrs.USER_AGENT})
