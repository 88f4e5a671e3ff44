"""Serving aiohttp apps from the CLI: listen addresses, signals, graceful shutdown."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from wedwatch.errors import ConfigError
from wedwatch.webconfig import WebConfigSource

__all__ = [
    "Served",
    "add_web_config_flag",
    "open_web_config",
    "parse_listen_address",
    "serve",
    "serve_all",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "tune_gc",
]

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT_SECONDS = 10.0

# Every probe (exporter) and every notification (receiver) allocates hundreds of short-lived
# containers (tasks, futures, headers, results, rows), so with CPython's default of 700 the young
# generation is collected ~100 times a second at full speed, for objects that would mostly have
# died by themselves a little later. Garbage collection was ~7 % of the exporter's CPU at
# saturation, ~1 % with this and the freeze below (bench/probe_engine.py).
_GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """Collect the young generation less often and stop re-scanning what start-up built.

    For a long-running service, once start-up has built what lives as long as the process.
    """
    # Modules, config, calendar and app live as long as the process: frozen, the full collections
    # stop walking them (they were a third of the collector's time).
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if 0 < young < _GC_YOUNG_THRESHOLD:
        gc.set_threshold(_GC_YOUNG_THRESHOLD, middle, old)


def parse_listen_address(text: str, *, flag: str = "--web.listen-address") -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` (all interfaces) or `[v6]:PORT` to (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"expected HOST:PORT, got {text!r}", field=flag)
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port_text)


def add_web_config_flag(parser: argparse.ArgumentParser, env: str) -> None:
    """Add --web.config.file (the exporter-toolkit format), defaulting to `$env`."""
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="PATH",
        default=os.environ.get(env) or None,
        help="TLS, basic auth and response headers, in the format of Prometheus' exporter-toolkit;"
        f" re-read when it changes (env {env}; docs/security.md)",
    )


def open_web_config(path: str | None, name: str) -> WebConfigSource | None:
    """The web config named by --web.config.file, read and checked now (ConfigError: exit 2), or None."""
    if not path:
        return None
    source = WebConfigSource(path)
    active = source.current()
    log.info(
        "%s: web config %s: TLS %s, basic auth %s",
        name,
        path,
        "enabled" if source.tls_enabled else "disabled",
        f"for {len(active.users)} user(s)" if active.users else "disabled",
    )
    if active.users and not source.tls_enabled:
        log.warning("%s: basic auth without TLS: passwords cross the network in clear text", name)
    return source


@dataclass(frozen=True)
class Served:
    """One app and where it listens."""

    app: web.Application
    address: str
    name: str
    ssl_context: ssl.SSLContext | None = None
    flag: str = "--web.listen-address"


async def serve_all(
    served: Sequence[Served],
    *,
    on_reload: Callable[[], None] | None = None,
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve every app until SIGINT or SIGTERM; SIGHUP calls `on_reload`. In-flight requests finish."""
    for s in served:
        parse_listen_address(s.address, flag=s.flag)
    runners: list[web.AppRunner] = []
    try:
        for s in served:
            host, port = parse_listen_address(s.address, flag=s.flag)
            runner = web.AppRunner(s.app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, host, port, ssl_context=s.ssl_context)
            try:
                await site.start()
            except OSError as exc:
                raise ConfigError(f"cannot listen on {s.address}: {exc.strerror or exc}", field=s.flag) from exc
            scheme = "https" if s.ssl_context else "http"
            shown = f"[{host}]" if ":" in host else host
            log.info("%s listening on %s://%s:%d/", s.name, scheme, shown, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if on_reload is not None:
            loop.add_signal_handler(signal.SIGHUP, on_reload)
        try:
            if on_started is not None:
                await on_started()
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        log.info("shutting down %s", ", ".join(s.name for s in served))
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


async def serve(
    app: web.Application,
    address: str,
    *,
    name: str,
    on_reload: Callable[[], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve one app until SIGINT or SIGTERM; SIGHUP calls `on_reload`."""
    await serve_all([Served(app, address, name, ssl_context)], on_reload=on_reload)
