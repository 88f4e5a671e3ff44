"""Incidents: one row per alert (fingerprint, startsAt), created once and updated by every later delivery.

Besides the one-incident methods, a notification's incidents are read and written in batches
(many rows per statement, values.py's row sets) so that ingesting it costs a few statements
whatever the number of its alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from wedwatch.errors import StoreError
from wedwatch.store.records import IncidentRow
from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["IncidentMethods", "INCIDENT_STATUSES", "IncidentKey"]

INCIDENT_STATUSES = ("firing", "resolved")
IncidentKey = tuple[str, datetime]  # (fingerprint, starts_at)


def _check_status(status: str) -> None:
    if status not in INCIDENT_STATUSES:
        raise ValueError(f"status must be firing or resolved, not {status!r}")


def _key(row: Row) -> IncidentKey:
    return str(row["fingerprint"]), row["starts_at"]


class IncidentMethods(TransactionalStore):
    """Store methods on `performance_alerts`."""

    async def upsert_incident(
        self,
        *,
        fingerprint: str,
        starts_at: datetime,
        alertname: str,
        status: str,
        severity: str,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        seen_at: datetime | None = None,
        escalated_severity: str | None = None,
        strategy: str | None = None,
        wedding_id: str | None = None,
        operation: str | None = None,
        generator_url: str | None = None,
        ends_at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> tuple[int, bool]:
        """Create the incident (fingerprint, starts_at) or update it; (id, created)."""
        # A repeat updates status, ends_at and last_seen_at only: severity, strategy and the rest
        # stay as first decided. resolved_at is the first time it was seen resolved, cleared if
        # a later delivery says it fires again; last_seen_at never moves backwards.
        _check_status(status)
        seen = utc_now(seen_at)
        values = {
            "fingerprint": fingerprint,
            "starts_at": utc_now(starts_at),
            "alertname": alertname,
            "status": status,
            "severity": severity,
            "escalated_severity": escalated_severity,
            "strategy": strategy,
            "wedding_id": wedding_id,
            "operation": operation,
            "labels": dict(labels),
            "annotations": dict(annotations),
            "generator_url": generator_url,
            "ends_at": utc_now(ends_at) if ends_at is not None else None,
            "seen_at": seen,
            "resolved_at": seen if status == "resolved" else None,
        }
        async with self._joined(tx) as t:
            # Two statements rather than one upsert: only the INSERT's RETURNING says portably
            # whether the row is new. A concurrent insert of the same key makes ours wait and do
            # nothing, and the UPDATE then sees the committed row.
            inserted = await t.fetchone("insert_incident", values)
            if inserted is not None:
                return int(inserted["id"]), True
            updated = await t.fetchone("update_incident", values)
        if updated is None:
            raise StoreError(f"incident {fingerprint}@{starts_at.isoformat()} vanished during the upsert")
        return int(updated["id"]), False

    async def get_incident(self, incident_id: int, *, tx: Transaction | None = None) -> Row | None:
        """One incident by id."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchone("get_incident", {"id": incident_id})

    async def list_incidents(
        self, status: str | None = None, limit: int = 100, *, tx: Transaction | None = None
    ) -> list[Row]:
        """Incidents, most recently seen first, optionally only those with `status`."""
        async with self._joined(tx, readonly=True) as t:
            if status is None:
                return await t.fetchall("list_incidents", {"limit": limit})
            return await t.fetchall("list_incidents_by_status", {"status": status, "limit": limit})

    # -- batches: one notification's alerts -----------------------------------------------

    async def find_incidents(
        self, keys: Iterable[IncidentKey], since: datetime, *, tx: Transaction | None = None
    ) -> tuple[dict[IncidentKey, int], dict[str, int]]:
        """For a notification's alerts, in one statement: the ids of the incidents that exist among
        `keys` (fingerprint, starts_at), and per fingerprint how many incidents started since
        `since` (`count_incident_starts_since`, for flap gating; absent: 0)."""
        wanted = {(fingerprint, utc_now(starts_at)) for fingerprint, starts_at in keys}
        if not wanted:
            return {}, {}
        since = utc_now(since)
        rows = [{"fingerprint": fingerprint, "starts_at": starts_at} for fingerprint, starts_at in sorted(wanted)]
        async with self._joined(tx, readonly=True) as t:
            found = await t.fetchall("find_incidents", {"rows": rows, "since": since})
        known: dict[IncidentKey, int] = {}
        starts: dict[str, int] = {}
        for row in found:
            key = _key(row)
            if key in wanted:
                known[key] = int(row["id"])
            if key[1] >= since:
                starts[key[0]] = starts.get(key[0], 0) + 1
        return known, starts

    async def insert_incidents(
        self, incidents: Sequence[IncidentRow], *, tx: Transaction | None = None
    ) -> dict[IncidentKey, int]:
        """Create the incidents whose key is not taken, in order, in one statement; {key: id} of those created.

        A key taken by a concurrent transaction makes the statement wait for it, then skip that
        row: it is not in the answer, and the caller updates it instead (as `upsert_incident`).
        """
        for incident in incidents:
            _check_status(incident.status)
        if not incidents:
            return {}
        async with self._joined(tx) as t:
            created = await t.fetchall("insert_incidents", {"rows": [i.params() for i in incidents]})
        return {_key(row): int(row["id"]) for row in created}

    async def update_incidents(
        self, deliveries: Sequence[IncidentRow], *, tx: Transaction | None = None
    ) -> list[int]:
        """Apply later deliveries to existing incidents (`upsert_incident`'s update), one statement each
        in order but in one round trip; their ids, in the same order."""
        for delivery in deliveries:
            _check_status(delivery.status)
        if not deliveries:
            return []
        async with self._joined(tx) as t:
            results = await t.fetch_each("update_incident", [d.params() for d in deliveries])
        ids = []
        for delivery, rows in zip(deliveries, results, strict=True):
            if not rows:
                raise StoreError(
                    f"incident {delivery.fingerprint}@{delivery.starts_at.isoformat()} vanished during the upsert"
                )
            ids.append(int(rows[0]["id"]))
        return ids
