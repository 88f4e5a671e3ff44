"""State the receiver's replicas share: the action gate's counts, emergency mode, the kill switch.

Everything here lives in the database so that N receivers behind a load balancer agree: one
emergency period at a time (a UNIQUE column admits one open row), one budget (counted under a
lock that replicas take in turn), one kill switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["ReceiverStateMethods"]


async def _count(t: Transaction, name: str, values: dict[str, object]) -> int:
    row = await t.fetchone(name, values)
    return int(row["n"]) if row is not None else 0


class ReceiverStateMethods(TransactionalStore):
    """Store methods for the receiver's shared state."""

    async def lock_actions(self, *, tx: Transaction) -> None:
        """Take the action gate's lock until `tx` ends (replicas take turns)."""
        await tx.fetchone("lock_actions")

    async def count_actions_run_since(self, since: datetime, *, tx: Transaction | None = None) -> int:
        """Actions that ran or are running since `since` (the hourly budget's spend)."""
        async with self._joined(tx, readonly=True) as t:
            return await _count(t, "count_actions_run_since", {"since": utc_now(since)})

    async def count_target_actions_since(
        self, action: str, target: str, since: datetime, *, exclude_id: int, tx: Transaction | None = None
    ) -> int:
        """Runs of `action` on `target` since `since`, other than `exclude_id` (the cooldown)."""
        values = {"action": action, "target": target, "since": utc_now(since), "id": exclude_id}
        async with self._joined(tx, readonly=True) as t:
            return await _count(t, "count_target_actions_since", values)

    async def count_incident_starts_since(
        self, fingerprint: str, since: datetime, *, tx: Transaction | None = None
    ) -> int:
        """How often one alert started firing since `since` (flap detection)."""
        async with self._joined(tx, readonly=True) as t:
            return await _count(t, "count_incident_starts_since", {"fingerprint": fingerprint, "since": utc_now(since)})

    async def skip_pending_actions(
        self, incident_id: int, reason: str, *, now: datetime | None = None, tx: Transaction | None = None
    ) -> int:
        """Mark an incident's not-yet-run actions skipped; how many."""
        values = {"incident_id": incident_id, "reason": reason, "now": utc_now(now)}
        async with self._joined(tx) as t:
            return await t.execute("skip_pending_actions", values)

    async def skip_pending_actions_each(
        self, incident_ids: Sequence[int], reason: str, *, now: datetime | None = None, tx: Transaction | None = None
    ) -> int:
        """`skip_pending_actions` for many incidents, in order, in one round trip; how many were skipped."""
        if not incident_ids:
            return 0
        moment = utc_now(now)
        values = [{"incident_id": i, "reason": reason, "now": moment} for i in incident_ids]
        async with self._joined(tx) as t:
            return await t.executemany("skip_pending_actions", values)

    async def list_firing_incidents(self, since: datetime, limit: int = 500, *, tx: Transaction | None = None) -> list[Row]:
        """Incidents firing and seen since `since`, newest first."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_firing_incidents_since", {"since": utc_now(since), "limit": limit})

    async def count_firing_emergency_incidents(self, since: datetime, *, tx: Transaction | None = None) -> int:
        """Emergency-strategy incidents still firing (seen since `since`)."""
        async with self._joined(tx, readonly=True) as t:
            return await _count(t, "count_firing_emergency_incidents", {"since": utc_now(since)})

    async def last_emergency_resolution(self, *, tx: Transaction | None = None) -> datetime | None:
        """When the last emergency-strategy incident ended."""
        async with self._joined(tx, readonly=True) as t:
            row = await t.fetchone("last_emergency_resolution")
        value = row["ends_at"] if row else None
        return value if isinstance(value, datetime) else None

    async def enter_emergency(
        self,
        *,
        entered_at: datetime,
        reason: str,
        incident_id: int | None = None,
        wedding_id: str | None = None,
        tx: Transaction | None = None,
    ) -> Row | None:
        """Open an emergency period unless one is open; the new row, or None."""
        values = {
            "entered_at": utc_now(entered_at),
            "reason": reason,
            "incident_id": incident_id,
            "wedding_id": wedding_id,
        }
        async with self._joined(tx) as t:
            return await t.fetchone("enter_emergency", values)

    async def active_emergency(self, *, tx: Transaction | None = None) -> Row | None:
        """The open emergency period, if any."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchone("active_emergency")

    async def exit_emergency(self, *, exited_at: datetime, reason: str, tx: Transaction | None = None) -> Row | None:
        """Close the open emergency period; the closed row, or None when none was open."""
        async with self._joined(tx) as t:
            return await t.fetchone("exit_emergency", {"exited_at": utc_now(exited_at), "reason": reason})

    async def list_emergency_events(self, limit: int = 50, *, tx: Transaction | None = None) -> list[Row]:
        """Emergency periods, newest first."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_emergency_events", {"limit": limit})

    async def get_automation(self, *, tx: Transaction | None = None) -> Row | None:
        """The kill switch as last set through the API (None: never set)."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchone("get_automation")

    async def set_automation(
        self, *, enabled: bool, reason: str | None, updated_by: str | None, now: datetime | None = None,
        tx: Transaction | None = None,
    ) -> Row:
        """Set the kill switch; the stored row."""
        values = {"enabled": enabled, "reason": reason, "updated_by": updated_by, "updated_at": utc_now(now)}
        async with self._joined(tx) as t:
            row = await t.fetchone("set_automation", values)
        assert row is not None
        return row
