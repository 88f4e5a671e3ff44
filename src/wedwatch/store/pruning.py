"""One pruning pass: every kind of data past its retention window, in small batches, by one process.

The pass takes the `prune` lease (leases.py) and skips when another process holds it, so N receiver
replicas (and `wedwatch store prune` run by hand) never prune at once. Each batch is one short
transaction: rows picked, removed, and the lease renewed in the same transaction (a batch of a
pass whose lease was taken over rolls back and the pass stops). Between batches the pass sleeps
`pause_seconds`, and at least as long as the batch took, so that pruning never holds more than
about half of the database's time.

A batch is at most `batch_size` rows, and fewer when that takes too long: the pass halves its
batch when one took longer than the back end's BATCH_SECONDS and doubles it (up to batch_size)
when one took less than half of it. On SQLite the write lock is global: a webhook's ack waits for
the batch in progress, so a batch is kept to about the time of an ack (~5 ms, 250-500 rows on
this project's machines, against 20-45 ms for 2,000). On PostgreSQL a batch locks only the rows
it removes, which nothing else writes: acks compete only for CPU and disk, and 2,000 rows take
~8 ms; the bound only matters for very wide rows or slow disks. On SQLite databases created with
incremental auto-vacuum, the pages freed are handed back to the file system afterwards, a few at a
time (`Store.reclaim_space`).

On PostgreSQL, whose append-heavy tables are partitioned by day (partitions.py), a pass first makes
sure of the partitions of the days ahead of `at`, and before a partitioned kind's batches it drops
each partition whose rows are all past the window, one short transaction each (its lock wait
bounded, see partitions.py), with no pause: there is at most one a day per table once the windows
are full. The batches then remove what is left, in the partition holding the cutoff (and the
DEFAULT one). The report lists the partitions created and dropped.

The cutoffs are `at - window` (`at` defaults to now; `wedwatch store prune --at` shows what a date
would remove); the lease's times are always the wall clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wedwatch.errors import StoreError
from wedwatch.store.base import Store
from wedwatch.store.retention import KINDS, PRUNED_TABLES, Counts, Cutoffs
from wedwatch.store.transaction import utc_now

__all__ = ["LEASE", "LEASE_SECONDS", "PruneReport", "cutoffs_at", "prune"]

log = logging.getLogger(__name__)

LEASE = "prune"
# A batch and its pause take well under a second; a holder that died frees the lease this long after.
LEASE_SECONDS = 60.0
# How long one batch may take, per back end (see the module's docstring), and its bounds in rows.
BATCH_SECONDS = {"sqlite": 0.005, "postgres": 0.05}
FIRST_BATCH = 100
SMALLEST_BATCH = 20

Sleep = Callable[[float], Awaitable[None]]


class LeaseLost(Exception):
    """Another process took the prune lease over while this pass ran."""


@dataclass
class PruneReport:
    """What one pass removed (or, dry, would remove)."""

    at: datetime
    dry_run: bool
    windows: dict[str, timedelta | None]
    cutoffs: Cutoffs
    kinds: dict[str, int] = field(default_factory=dict)  # rows of each kind's own (last) table
    tables: Counts = field(default_factory=lambda: dict.fromkeys(PRUNED_TABLES, 0))
    skipped: bool = False  # another process held the lease
    holder: str | None = None  # who, when skipped
    lease_lost: bool = False  # taken over mid-pass (the pass stopped)
    batches: int = 0
    reclaimed_pages: int = 0
    seconds: float = 0.0
    partitions_created: list[str] = field(default_factory=list)  # PostgreSQL: day partitions made ahead
    partitions_dropped: list[str] = field(default_factory=list)  # PostgreSQL: partitions dropped whole

    @property
    def rows(self) -> int:
        """Rows removed (or counted) in every table."""
        return sum(self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        """The report as `wedwatch store prune --json` prints it."""

        def days(window: timedelta | None) -> float | None:
            return None if window is None else window / timedelta(days=1)

        return {
            "at": _iso(self.at),
            "dry_run": self.dry_run,
            "skipped": self.skipped,
            "holder": self.holder,
            "lease_lost": self.lease_lost,
            "seconds": round(self.seconds, 3),
            "batches": self.batches,
            "reclaimed_pages": self.reclaimed_pages,
            "kinds": {
                kind.name: {
                    "retention_days": days(self.windows.get(kind.name)),
                    "cutoff": _iso(self.cutoffs.get(kind.name)),
                    "rows": self.kinds.get(kind.name, 0),
                }
                for kind in KINDS
            },
            "tables": {table: {"rows": rows} for table, rows in sorted(self.tables.items())},
            "partitions": {"created": list(self.partitions_created), "dropped": list(self.partitions_dropped)},
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def cutoffs_at(windows: Mapping[str, timedelta | None], at: datetime) -> Cutoffs:
    """Each kind's cutoff (`at - window`; None when its window is None: kept forever)."""
    moment = utc_now(at)
    unknown = set(windows) - {kind.name for kind in KINDS}
    if unknown:
        raise ValueError(f"no such kind of data: {', '.join(sorted(unknown))}")
    return {kind.name: (None if (w := windows.get(kind.name)) is None else moment - w) for kind in KINDS}


