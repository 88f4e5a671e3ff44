"""The guest list: deterministic fake guests, as many as the calendar says, served with realistic latency."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from aiohttp import web

from wedwatch.calendar import Wedding
from wedwatch.platform.cache import CACHE, guest_list_key
from wedwatch.platform.faults import operation
from wedwatch.platform.state import SETTINGS

__all__ = ["GuestBook", "GUESTS", "fake_guests", "guest_list", "guest_list_uncached", "routes"]

_FIRST = (
    "Amelia Ava Charlotte Chloe Eleanor Emily Freya Grace Harper Isla Ivy Lily Mia Olivia Poppy Rosie Sophia "
    "Alfie Arthur Charlie Edward Finley Freddie George Harry Henry Jack James Leo Noah Oliver Oscar Theo Thomas"
).split()
_LAST = (
    "Adams Baker Bennett Brown Clarke Cooper Davies Evans Green Hall Harris Hughes Jackson Johnson Jones King "
    "Lewis Martin Moore Morgan Patel Phillips Roberts Robinson Smith Taylor Thomas Turner Walker Ward White Wilson"
).split()
_RSVP = ("accepted", "pending", "declined")
_RSVP_WEIGHTS = (0.82, 0.1, 0.08)
_DIETS = ("none", "none", "none", "none", "vegetarian", "vegan", "gluten_free")
_PER_TABLE = 10


def fake_guests(wedding: Wedding, seed: int) -> list[dict[str, Any]]:
    """The wedding's guests: the same names, RSVPs and tables for the same wedding and seed."""
    # random.Random hashes a str seed with SHA-512, so the list is stable across processes.
    rng = random.Random(f"{seed}:guests:{wedding.id}")
    guests = []
    for number in range(1, wedding.guests + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        guests.append(
            {
                "id": f"{wedding.id}-g{number}",
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}.{number}@example.com",
                "rsvp": rng.choices(_RSVP, _RSVP_WEIGHTS)[0],
                "table": 1 + (number - 1) // _PER_TABLE,
                "dietary": rng.choice(_DIETS),
            }
        )
    return guests


class GuestBook:
    """Encoded guest lists, built on first request and kept: the lists never change."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._bodies: dict[str, bytes] = {}

    def body(self, wedding: Wedding) -> bytes:
        """The JSON body of the wedding's guest list."""
        body = self._bodies.get(wedding.id)
        if body is None:
            document = {"wedding_id": wedding.id, "guests": fake_guests(wedding, self._seed)}
            body = self._bodies[wedding.id] = json.dumps(document, separators=(",", ":")).encode()
        return body


GUESTS = web.AppKey("guests", GuestBook)


async def guest_list_uncached(app: web.Application, wedding: Wedding) -> bytes:
    """The guest list from the (simulated) database: what a real platform pays per guest, every time."""
    settings = app[SETTINGS]
    # The body is kept in memory, so the cost a real platform pays per guest (query, rows, encoding) is simulated.
    await asyncio.sleep(settings.guest_list_base_seconds + settings.guest_list_per_guest_seconds * wedding.guests)
    return app[GUESTS].body(wedding)


async def guest_list(app: web.Application, wedding: Wedding) -> bytes:
    """The guest list: from the cache when it holds it, else from the database (then cached for the TTL)."""
    cache = app[CACHE]
    if cache is None:
        return await guest_list_uncached(app, wedding)
    key = guest_list_key(wedding, app[SETTINGS].seed)
    body = await cache.get("guest_list", key)
    if body is None:
        body = await guest_list_uncached(app, wedding)
        await cache.put("guest_list", key, body)
    return body


routes = web.RouteTableDef()


@routes.get("/api/weddings/{wedding_id}/guests")
@operation("guest_list")
async def get_guests(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """The wedding's full guest list (faults apply to the request, cached or not)."""
    body = await guest_list(request.app, wedding)
    return web.Response(body=body, content_type="application/json")
