"""What the exporter's probes measured: aggregates per time bucket and critical-path samples."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from wedwatch.store.records import CriticalPathSample, ProbeAggregate
from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["ProbeResultMethods"]


class ProbeResultMethods(TransactionalStore):
    """Store methods on `wedding_performance_metrics` and `critical_path_metrics`."""

    async def record_probe_aggregates(self, rows: Iterable[ProbeAggregate], *, tx: Transaction | None = None) -> int:
        """Add probe aggregates to their buckets (counts and sums add up); the rows written."""
        params = [row.params() for row in rows]
        if not params:
            return 0
        async with self._joined(tx) as t:
            await t.executemany("upsert_probe_aggregate", params)
        return len(params)

    async def list_probe_aggregates(self, since: datetime, *, tx: Transaction | None = None) -> list[Row]:
        """Aggregates of the buckets starting at or after `since`, oldest first."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_probe_aggregates", {"since": utc_now(since)})

    async def record_critical_path(self, rows: Iterable[CriticalPathSample], *, tx: Transaction | None = None) -> int:
        """Store critical-path samples; a repeat of (wedding, observed_at) is ignored. The rows new."""
        params = [row.params() for row in rows]
        if not params:
            return 0
        async with self._joined(tx) as t:
            return await t.executemany("insert_critical_path", params)

    async def latest_critical_path(self, *, tx: Transaction | None = None) -> list[Row]:
        """The newest critical-path sample of each wedding."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("latest_critical_path")
