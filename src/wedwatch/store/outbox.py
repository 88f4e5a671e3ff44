"""The action outbox: actions decided for incidents, claimed by workers under a lease.

An action is enqueued in the same transaction as the incident that asked for it, keyed by an
idempotency key (incident + action), so a duplicate notification can never enqueue it twice.
Workers claim due actions with a lease; an action whose lease ran out (its worker died) is due
again. Delivery is therefore at least once, and actions must tolerate a repeat.

Claims go by priority (`action_priority`: emergency, urgent, standard, then `log`), oldest first
within one, so that a storm's backlog of `log` actions never holds back a live wedding's action.
An action that needs no worker (`log`) can be recorded already final in the same insert
(`FinishedAction`): it keeps its idempotency key and its row, without a claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wedwatch.store.records import ActionFinish, ActionRow
from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["OutboxMethods", "FinishedAction", "action_priority", "ACTION_STATUSES", "FINAL_ACTION_STATUSES", "PRIORITIES"]

ACTION_STATUSES = ("pending", "running", "done", "failed", "skipped")
FINAL_ACTION_STATUSES = ("done", "failed", "skipped")
# Claim order: lower first. Migration 0005 backfills existing rows with the same rule.
PRIORITIES = {"emergency": 0, "urgent": 1, "standard": 2, "log": 3}
_UNRANKED = PRIORITIES["standard"]  # actions no strategy asked for (a forecast's pre-ceremony plan)


def action_priority(action: str, params: Mapping[str, Any]) -> int:
    """Where an action stands in the claim order: `log` last, the others by their strategy."""
    if action == "log":
        return PRIORITIES["log"]
    return PRIORITIES.get(str(params.get("strategy")), _UNRANKED)


@dataclass(frozen=True, slots=True)
class FinishedAction:
    """An action recorded already final when it is queued (it needs no worker): done or skipped at `row.created_at`.

    `completes_response`: a done action that also completes its incident's response (effectiveness
    runs from it), as the worker's done actions do.
    """

    row: ActionRow
    status: str
    result: Mapping[str, Any] | None = None
    error: str | None = None
    completes_response: bool = False

    def values(self) -> dict[str, Any]:
        """The row as named query parameters of `insert_actions`."""
        if self.status not in FINAL_ACTION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_ACTION_STATUSES)}, not {self.status!r}")
        at = utc_now(self.row.created_at)
        return _pending(self.row) | {
            "status": self.status, "attempts": 1, "started_at": at, "finished_at": at,
            "result": dict(self.result) if self.result is not None else None, "error": self.error,
        }  # fmt: skip


def _pending(row: ActionRow) -> dict[str, Any]:
    return row.values() | {
        "status": "pending", "attempts": 0, "priority": action_priority(row.action, row.params),
        "started_at": None, "finished_at": None, "result": None, "error": None,
    }  # fmt: skip


class OutboxMethods(TransactionalStore):
    """Store methods on `action_outbox`."""

    async def enqueue_action(
        self,
        incident_id: int | None,
        action: str,
        idempotency_key: str,
        params: Mapping[str, Any],
        *,
        target: str | None = None,
        not_before: datetime | None = None,
        now: datetime | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Queue an action unless its idempotency key is already queued; True when new."""
        created_at = utc_now(now)
        values = {
            "idempotency_key": idempotency_key,
            "incident_id": incident_id,
            "action": action,
            "target": target,
            "params": dict(params),
            "not_before": utc_now(not_before) if not_before is not None else created_at,
            "created_at": created_at,
            "priority": action_priority(action, params),
        }
        async with self._joined(tx) as t:
            return await t.fetchone("insert_action", values) is not None

    async def enqueue_actions(
        self,
        actions: Sequence[ActionRow],
        *,
        finished: Sequence[FinishedAction] = (),
        tx: Transaction | None = None,
    ) -> int:
        """`enqueue_action` for many actions, in order, and `finished` ones recorded final, in one
        statement; how many were new."""
        rows = [_pending(a) for a in actions] + [f.values() for f in finished]
        if not rows:
            return 0
        completions = [
            {"incident_id": f.row.incident_id, "completed_at": utc_now(f.row.created_at)}
            for f in finished
            if f.completes_response and f.status == "done" and f.row.incident_id is not None
        ]
        async with self._joined(tx) as t:
            new = await t.execute("insert_actions", {"rows": rows})
            if completions:
                await t.execute("complete_responses", {"rows": completions})
            return new

    async def claim_actions(
        self,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        now: datetime,
        *,
        tx: Transaction | None = None,
    ) -> list[Row]:
        """Take up to `limit` due actions for `worker_id` until `now + lease_seconds`: expired leases,
        then by priority, oldest first within one."""
        if limit <= 0:
            return []
        now = utc_now(now)
        values = {
            "worker_id": worker_id,
            "limit": limit,
            "now": now,
            "lease_until": now + timedelta(seconds=lease_seconds),
        }
        async with self._joined(tx) as t:
            rows = await t.fetchall("claim_actions", values)
        # RETURNING gives no order on either dialect.
        return sorted(rows, key=lambda row: (row["priority"], row["not_before"], row["id"]))

    async def finish_action(
        self,
        action_id: int,
        status: str,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
        *,
        now: datetime | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Record an action's outcome (done, failed or skipped); False if it was already final."""
        finish = ActionFinish(action_id, status, utc_now(now), result, error)
        return await self.finish_actions([finish], tx=tx) == 1

    async def finish_actions(self, finishes: Sequence[ActionFinish], *, tx: Transaction | None = None) -> int:
        """`finish_action` for many actions, in one round trip; how many were not already final."""
        for finish in finishes:
            if finish.status not in FINAL_ACTION_STATUSES:
                raise ValueError(
                    f"status must be one of {', '.join(FINAL_ACTION_STATUSES)}, not {finish.status!r}"
                )
            utc_now(finish.finished_at)  # refuses a naive instant, as every store method does
        if not finishes:
            return 0
        rows = [f.values() for f in finishes]
        async with self._joined(tx) as t:
            return await t.executemany("finish_action", rows)

    async def release_action(
        self,
        action_id: int,
        *,
        not_before: datetime,
        error: str | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Put a claimed action back to pending, due again at `not_before` (a retry with backoff)."""
        values = {"id": action_id, "not_before": utc_now(not_before), "error": error}
        async with self._joined(tx) as t:
            return await t.execute("release_action", values) == 1

    async def get_action(self, action_id: int, *, tx: Transaction | None = None) -> Row | None:
        """One outbox row by id."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchone("get_action", {"id": action_id})

    async def list_actions(self, incident_id: int, *, tx: Transaction | None = None) -> list[Row]:
        """The actions queued for an incident, in the order they were queued."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_actions_for_incident", {"incident_id": incident_id})

    async def recent_actions(self, since: datetime, *, tx: Transaction | None = None) -> list[Row]:
        """Actions started at or after `since` (what cooldowns and the hourly budget count)."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("recent_actions", {"since": utc_now(since)})
