"""log: write the decision to the log; the outbox row is the record."""

from __future__ import annotations

from wedwatch.receiver.actions.base import ActionContext, ActionResult, log


async def run(ctx: ActionContext) -> ActionResult:
    """Log one line about the incident and what was decided."""
    p = ctx.params
    log.info(
        "incident %s: %s severity=%s strategy=%s wedding=%s operation=%s",
        p.get("incident_id"), p.get("alertname"), p.get("severity"), p.get("strategy"),
        p.get("wedding_id") or "-", p.get("operation") or "-",
    )  # fmt: skip
    return ActionResult({"logged": True})
