"""The exporter's HTTP face: /metrics, /probe, health, reload and a landing page."""

from __future__ import annotations

import asyncio
import gzip
import html
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from wedwatch import __version__
from wedwatch.calendar.shard import Shard
from wedwatch.config import LoadedConfig
from wedwatch.errors import StoreError
from wedwatch.exporter.exposition import CONTENT_TYPE, render_chunks
from wedwatch.exporter.probes import probe_session
from wedwatch.exporter.recorder import Recorder
from wedwatch.exporter.service import Exporter
from wedwatch.web import tune_gc

__all__ = ["create_app", "EXPORTER_KEY", "LIFECYCLE_DISABLED"]

log = logging.getLogger(__name__)
EXPORTER_KEY = web.AppKey("exporter", Exporter)
_REGISTRY_KEY = web.AppKey("process_registry", CollectorRegistry)
_LIFECYCLE_KEY = web.AppKey("lifecycle_enabled", bool)
# As Prometheus answers its own /-/reload without --web.enable-lifecycle.
LIFECYCLE_DISABLED = (
    "Lifecycle API is not enabled: start wedwatch exporter with --web.enable-lifecycle to reload over HTTP,"
    " or send it SIGHUP.\n"
)


def create_app(
    loaded: LoadedConfig,
    *,
    record: bool = True,
    schedule: bool = True,
    shard: Shard | None = None,
    enable_lifecycle: bool = False,
) -> web.Application:
    """The exporter application; probing starts when the app starts (unless `schedule` is off) and stops with it.

    `POST /-/reload` works only with `enable_lifecycle` (`--web.enable-lifecycle`): the exporter has
    no credentials, so anyone who reaches its port could otherwise make it re-read its files at will.
    SIGHUP, which needs access to the process, always reloads.
    """
    app = web.Application(client_max_size=64 * 1024)
    app[_LIFECYCLE_KEY] = enable_lifecycle
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app[_REGISTRY_KEY] = registry
    app.cleanup_ctx.append(_exporter_ctx(loaded, record=record, schedule=schedule, shard=shard))
    app.router.add_get("/", _landing)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/probe", _probe)
    app.router.add_get("/-/healthy", _healthy)
    app.router.add_get("/-/ready", _ready)
    app.router.add_post("/-/reload", _reload)
    return app


def _exporter_ctx(loaded: LoadedConfig, *, record: bool, schedule: bool, shard: Shard | None):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        config = loaded.config
        session = probe_session(limit=config.schedule.max_concurrency * 2, connect_timeout=config.platform.timeout_seconds)
        store = None
        if record or config.calendar.store:
            from wedwatch.store import open_store

            try:
                store = await open_store(config.store.url, pool_max_size=2)
            except StoreError as exc:
                if config.calendar.store:
                    await session.close()
                    raise
                log.warning("store unavailable, probe results will not be recorded: %s", exc)
        recorder = Recorder(store) if store is not None and record else None
        exporter = Exporter(loaded, session, recorder=recorder, calendar_store=store, shard=shard)
        app[EXPORTER_KEY] = exporter
        await exporter.start(schedule=schedule)
        if schedule:
            tune_gc()
        try:
            yield
        finally:
            await exporter.stop()
            await session.close()
            if store is not None:
                await store.close()

    return ctx


