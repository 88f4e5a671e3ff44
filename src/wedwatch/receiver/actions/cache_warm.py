"""cache_warm: warm a wedding's caches (its own URL when configured, else the platform's hot reads)."""

from __future__ import annotations

import aiohttp

from wedwatch.config.actions import CacheWarmAction
from wedwatch.receiver.actions.base import ActionContext, ActionFailure, ActionResult, render
from wedwatch.receiver.actions.http import send_json

# What a guest's phone loads first: warming these is what makes the next minute fast.
_HOT_PATHS = ("/api/weddings/{wedding_id}/guests", "/api/mobile/weddings/{wedding_id}")


async def run(ctx: ActionContext) -> ActionResult:
    """Warm the incident's wedding, or every live wedding for a platform-wide alert."""
    p = ctx.params
    weddings = [str(p["wedding_id"])] if p.get("wedding_id") else [str(w) for w in p.get("live_weddings") or []]
    definition = ctx.definition
    if isinstance(definition, CacheWarmAction) and definition.url:
        warmed = []
        for wedding in weddings or [""]:
            url = render(definition.url, {**ctx.values, "wedding_id": wedding})
            await send_json(ctx, "POST", url, {"wedding_id": wedding or None}, {}, definition.timeout_seconds)
            warmed.append(wedding)
        return ActionResult({"warmed": warmed, "via": "url"})
    base = ctx.config.platform.base_url
    timeout = aiohttp.ClientTimeout(total=definition.timeout_seconds if definition else 30.0)
    headers = dict(ctx.config.platform.headers)
    for wedding in weddings:
        for path in _HOT_PATHS:
            url = base + path.format(wedding_id=wedding)
            try:
                async with ctx.session.get(url, headers=headers, timeout=timeout) as response:
                    await response.read()
                    if response.status >= 400:
                        raise ActionFailure(f"GET {url}: HTTP {response.status}", retryable=response.status >= 500)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ActionFailure(f"GET {url}: {type(exc).__name__}: {exc}") from None
    return ActionResult({"warmed": weddings, "via": "platform"})
