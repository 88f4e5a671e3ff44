"""mobile: GET the mobile app's endpoint with a mobile user agent; time to first byte and total."""

from __future__ import annotations

from wedwatch.config.model import MobileConfig
from wedwatch.exporter.probes.base import ProbeContext, ProbeResult

URL = "{base_url}/api/mobile/weddings/{wedding_id}"


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Load the wedding as the couple's phone does."""
    agent = ctx.config.user_agent if isinstance(ctx.config, MobileConfig) else "wedwatch-probe (mobile)"
    response = await ctx.request("GET", ctx.url(URL), headers={"User-Agent": agent, "Accept": "application/json"})
    response.json()
    return ctx.ok()
