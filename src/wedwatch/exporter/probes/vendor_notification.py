"""vendor_notification: trigger a test notification, poll until delivered; delivery latency is the result."""

from __future__ import annotations

import time

from wedwatch.config.model import PollingConfig
from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure, ProbeResult

URL = "{base_url}/api/weddings/{wedding_id}/notifications"
_FAILED = frozenset({"failed", "bounced", "rejected"})


async def probe(ctx: ProbeContext) -> ProbeResult:
    """Time a vendor notification from trigger to delivery."""
    url = ctx.url(URL)
    body = {"kind": "probe", "message": "wedwatch delivery check", "test": True}
    created = (await ctx.request("POST", url, json=body, expect=(200, 201, 202))).json()
    sent = time.perf_counter()
    notification_id = created.get("notification_id") if isinstance(created, dict) else None
    if not notification_id:
        raise ProbeFailure("assertion", "notification answered without a notification_id")
    interval = ctx.config.poll_interval_seconds if isinstance(ctx.config, PollingConfig) else 0.02
    while True:
        status = (await ctx.request("GET", f"{url}/{notification_id}", record_steps=False)).json()
        state = status.get("status") if isinstance(status, dict) else None
        if state == "delivered":
            break
        if state in _FAILED:
            raise ProbeFailure("assertion", f"notification {notification_id} ended {state}")
        await ctx.poll(interval)
    ctx.steps["delivery"] = time.perf_counter() - sent
    return ctx.ok()
