"""log: write the decision to the log; the outbox row is the record.

Ingest records `log` actions done at decision time (receiver/ingest.py) and writes the line once
they are committed; `run` serves rows queued before that (and any a worker still claims).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wedwatch.receiver.actions.base import ActionContext, ActionResult, log

RESULT: Mapping[str, Any] = {"logged": True}  # what a done `log` row holds


async def run(ctx: ActionContext) -> ActionResult:
    """Log one line about the incident and what was decided."""
    write(ctx.params)
    return ActionResult(RESULT)


def write(p: Mapping[str, Any]) -> None:
    """The line itself: ingest writes it at decision time, where `log` actions are recorded done."""
    log.info(
        "incident %s: %s severity=%s strategy=%s wedding=%s operation=%s",
        p.get("incident_id"), p.get("alertname"), p.get("severity"), p.get("strategy"),
        p.get("wedding_id") or "-", p.get("operation") or "-",
    )  # fmt: skip