async def prune(
    store: Store,
    windows: Mapping[str, timedelta | None],
    *,
    holder: str,
    at: datetime | None = None,
    batch_size: int = 2000,
    pause_seconds: float = 0.1,
    dry_run: bool = False,
    sleep: Sleep = asyncio.sleep,
    on_batch: Callable[[Counts], None] | None = None,
) -> PruneReport:
    """Run one pass (or count it, `dry_run`); the report says `skipped` when another holder had the lease.

    `on_batch` sees each committed batch's rows per table (the receiver counts them as they go).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    moment = utc_now(at)
    report = PruneReport(moment, dry_run, dict(windows), cutoffs_at(windows, moment))
    started = time.monotonic()
    if dry_run:
        # Counts only: no lease needed, nothing written.
        for kind in KINDS:
            if report.cutoffs[kind.name] is not None:
                _add(report, kind.name, kind.tables, await kind.count(store, report.cutoffs))
        report.seconds = time.monotonic() - started
        return report
    if not await store.acquire_lease(LEASE, holder, seconds=LEASE_SECONDS):
        lease = await store.get_lease(LEASE)
        report.skipped = True
        report.holder = str(lease["holder"]) if lease is not None else None
        report.seconds = time.monotonic() - started
        return report
    try:
        await _run(store, report, holder, batch_size, pause_seconds, sleep, on_batch)
    except LeaseLost:
        report.lease_lost = True
        log.warning("store %s: prune lease taken over by another process; pass stopped", store.url)
    finally:
        report.seconds = time.monotonic() - started
        if not report.lease_lost:
            await _release(store, holder)
    return report


async def _run(
    store: Store,
    report: PruneReport,
    holder: str,
    batch_size: int,
    pause_seconds: float,
    sleep: Sleep,
    on_batch: Callable[[Counts], None] | None,
) -> None:
    target = BATCH_SECONDS.get(store.dialect, 0.05)
    limit = min(batch_size, FIRST_BATCH)
    created = await store.ensure_partitions(report.at)
    report.partitions_created = sorted(name for name, outcome in created.items() if outcome == "created")
    partitioned = store.partitioned_kinds()
    before = {p.name for p in await store.list_partitions()} if partitioned else set()
    for kind in KINDS:
        if report.cutoffs[kind.name] is None:
            continue
        report.kinds[kind.name] = 0
        while kind.name in partitioned:
            async with store.transaction() as tx:
                if not await store.renew_lease(LEASE, holder, seconds=LEASE_SECONDS, tx=tx):
                    raise LeaseLost
                dropped = await store.drop_expired_partition(kind.name, report.cutoffs, tx=tx)
            if dropped is None:
                break
            report.batches += 1
            _add(report, kind.name, kind.tables, dropped)
            if on_batch is not None:
                on_batch(dropped)
        while True:
            began = time.monotonic()
            async with store.transaction() as tx:
                if not await store.renew_lease(LEASE, holder, seconds=LEASE_SECONDS, tx=tx):
                    raise LeaseLost
                counts, picked = await kind.prune(store, report.cutoffs, limit, tx)
            took = time.monotonic() - began
            report.batches += 1
            _add(report, kind.name, kind.tables, counts)
            if on_batch is not None:
                on_batch(counts)
            if picked < limit:
                break
            limit = _next_limit(limit, took, target, batch_size)
            await sleep(max(pause_seconds, took))
    if partitioned:
        report.partitions_dropped = sorted(before - {p.name for p in await store.list_partitions()})
    while True:
        began = time.monotonic()
        if not await store.renew_lease(LEASE, holder, seconds=LEASE_SECONDS):
            raise LeaseLost
        pages = await store.reclaim_space()
        report.reclaimed_pages += pages
        if not pages:
            break
        await sleep(max(pause_seconds, time.monotonic() - began))


def _next_limit(limit: int, took: float, target: float, most: int) -> int:
    if took > target:
        return max(min(SMALLEST_BATCH, most), limit // 2)
    if took < target / 2:
        return min(most, limit * 2)
    return limit


def _add(report: PruneReport, kind: str, tables: tuple[str, ...], counts: Counts) -> None:
    for table, rows in counts.items():
        report.tables[table] = report.tables.get(table, 0) + rows
    report.kinds[kind] = report.kinds.get(kind, 0) + counts.get(tables[-1], 0)


async def _release(store: Store, holder: str) -> None:
    try:
        await store.release_lease(LEASE, holder)
    except StoreError as exc:  # the lease lapses on its own within LEASE_SECONDS
        log.warning("store %s: releasing the prune lease failed: %s", store.url, exc)
