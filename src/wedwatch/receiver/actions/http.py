"""http: send a templated JSON body to a URL (values are JSON-encoded, never spliced into JSON text)."""

from __future__ import annotations

import aiohttp

from wedwatch.config.actions import HttpAction
from wedwatch.receiver.actions.base import ActionContext, ActionFailure, ActionResult, render, render_json


async def send_json(
    ctx: ActionContext, method: str, url: str, body: object, headers: dict[str, str], timeout: float
) -> ActionResult:
    """One JSON request; 5xx and connection errors are retryable, 4xx are not."""
    try:
        async with ctx.session.request(
            method, url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            text = (await response.content.read(4096)).decode(errors="replace")
            if response.status >= 500:
                raise ActionFailure(f"{method} {url}: HTTP {response.status}", retryable=True)
            if response.status >= 400:
                raise ActionFailure(f"{method} {url}: HTTP {response.status}: {text[:200]}", retryable=False)
            return ActionResult({"status": response.status, "url": url})
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ActionFailure(f"{method} {url}: {type(exc).__name__}: {exc}", retryable=True) from None


async def run(ctx: ActionContext) -> ActionResult:
    """POST (or PUT/PATCH) the definition's body with the incident's values filled in."""
    definition = ctx.definition
    assert isinstance(definition, HttpAction)
    values = ctx.values
    url = render(definition.url, values)
    body = render_json(definition.body, values)
    headers = {k: render(v, values) for k, v in definition.headers.items()}
    return await send_json(ctx, definition.method, url, body, headers, definition.timeout_seconds)
