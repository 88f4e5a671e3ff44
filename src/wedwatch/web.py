"""Serving an aiohttp app from the CLI: listen addresses, signals, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from collections.abc import Callable

from aiohttp import web

from wedwatch.errors import ConfigError

__all__ = ["parse_listen_address", "serve", "SHUTDOWN_TIMEOUT_SECONDS"]

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT_SECONDS = 10.0


def parse_listen_address(text: str, *, flag: str = "--web.listen-address") -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` (all interfaces) or `[v6]:PORT` to (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"expected HOST:PORT, got {text!r}", field=flag)
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port_text)


async def serve(
    app: web.Application,
    address: str,
    *,
    name: str,
    on_reload: Callable[[], None] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve `app` until SIGINT or SIGTERM; SIGHUP calls `on_reload`. In-flight requests finish."""
    host, port = parse_listen_address(address)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(f"cannot listen on {address}: {exc.strerror or exc}", field="--web.listen-address") from exc
        scheme = "https" if ssl_context else "http"
        shown = f"[{host}]" if ":" in host else host
        log.info("%s listening on %s://%s:%d/", name, scheme, shown, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if on_reload is not None:
            loop.add_signal_handler(signal.SIGHUP, on_reload)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        log.info("%s shutting down", name)
    finally:
        await runner.cleanup()
