"""guest_list: GET the wedding's guest list; time to the full body; optionally check the count."""

from __future__ import annotations

from wedwatch.config.model import GuestListConfig
from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure, ProbeResult

URL = "{base_url}/api/weddings/{wedding_id}/guests"


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Load the whole guest list, as a planner opening the wedding does."""
    response = await ctx.request("GET", ctx.url(URL), headers={"Accept": "application/json"})
    document = response.json()
    guests = document.get("guests") if isinstance(document, dict) else document
    if not isinstance(guests, list):
        raise ProbeFailure("assertion", "response holds no `guests` list")
    config = ctx.config
    if isinstance(config, GuestListConfig) and config.assert_guest_count and len(guests) != ctx.wedding.guests:
        raise ProbeFailure("assertion", f"{len(guests)} guests listed, the calendar expects {ctx.wedding.guests}")
    return ctx.ok(guests=float(len(guests)))
