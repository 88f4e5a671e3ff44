"""Helpers of the end-to-end tests: in-process apps on free loopback ports, bounded waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from ports import free_port  # the tests of this directory import it from here too


async def serve(app: web.Application, runners: list[web.AppRunner]) -> str:
    """Serve `app` on a free loopback port; its runner joins `runners` (the caller cleans them up)."""
    runner = web.AppRunner(app)
    await runner.setup()
    runners.append(runner)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"127.0.0.1:{port}"


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 90.0) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    for _ in range(int(timeout / 0.5)):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def recorded_actions(target: str, **overrides: Any) -> dict[str, Any]:
    """The e2e tests' `actions` section: every action aimed at the recording `target` (host:port),
    no cooldown, the usual strategies; `overrides` replace keys of the section."""
    return {
        "cooldown_seconds": 0,
        "definitions": {
            "log": {"type": "log"},
            "page": {"type": "notify", "url": f"http://{target}/page"},
            "scale": {"type": "scale", "url": f"http://{target}/scale"},
            "cache_warm": {"type": "cache_warm", "url": f"http://{target}/warm"},
        },
        "strategies": {"emergency": ["scale", "cache_warm", "page", "log"], "urgent": ["scale", "log"],
                       "standard": ["log"], "log": ["log"]},
    } | overrides  # fmt: skip
