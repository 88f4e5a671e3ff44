"""Day partitions of the append-heavy tables on PostgreSQL (migration 0007; docs/store.md, "Partitions").

`wedding_performance_metrics`, `critical_path_metrics` and `notifications` are partitioned by their
time column, one partition per UTC day (`<table>_pYYYYMMDD`), with a DEFAULT partition for rows no
day covers. `ensure_partitions` creates the days from `now`'s to DAYS_AHEAD after it (every start,
through `Store.migrate`, and every pruning pass); the retention methods drop a partition whole once
every row of it is past its window (`drop_partition_before`) and remove the rest in batches.

DDL here waits at most LOCK_TIMEOUT_MS for its locks, then gives up until a later try: attaching
a day locks the DEFAULT partition and dropping one locks the whole table, and a webhook's ack,
which reads every partition of `notifications` for its dedup key, never waits behind either for
longer. SQLite has no partitions: every method here is a no-op there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from wedwatch.store.transaction import Transaction, TransactionalStore, utc_now

__all__ = ["DAYS_AHEAD", "LOCK_TIMEOUT_MS", "PARTITIONED", "Partition", "PartitionMethods", "partition_name"]

log = logging.getLogger(__name__)

# Partitioned table -> its partition column (PostgreSQL).
PARTITIONED: Mapping[str, str] = {
    "wedding_performance_metrics": "bucket_start",
    "critical_path_metrics": "observed_at",
    "notifications": "received_at",
}
# A week of day partitions ahead: rows land in the DEFAULT partition only after a week without any
# start or pruning pass. Empty partitions cost a few catalog rows and an 8 KiB page per index.
DAYS_AHEAD = 7
# How long partition DDL waits for a lock before giving up (an ack queued behind it waits no longer).
LOCK_TIMEOUT_MS = 100
# After a drop gave up on its lock, the partition's rows go in batches and the drop is retried this much later.
RETRY_BUSY_SECONDS = 300.0

_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def partition_name(table: str, day: date) -> str:
    """The name of `table`'s partition of the UTC day `day`."""
    return f"{table}_p{day:%Y%m%d}"


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition: its rows' times are in [lower, upper); None is unbounded (the legacy partition's lower)."""

    table: str
    name: str
    lower: datetime | None
    upper: datetime | None
    is_default: bool = False

    def before(self, cutoff: datetime) -> bool:
        """True when every row it can hold is older than `cutoff` (never the DEFAULT partition)."""
        return not self.is_default and self.upper is not None and self.upper <= cutoff

    def covers(self, low: datetime, high: datetime) -> bool:
        """True when [low, high) lies within its bounds."""
        return (
            not self.is_default
            and (self.lower is None or self.lower <= low)
            and self.upper is not None
            and high <= self.upper
        )


class PartitionMethods(TransactionalStore):
    """Store methods that create, list and drop partitions."""

    _busy: dict[str, float]

    @property
    def partitioned_tables(self) -> Mapping[str, str]:
        """Partitioned table -> its partition column, on this back end ({} on SQLite)."""
        return PARTITIONED if self.dialect == "postgres" else {}

    async def list_partitions(self, table: str | None = None, *, tx: Transaction | None = None) -> list[Partition]:
        """The partitions of `table` (default: of every partitioned table), oldest first, the DEFAULT one last."""
        if not self.partitioned_tables:
            return []
        async with self._joined(tx, readonly=True) as t:
            rows = await t.fetchall("list_partitions")
        found = [
            Partition(str(r["parent"]), str(r["name"]), r["lower_bound"], r["upper_bound"], bool(r["is_default"]))
            for r in rows
        ]
        return [p for p in found if table is None or p.table == table]

    async def ensure_partitions(self, now: datetime | None = None, *, days_ahead: int = DAYS_AHEAD) -> dict[str, str]:
        """Create the day partitions from `now`'s UTC day to `days_ahead` days after; {partition: outcome} of those tried.

        Outcomes: `created`, `exists` (another process was first), `default_has_rows` (the DEFAULT
        partition holds rows of that day: they stay there, pruned in batches), `overlaps`, `busy`
        (a lock not granted within LOCK_TIMEOUT_MS: tried again next time). Days already covered
        by a partition are not tried. One short transaction per partition.
        """
        tables = self.partitioned_tables
        if not tables:
            return {}
        first = utc_now(now).astimezone(UTC).date()
        existing = await self.list_partitions()
        outcomes: dict[str, str] = {}
        for table, column in tables.items():
            mine = [p for p in existing if p.table == table]
            if not mine:  # not partitioned (yet): a schema older than migration 0007
                continue
            for offset in range(days_ahead + 1):
                day = first + timedelta(days=offset)
                low = datetime(day.year, day.month, day.day, tzinfo=UTC)
                if any(p.covers(low, low + timedelta(days=1)) for p in mine):
                    continue
                values = {"parent": table, "time_column": column, "day": day, "lock_timeout_ms": LOCK_TIMEOUT_MS}
                async with self.transaction() as t:
                    await t.fetchone("lock_partitions")
                    row = await t.fetchone("create_day_partition", values)
                name = partition_name(table, day)
                outcomes[name] = str(row["outcome"]) if row is not None else "busy"
                if outcomes[name] == "default_has_rows":
                    log.warning(
                        "store %s: %s's default partition holds rows of %s; that day stays in it (docs/store.md)",
                        self.url, table, day,
                    )  # fmt: skip
                elif outcomes[name] == "busy":
                    log.info("store %s: creating %s waited too long for a lock; next pass tries again", self.url, name)
        return outcomes

    async def drop_partition_before(
        self, table: str, cutoff: datetime, *, other_rows: str | None = None, tx: Transaction
    ) -> int | None:
        """Drop `table`'s oldest partition all of whose rows are older than `cutoff`; the rows it held.

        None when there is none, or when its lock was not granted in time (the caller then removes
        its rows in batches; the drop is tried again RETRY_BUSY_SECONDS later). `other_rows` names a
        query ({low, high} -> found) telling whether a partition holds rows of another kind of data,
        whose window may be longer: such a partition is not dropped.
        """
        busy = self._busy_partitions()
        for part in await self.list_partitions(table, tx=tx):
            if not part.before(cutoff):
                continue
            if busy.get(part.name, 0.0) > time.monotonic():
                continue
            if other_rows is not None:
                bounds = {"low": part.lower or _EARLIEST, "high": part.upper}
                found = await tx.fetchone(other_rows, bounds)
                if found is not None and found["found"]:
                    continue
            row = await tx.fetchone("drop_partition", {"name": part.name, "lock_timeout_ms": LOCK_TIMEOUT_MS})
            rows = int(row["n"]) if row is not None else -1
            if rows < 0:
                busy[part.name] = time.monotonic() + RETRY_BUSY_SECONDS
                log.info("store %s: dropping %s waited too long for a lock; its rows go in batches", self.url, part.name)
                return None
            log.info("store %s: dropped partition %s (%d rows)", self.url, part.name, rows)
            return rows
        return None

    def _busy_partitions(self) -> dict[str, float]:
        # Per store object, created on first use (the mixins share TransactionalStore's __init__).
        try:
            return self._busy
        except AttributeError:
            self._busy = {}
            return self._busy