async def _metrics(request: web.Request) -> web.StreamResponse:
    exporter = request.app[EXPORTER_KEY]
    parts: list[bytes] = []
    for chunk in render_chunks(exporter.state, exporter.operations):
        if chunk:
            # Encoded block by block: encoding, then joining, the whole ~10 MB text at the end
            # held the loop for ~15 ms of a ~60 ms render (bench/scrape.py).
            parts.append(chunk.encode())
        await asyncio.sleep(0)  # a large render never holds the loop for its whole length
    parts.append(generate_latest(request.app[_REGISTRY_KEY]))
    body = b"".join(parts)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        compressed = await asyncio.to_thread(gzip.compress, body, 5)
        return web.Response(body=compressed, headers={"Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"})
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _probe(request: web.Request) -> web.Response:
    exporter = request.app[EXPORTER_KEY]
    wedding_id = request.query.get("wedding", "")
    operation = request.query.get("operation", "")
    if not wedding_id or not operation:
        raise web.HTTPBadRequest(text="both `wedding` and `operation` are required\n")
    # Only configured weddings and operations: /probe is never a relay to arbitrary URLs.
    if wedding_id not in exporter.weddings:
        raise web.HTTPNotFound(text=f"unknown wedding {wedding_id!r}\n")
    if operation not in exporter.operations:
        raise web.HTTPNotFound(text=f"unknown or disabled operation {operation!r}\n")
    if not exporter.config.features.performance_monitoring:
        raise web.HTTPServiceUnavailable(text="performance monitoring is disabled\n")
    debug = request.query.get("debug", "").lower() in ("1", "true", "yes")
    result, lines = await exporter.probe_now(wedding_id, operation, debug=debug)
    labels = f'wedding_id="{wedding_id}",operation="{operation}"'
    out = [
        "# HELP probe_success Whether the probe succeeded.\n# TYPE probe_success gauge\n",
        f"probe_success{{{labels}}} {1 if result.success else 0}\n",
        "# HELP probe_duration_seconds How long the probe took.\n# TYPE probe_duration_seconds gauge\n",
        f"probe_duration_seconds{{{labels}}} {result.duration_seconds!r}\n",
        "# HELP probe_step_duration_seconds Duration of each step.\n# TYPE probe_step_duration_seconds gauge\n",
        *(f'probe_step_duration_seconds{{{labels},step="{k}"}} {v!r}\n' for k, v in result.steps.items()),
    ]
    if result.step_success:
        out.append("# HELP probe_step_success Whether each step passed.\n# TYPE probe_step_success gauge\n")
        out.extend(f'probe_step_success{{{labels},step="{k}"}} {int(v)}\n' for k, v in result.step_success.items())
    if not debug:
        return web.Response(text="".join(out), content_type="text/plain", charset="utf-8")
    verdict = "succeeded" if result.success else f"failed ({result.reason}): {result.message}"
    text = "Logs for the probe:\n" + "\n".join(lines) + f"\nProbe {verdict}\n\nMetrics that would have been returned:\n"
    return web.Response(text=text + "".join(out), content_type="text/plain", charset="utf-8")


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


async def _ready(request: web.Request) -> web.Response:
    if not request.app[EXPORTER_KEY].ready:
        raise web.HTTPServiceUnavailable(text="Not ready.\n")
    return web.Response(text="Ready.\n")


async def _reload(request: web.Request) -> web.Response:
    if not request.app[_LIFECYCLE_KEY]:
        raise web.HTTPForbidden(text=LIFECYCLE_DISABLED)
    if await request.app[EXPORTER_KEY].reload():
        return web.Response(text="Reloaded.\n")
    raise web.HTTPInternalServerError(text="failed to reload config; the previous configuration is in force\n")


async def _landing(request: web.Request) -> web.Response:
    exporter = request.app[EXPORTER_KEY]
    counts = ", ".join(f"{p.value}: {n}" for p, n in exporter.state.phase_counts.items())
    example = next(iter(exporter.weddings), "WEDDING_ID")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>wedwatch exporter</title></head>
<body><h1>wedwatch exporter</h1>
<p>Version {html.escape(__version__)}. Weddings by phase: {html.escape(counts)}.</p>
<ul>
<li><a href="metrics">Metrics</a></li>
<li><a href="probe?wedding={html.escape(example)}&amp;operation=guest_list&amp;debug=true">Probe one wedding's guest list (debug)</a></li>
<li><a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></li>
</ul></body></html>
"""
    return web.Response(text=page, content_type="text/html")
