"""What the receiver did about incidents and how well it worked: responses and optimizations.

A degradation response is the decision taken for one incident (at most one per incident); its
effectiveness is the time from the first completed action to the incident's end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from wedwatch.store.records import ResponseRow
from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["ResponseMethods"]


class ResponseMethods(TransactionalStore):
    """Store methods on `degradation_responses` and `optimization_results`."""

    async def record_response(
        self,
        *,
        incident_id: int,
        strategy: str,
        severity: str,
        decided_at: datetime,
        wedding_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Record the decision taken for an incident unless one is recorded; True when new."""
        values = {
            "incident_id": incident_id,
            "strategy": strategy,
            "severity": severity,
            "wedding_id": wedding_id,
            "decided_at": utc_now(decided_at),
            "details": dict(details or {}),
        }
        async with self._joined(tx) as t:
            return await t.fetchone("insert_response", values) is not None

    async def complete_response_action(
        self, incident_id: int, completed_at: datetime, *, tx: Transaction | None = None
    ) -> bool:
        """Note an action of the incident's response completed; True if it is the earliest so far."""
        return await self.complete_response_actions([(incident_id, completed_at)], tx=tx) == 1

    async def complete_response_actions(
        self, completions: Sequence[tuple[int, datetime]], *, tx: Transaction | None = None
    ) -> int:
        """`complete_response_action` for many (incident id, completed at), in one round trip; how
        many were the earliest so far."""
        if not completions:
            return 0
        rows = [{"incident_id": incident_id, "completed_at": utc_now(at)} for incident_id, at in completions]
        async with self._joined(tx) as t:
            return await t.executemany("complete_response_action", rows)

    async def resolve_response(
        self,
        incident_id: int,
        resolved_at: datetime,
        outcome: str,
        *,
        tx: Transaction | None = None,
    ) -> Row | None:
        """Close the incident's response once; the updated row, or None if none was open."""
        # resolution_seconds runs from the first completed action to `resolved_at` (the alert's
        # endsAt), None when no action completed. Computed here: the dialects share no
        # timestamp arithmetic.
        resolved_at = utc_now(resolved_at)
        async with self._joined(tx) as t:
            current = await t.fetchone("get_response", {"incident_id": incident_id})
            if current is None or current["resolved_at"] is not None:
                return None
            first: datetime | None = current["first_action_completed_at"]
            seconds = max(0.0, (resolved_at - first).total_seconds()) if first is not None else None
            values = {
                "incident_id": incident_id,
                "resolved_at": resolved_at,
                "resolution_seconds": seconds,
                "outcome": outcome,
            }
            return await t.fetchone("resolve_response", values)

    async def record_responses(self, responses: Sequence[ResponseRow], *, tx: Transaction | None = None) -> int:
        """`record_response` for many incidents, in order, in one statement; how many were new."""
        if not responses:
            return 0
        async with self._joined(tx) as t:
            return await t.execute("insert_responses", {"rows": [r.params() for r in responses]})

    async def resolve_responses(
        self,
        resolutions: Sequence[tuple[int, datetime]],
        outcome: Callable[[Row], str],
        *,
        tx: Transaction | None = None,
    ) -> list[Row | None]:
        """`resolve_response` for many (incident_id, resolved_at), in order, in two round trips.

        `outcome(response)` names each outcome from the open response. The answer has one entry per
        resolution: the closed row, or None when none was open (an incident repeated in
        `resolutions` is closed by its first entry only).
        """
        resolutions = [(incident_id, utc_now(resolved_at)) for incident_id, resolved_at in resolutions]
        if not resolutions:
            return []
        async with self._joined(tx) as t:
            ids = list(dict.fromkeys(incident_id for incident_id, _ in resolutions))
            current = await t.fetch_each("get_response", [{"incident_id": i} for i in ids])
            open_ = {i: rows[0] for i, rows in zip(ids, current, strict=True) if rows and rows[0]["resolved_at"] is None}
            closing: list[int] = []
            values = []
            for index, (incident_id, resolved_at) in enumerate(resolutions):
                response = open_.pop(incident_id, None)
                if response is None:
                    continue
                first: datetime | None = response["first_action_completed_at"]
                seconds = max(0.0, (resolved_at - first).total_seconds()) if first is not None else None
                closing.append(index)
                values.append(
                    {
                        "incident_id": incident_id,
                        "resolved_at": resolved_at,
                        "resolution_seconds": seconds,
                        "outcome": outcome(response),
                    }
                )
            closed = await t.fetch_each("resolve_response", values)
        answer: list[Row | None] = [None] * len(resolutions)
        for index, rows in zip(closing, closed, strict=True):
            answer[index] = rows[0] if rows else None
        return answer

    async def get_response(self, incident_id: int, *, tx: Transaction | None = None) -> Row | None:
        """The response recorded for an incident, if any."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchone("get_response", {"incident_id": incident_id})

    async def list_responses(self, limit: int = 100, *, tx: Transaction | None = None) -> list[Row]:
        """The most recent responses, newest decision first."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_responses", {"limit": limit})

    async def record_optimization(
        self,
        *,
        kind: str,
        resource: str,
        executed_at: datetime,
        outcome: str,
        details: Mapping[str, Any] | None = None,
        wedding_id: str | None = None,
        before_value: float | None = None,
        after_value: float | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Record an optimization (scale, cache warm…); False when its idempotency key is known."""
        values = {
            "idempotency_key": idempotency_key,
            "kind": kind,
            "resource": resource,
            "wedding_id": wedding_id,
            "before_value": before_value,
            "after_value": after_value,
            "executed_at": utc_now(executed_at),
            "dry_run": dry_run,
            "outcome": outcome,
            "details": dict(details or {}),
        }
        async with self._joined(tx) as t:
            return await t.fetchone("insert_optimization", values) is not None

    async def list_optimizations(self, limit: int = 100, *, tx: Transaction | None = None) -> list[Row]:
        """The most recent optimizations, newest first."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_optimizations", {"limit": limit})
