"""`POST /api/cache/warm`: write weddings' guest lists and mobile summaries into the cache before they are read.

The receiver's `cache_warm` action posts `{"wedding_id": ID}` here (or `{"wedding_id": null}` for a
platform-wide alert: then every wedding live now, on its day or in its ceremony window, is warmed).
Without a `url` the action reads the guest list and the mobile summary instead, which warms the
same keys through the read path. Faults do not apply: warming is the platform's own job, not a
guest's request.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from wedwatch.calendar import Wedding, phase_at
from wedwatch.config.model import Phase
from wedwatch.platform.cache import CACHE, guest_list_key
from wedwatch.platform.guests import guest_list_uncached
from wedwatch.platform.http import ApiError, read_json
from wedwatch.platform.mobile import LAYOUTS, warm_summaries
from wedwatch.platform.state import CLOCK, SETTINGS, WEDDINGS

__all__ = ["LIVE_PHASES", "warm_wedding", "routes"]

LIVE_PHASES = frozenset({Phase.CEREMONY, Phase.WEDDING_DAY})
# Weddings warmed at once: each pays the database's cost of its guest list, as a real warm-up would.
_CONCURRENCY = 8


class _WarmIn(BaseModel):
    # Lenient like any public API; an empty body warms the live weddings.
    model_config = ConfigDict(extra="ignore")

    wedding_id: str | None = Field(default=None, min_length=1)


async def warm_wedding(app: web.Application, wedding: Wedding) -> int:
    """Write the wedding's guest list and both summary layouts; how many keys were written."""
    cache = app[CACHE]
    assert cache is not None
    body = await guest_list_uncached(app, wedding)
    written = int(await cache.put("guest_list", guest_list_key(wedding, app[SETTINGS].seed), body))
    return written + await warm_summaries(app, wedding)


routes = web.RouteTableDef()


@routes.post("/api/cache/warm")
async def warm(request: web.Request) -> web.StreamResponse:
    """Warm the named wedding (or every live one); 200 with what was warmed, 503 when Redis would not take it."""
    app = request.app
    cache = app[CACHE]
    if cache is None:
        raise ApiError(404, "this platform runs without a cache: start it with --cache.url")
    body = await read_json(request, _WarmIn, optional=True)
    weddings = request.config_dict[WEDDINGS]
    if body.wedding_id is not None:
        wedding = weddings.get(body.wedding_id)
        if wedding is None:
            raise ApiError(404, f"unknown wedding {body.wedding_id!r}", field="wedding_id")
        targets = [wedding]
    else:
        now = request.config_dict[CLOCK]()
        targets = [w for w in weddings.values() if phase_at(w, now) in LIVE_PHASES]
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def one(wedding: Wedding) -> int:
        async with gate:
            return await warm_wedding(app, wedding)

    written = await asyncio.gather(*(one(w) for w in targets))
    per_wedding = 1 + len(LAYOUTS)
    failed = [w.id for w, n in zip(targets, written, strict=True) if n < per_wedding]
    if failed:
        raise ApiError(503, f"cache unavailable: could not warm {', '.join(failed[:10])}")
    return web.json_response(
        {"warmed": [w.id for w in targets], "keys": sum(written), "ttl_seconds": cache.ttl_seconds}
    )
