"""scale: ask for capacity within the bounds; recorded in optimization_results, sent when a URL is set.

Only the resources the decision named (`capacity` in the params: a database alert sizes
`db_connections` alone) are sized, sent and recorded; none named sizes all three.
"""

from __future__ import annotations

from wedwatch.config.actions import ScaleAction
from wedwatch.receiver.actions.base import ActionContext, ActionResult, render
from wedwatch.receiver.actions.http import send_json
from wedwatch.receiver.sizing import Capacity, size_capacity


async def run(ctx: ActionContext) -> ActionResult:
    """Size capacity for the incident's strategy and guests; POST it when the definition has a URL."""
    p = ctx.params
    planned = p.get("targets")
    if isinstance(planned, dict) and planned:
        # A step of the forecaster's plan (forecast.mode: act): its targets are already sized.
        targets = [Capacity(r, float(v), bool(p.get("capped"))) for r, v in planned.items() if v is not None]
    else:
        named = p.get("capacity")
        only = [str(r) for r in named] if isinstance(named, list) else []
        targets = size_capacity(int(p.get("guests") or 0), str(p.get("strategy")), ctx.config.actions.capacity, only)
    body = {
        "wedding_id": p.get("wedding_id"),
        "strategy": p.get("strategy"),
        "reason": p.get("alertname"),
        "capacity": {c.resource: c.value for c in targets},
    }
    definition = ctx.definition
    sent = None
    if isinstance(definition, ScaleAction) and definition.url:
        url = render(definition.url, ctx.values)
        sent = await send_json(ctx, "POST", url, body, {}, definition.timeout_seconds)
    for c in targets:
        # Keyed by outbox row and resource: an at-least-once repeat records nothing twice.
        await ctx.store.record_optimization(
            idempotency_key=f"outbox:{ctx.action_id}:{c.resource}",
            kind="scale",
            resource=c.resource,
            wedding_id=p.get("wedding_id"),
            after_value=c.value,
            executed_at=ctx.now,
            dry_run=False,
            outcome="sent" if sent else "recorded",
            details={"strategy": p.get("strategy"), "capped": c.capped, "incident_id": p.get("incident_id")},
        )
    capped = [c.resource for c in targets if c.capped]
    return ActionResult({**body, "sent": sent is not None, "capped": capped})
