"""Probe results into the store, aggregated: one row per (tracked wedding, operation, 5-minute bucket).

Every probe forever would be ~50 million rows a month at 2,000 tracked weddings; buckets keep
counts, sums and maxima instead. Untracked weddings (a month and more away, or past the tracked
cap) have no rows of their own, as they have no series of their own in /metrics: their results add
up in one row per (phase, operation, bucket) (`untracked_wedding_id`), so that the rows written
follow the tracked weddings, not the calendar (at 50,000 weddings, per-wedding rows were ~28.8
million a day). Critical-path readings are sampled once a minute per tracked wedding (the gauges'
weddings). A dead database never stops probing: rows wait in memory (bounded) for the next flush.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from wedwatch.errors import StoreError
from wedwatch.exporter.probes.base import ProbeResult
from wedwatch.store.records import CriticalPathSample, ProbeAggregate, untracked_wedding_id

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["Recorder"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Bucket:
    tier: str
    phase: str
    probes: int = 0
    failures: int = 0
    duration_sum: float = 0.0
    duration_max: float = 0.0
    last_reason: str | None = None


class Recorder:
    """Accumulates results between flushes and writes them in one transaction."""

    def __init__(
        self,
        store: Store,
        *,
        bucket_seconds: int = 300,
        flush_interval_seconds: float = 30.0,
        critical_path_every_seconds: float = 60.0,
        max_pending: int = 100_000,
    ) -> None:
        self.store = store
        self.bucket_seconds = bucket_seconds
        self.flush_interval_seconds = flush_interval_seconds
        self.critical_path_every_seconds = critical_path_every_seconds
        self.max_pending = max_pending
        self._buckets: dict[tuple[str, str, float], _Bucket] = {}
        self._samples: list[CriticalPathSample] = []
        self._last_sample: dict[str, float] = {}
        self.dropped = 0

    def add(
        self,
        wedding_id: str,
        operation: str,
        tier: str,
        phase: str,
        result: ProbeResult,
        timestamp: float,
        *,
        tracked: bool = True,
    ) -> None:
        """Fold one result into its bucket: the wedding's own when tracked (sampling its critical path), else its phase's."""
        start = timestamp - timestamp % self.bucket_seconds
        key = (wedding_id if tracked else untracked_wedding_id(phase), operation, start)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_pending:
                self.dropped += 1
                return
            bucket = self._buckets[key] = _Bucket(tier, phase)
        bucket.probes += 1
        bucket.duration_sum += result.duration_seconds
        bucket.duration_max = max(bucket.duration_max, result.duration_seconds)
        if not result.success:
            bucket.failures += 1
            bucket.last_reason = result.reason
        if tracked and operation == "critical_path" and result.success:
            if timestamp - self._last_sample.get(wedding_id, float("-inf")) >= self.critical_path_every_seconds:
                self._last_sample[wedding_id] = timestamp
                self._samples.append(_sample(wedding_id, timestamp, result))
                if len(self._samples) > self.max_pending:
                    del self._samples[: len(self._samples) - self.max_pending]

    async def flush(self) -> bool:
        """Write what is pending; on a store error keep it for the next try. True when written."""
        if not self._buckets and not self._samples:
            return True
        buckets, samples = self._buckets, self._samples
        self._buckets, self._samples = {}, []
        rows = [
            ProbeAggregate(
                wedding_id=wid,
                operation=op,
                bucket_start=datetime.fromtimestamp(start, UTC),
                bucket_seconds=self.bucket_seconds,
                tier=b.tier,
                phase=b.phase,
                probes=b.probes,
                failures=b.failures,
                duration_sum_seconds=b.duration_sum,
                duration_max_seconds=b.duration_max,
                last_reason=b.last_reason,
            )
            for (wid, op, start), b in buckets.items()
        ]
        try:
            async with self.store.transaction() as tx:
                await self.store.record_probe_aggregates(rows, tx=tx)
                await self.store.record_critical_path(samples, tx=tx)
        except (StoreError, OSError) as exc:
            log.warning("store write failed, will retry: %s", exc)
            self._merge_back(buckets, samples)
            return False
        return True

    def _merge_back(self, buckets: dict[tuple[str, str, float], _Bucket], samples: list[CriticalPathSample]) -> None:
        for key, old in buckets.items():
            new = self._buckets.get(key)
            if new is None:
                self._buckets[key] = old
                continue
            new.probes += old.probes
            new.failures += old.failures
            new.duration_sum += old.duration_sum
            new.duration_max = max(new.duration_max, old.duration_max)
            new.last_reason = new.last_reason or old.last_reason
        self._samples[:0] = samples

    async def run(self) -> None:
        """Flush on an interval until cancelled."""
        while True:
            await asyncio.sleep(self.flush_interval_seconds)
            await self.flush()


def _sample(wedding_id: str, timestamp: float, result: ProbeResult) -> CriticalPathSample:
    r = result.readings

    def whole(name: str) -> int | None:
        return int(r[name]) if name in r else None

    return CriticalPathSample(
        wedding_id=wedding_id,
        observed_at=datetime.fromtimestamp(timestamp, UTC),
        guests_checked_in=whole("guests_checked_in"),
        guests_expected=whole("guests_expected"),
        next_milestone_delay_seconds=r.get("next_milestone_delay_seconds"),
        vendors_confirmed=whole("vendors_confirmed"),
        vendors_booked=whole("vendors_booked"),
        open_incidents=whole("open_incidents"),
        incident_response_seconds=r.get("incident_response_seconds"),
    )
