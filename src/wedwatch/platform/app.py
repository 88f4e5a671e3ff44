"""The application factory of the platform stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from wedwatch.calendar import Wedding
from wedwatch.platform import admin, guests, mobile, offline, photos, status, supabase, timeline, vendors, warm
from wedwatch.platform.admin import admin_auth_middleware
from wedwatch.platform.cache import CACHE, REGISTRY, open_cache
from wedwatch.platform.faults import FAULTS, FaultTable
from wedwatch.platform.guests import GUESTS, GuestBook
from wedwatch.platform.http import error_middleware
from wedwatch.platform.offline import OFFLINE, OfflineBundles
from wedwatch.platform.photos import PHOTOS, PhotoStore
from wedwatch.platform.settings import PlatformSettings
from wedwatch.platform.state import CLOCK, SETTINGS, WEDDINGS, Clock, utc_now
from wedwatch.platform.timeline import TIMELINE, Timeline
from wedwatch.platform.vendors import OUTBOX, Outbox

__all__ = ["create_app"]

_routes = web.RouteTableDef()
_common = web.RouteTableDef()


@_routes.get("/api/weddings")
async def list_weddings(request: web.Request) -> web.StreamResponse:
    """The calendar, in the calendar file's fields, so the exporter's `calendar.url` can read it."""
    return web.json_response({"weddings": [w.to_dict() for w in request.config_dict[WEDDINGS].values()]})


@_common.get("/-/healthy")
async def healthy(request: web.Request) -> web.StreamResponse:
    """Liveness, as Prometheus answers it."""
    return web.Response(text="wedwatch platform is Healthy.\n")


@_common.get("/metrics")
async def metrics(request: web.Request) -> web.StreamResponse:
    """The stand-in's own metrics: the cache's hits, misses and errors when it runs with one."""
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    weddings: Sequence[Wedding],
    *,
    settings: PlatformSettings | None = None,
    clock: Clock = utc_now,
) -> web.Application:
    """A platform serving `weddings` in `settings.dialect`; `clock` drives phases and every simulated delay."""
    settings = settings or PlatformSettings()
    app = web.Application(
        # error_middleware is outermost so that a refused token is answered in JSON too.
        middlewares=[error_middleware, admin_auth_middleware],
        client_max_size=settings.max_request_bytes,
    )
    by_id: dict[str, Wedding] = {}
    for wedding in weddings:
        by_id.setdefault(wedding.id, wedding)
    app[WEDDINGS] = by_id
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[FAULTS] = faults = FaultTable(seed=settings.seed)
    app[GUESTS] = GuestBook(settings.seed)
    app[PHOTOS] = PhotoStore(settings.photo_wedding_max_bytes)
    app[TIMELINE] = Timeline(settings.timeline_propagation_seconds, settings.timeline_max_markers)
    app[OUTBOX] = Outbox(
        sent_seconds=settings.notification_sent_seconds,
        delivery_seconds=settings.notification_delivery_seconds,
        max_per_wedding=settings.notification_max_per_wedding,
    )
    app[OFFLINE] = OfflineBundles()
    app[REGISTRY] = registry = CollectorRegistry()
    cache = app[CACHE] = open_cache(settings, registry) if settings.cache_url is not None else None
    if cache is not None:

        async def cache_lifetime(_: web.Application) -> AsyncIterator[None]:
            await cache.ping()  # a Redis that is down at start is logged, not fatal: reads go uncached
            yield
            await cache.close()

        app.cleanup_ctx.append(cache_lifetime)
    app.add_routes(_common)
    app.add_routes(admin.routes)
    if settings.dialect == "supabase":
        supabase.setup(app)
    else:
        for module_routes in (
            _routes,
            guests.routes,
            photos.routes,
            timeline.routes,
            vendors.routes,
            mobile.routes,
            offline.routes,
            status.routes,
            warm.routes,
        ):
            app.add_routes(module_routes)

    async def release_hangs(_: web.Application) -> None:
        # on_shutdown runs before the server waits for in-flight handlers: hung requests end here.
        faults.release_hangs()

    app.on_shutdown.append(release_hangs)
    return app
