"""critical_path: read the wedding's live status: check-in, next milestone, vendors, incidents."""

from __future__ import annotations

from typing import Any

from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure, ProbeResult

URL = "{base_url}/api/weddings/{wedding_id}/status"


def _number(document: dict[str, Any], *path: str) -> float:
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProbeFailure("assertion", f"status field {'.'.join(path)} is missing or not a number")
    return float(value)


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Read the day's critical path from the platform."""
    document = (await ctx.request("GET", ctx.url(URL))).json()
    if not isinstance(document, dict):
        raise ProbeFailure("assertion", "status is not a JSON object")
    readings = {
        "guests_checked_in": _number(document, "guests_checked_in"),
        "guests_expected": _number(document, "guests_expected"),
        "next_milestone_delay_seconds": _number(document, "next_milestone", "delay_seconds")
        if isinstance(document.get("next_milestone"), dict)
        else 0.0,
        "vendors_confirmed": _number(document, "vendors_confirmed"),
        "vendors_booked": _number(document, "vendors_booked"),
        "open_incidents": _number(document, "open_incidents"),
        "incident_response_seconds": _number(document, "incident_response_seconds"),
    }
    return ctx.ok(**readings)
