"""The mobile app's endpoint: a compact wedding summary, a little different for phones."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from aiohttp import hdrs, web

from wedwatch.calendar import Wedding, phase_at
from wedwatch.platform.cache import CACHE, summary_key
from wedwatch.platform.faults import operation
from wedwatch.platform.state import CLOCK

__all__ = ["LAYOUTS", "is_mobile", "summary", "summary_layout", "layout_document", "warm_summaries", "routes"]

_MOBILE = re.compile(r"Mobile|iPhone|iPad|Android", re.IGNORECASE)
LAYOUTS = ("compact", "full")


def is_mobile(user_agent: str) -> bool:
    """Whether a User-Agent is a phone's or tablet's."""
    return _MOBILE.search(user_agent) is not None


def layout_document(wedding: Wedding, layout: str) -> dict[str, Any]:
    """The part of the summary that does not move with the clock: what the cache keeps per layout."""
    return {
        "wedding_id": wedding.id,
        "name": wedding.name,
        "venue": wedding.venue,
        "ceremony_at": wedding.ceremony_at.isoformat(timespec="minutes"),  # local time, as the app shows it
        "timezone": wedding.timezone,
        "guests": wedding.guests,
        "layout": layout,
        "hero_image": {"url": f"/media/{wedding.id}/hero.jpg", "width": 750 if layout == "compact" else 1600},
    }


def _at(document: dict[str, Any], wedding: Wedding, now: datetime) -> dict[str, Any]:
    """The layout's document with where the wedding stands at `now`, in the summary's field order."""
    fixed = ("wedding_id", "name", "venue", "ceremony_at", "timezone")
    return {
        **{k: document[k] for k in fixed},
        "phase": phase_at(wedding, now).value,
        "countdown_seconds": max(0, round((wedding.ceremony_utc - now).total_seconds())),
        **{k: v for k, v in document.items() if k not in fixed},
    }


def summary_layout(mobile: bool) -> str:
    """Phones get the compact layout and smaller images."""
    return "compact" if mobile else "full"


def summary(wedding: Wedding, now: datetime, *, mobile: bool) -> dict[str, Any]:
    """The summary the app shows; phones get the compact layout and smaller images."""
    return _at(layout_document(wedding, summary_layout(mobile)), wedding, now)


async def _layout_cached(app: web.Application, wedding: Wedding, layout: str) -> dict[str, Any]:
    cache = app[CACHE]
    if cache is None:
        return layout_document(wedding, layout)
    key = summary_key(wedding, layout)
    cached = await cache.get("mobile_summary", key)
    if cached is not None:
        try:
            document: dict[str, Any] = json.loads(cached)
            return document
        except ValueError:  # not ours (someone else's key): rebuild and overwrite it
            pass
    document = layout_document(wedding, layout)
    await cache.put("mobile_summary", key, json.dumps(document, separators=(",", ":")).encode())
    return document


async def warm_summaries(app: web.Application, wedding: Wedding) -> int:
    """Write both layouts of the wedding's summary into the cache; how many were written."""
    cache = app[CACHE]
    if cache is None:
        return 0
    written = 0
    for layout in LAYOUTS:
        body = json.dumps(layout_document(wedding, layout), separators=(",", ":")).encode()
        written += await cache.put("mobile_summary", summary_key(wedding, layout), body)
    return written


routes = web.RouteTableDef()


@routes.get("/api/mobile/weddings/{wedding_id}")
@operation("mobile")
async def get_summary(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """The compact summary; `Vary: User-Agent` because phones get another layout."""
    layout = summary_layout(is_mobile(request.headers.get(hdrs.USER_AGENT, "")))
    document = await _layout_cached(request.app, wedding, layout)
    body = _at(document, wedding, request.config_dict[CLOCK]())
    return web.json_response(body, headers={hdrs.VARY: hdrs.USER_AGENT})
