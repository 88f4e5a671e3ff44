"""Due plan steps into the store: outbox entries with `forecast.mode: act`, recommendations otherwise.

A step is due from its time until `max_lateness` after it: a scale-up found three hours late is
no longer worth doing. In `act` mode each due step becomes one `action_outbox` entry (no incident)
keyed by the step's idempotency key, so planning and dispatching again never enqueue it twice; the
receiver's workers carry it out like any other action. In `recommend` mode (the default) nothing
is executed: each target is recorded in `optimization_results` with outcome `recommended`, keyed
the same way, so the record also appears once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from wedwatch.forecast.plan import PlanStep

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["DispatchResult", "dispatch_due", "due_steps"]


@dataclass(frozen=True)
class DispatchResult:
    """Idempotency keys of the steps newly enqueued or recorded, and of those already known."""

    mode: str
    new: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)


def due_steps(steps: Sequence[PlanStep], now: datetime, max_lateness: timedelta) -> list[PlanStep]:
    """The steps whose time has come and is not more than `max_lateness` past."""
    return [s for s in steps if s.at <= now < s.at + max_lateness]


async def dispatch_due(
    store: Store,
    steps: Sequence[PlanStep],
    *,
    now: datetime,
    mode: Literal["recommend", "act"],
    max_lateness: timedelta = timedelta(hours=1),
) -> DispatchResult:
    """Enqueue (act) or record (recommend) the due steps, each at most once."""
    result = DispatchResult(mode)
    due = due_steps(steps, now, max_lateness)
    if not due:
        return result
    async with store.transaction() as tx:
        for step in due:
            params = {**step.to_dict(), "source": "forecast"}
            if mode == "act":
                new = await store.enqueue_action(None, step.action, step.key, params, not_before=step.at, now=now, tx=tx)
            else:
                new = False
                # One row per resource, as the receiver records what it changed; a cache warm
                # without a size still gets its row.
                targets: dict[str, float | None] = {**step.targets} or {"cache": None}
                for resource, target in targets.items():
                    added = await store.record_optimization(
                        kind=step.action,
                        resource=resource,
                        executed_at=now,
                        outcome="recommended",
                        details=params,
                        wedding_id=step.wedding_id,
                        after_value=target,
                        idempotency_key=f"{step.key}:{resource}",
                        tx=tx,
                    )
                    new = new or added
            (result.new if new else result.known).append(step.key)
    return result
