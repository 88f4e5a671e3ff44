"""timeline_sync: write a probe marker to the timeline, poll until it is visible; propagation is the result."""

from __future__ import annotations

import time
import uuid

from wedwatch.config.model import PollingConfig
from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure, ProbeResult

WRITE_URL = "{base_url}/api/weddings/{wedding_id}/timeline/markers"
READ_URL = "{base_url}/api/weddings/{wedding_id}/timeline"


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Time how long a change on one device takes to reach the others."""
    marker = f"wedwatch-{uuid.uuid4().hex}"
    await ctx.request("POST", ctx.url(WRITE_URL), json={"marker": marker}, expect=(200, 201, 202))
    written = time.perf_counter()
    interval = ctx.config.poll_interval_seconds if isinstance(ctx.config, PollingConfig) else 0.02
    read_url = ctx.url(READ_URL, template=READ_URL)
    while True:
        response = await ctx.request("GET", read_url, params={"marker": marker}, record_steps=False)
        document = response.json()
        if not isinstance(document, dict) or "visible" not in document:
            raise ProbeFailure("assertion", "timeline read answered without `visible`")
        if document["visible"]:
            break
        await ctx.poll(interval)
    ctx.steps["propagation"] = time.perf_counter() - written
    return ctx.ok()
