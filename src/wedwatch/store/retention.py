"""Retention: what each kind of data may lose, one batch at a time (the pass is in pruning.py).

Every kind of data has two methods: `prune_<kind>(cutoff, limit, tx=)` removes one batch of at most
`limit` rows older than `cutoff` and returns the rows removed per table; `count_<kind>(cutoff)`
counts what a whole pass would remove (a dry run). The conditions are in `sql/queries.sql`
(`prunable_<kind>` and `count_prunable_<kind>`), rows leave by id (`delete_<table>`).

On PostgreSQL the probe aggregates, critical-path samples and notifications are partitioned by day
(partitions.py): before its batches, the pass drops each partition of such a kind whose rows are
all past the window and all the kind's own (`drop_expired_partition`), one short transaction each;
the batches then remove the rest by id, with the cutoff as a bound on the partitions they read
(`delete_<table>_before`). A pass removes the same rows either way, so a dry run's counts are unchanged.

What never goes, whatever its age: a firing incident; an incident with an action pending or
running, or that an emergency period still kept refers to; a pending or running action; the open
emergency period; the newest prediction set of each series; the weddings, the kill switch, the
schema's own tables. An incident's actions and its response go with it (children first: the
foreign keys' ON DELETE CASCADE never has anything left to do).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from wedwatch.store.partitions import PartitionMethods
from wedwatch.store.transaction import Row, Transaction, utc_now

__all__ = ["Counts", "RetentionKind", "RetentionMethods", "KINDS", "KIND_NAMES", "PRUNED_TABLES", "Cutoffs"]

Counts = dict[str, int]  # table -> rows
Cutoffs = dict[str, datetime | None]  # kind -> rows older than this go; None: kept forever

# `periods_cutoff` when emergency periods are kept forever: every closed period counts as kept.
_EVERY_PERIOD_KEPT = datetime(1, 1, 1, tzinfo=UTC)


def _ids(rows: list[Row]) -> list[dict[str, int]]:
    return [{"id": int(row["id"])} for row in rows]


async def _count(t: Transaction, name: str, values: dict[str, object]) -> int:
    row = await t.fetchone(name, values)
    return int(row["n"]) if row is not None else 0


# The kinds whose table may be partitioned (partitions.PARTITIONED), and that table.
_KIND_TABLES = {
    "notifications": "notifications",
    "probe_aggregates_untracked": "wedding_performance_metrics",
    "probe_aggregates_tracked": "wedding_performance_metrics",
    "critical_path": "critical_path_metrics",
}
# Kinds sharing a partitioned table with another kind: the query telling whether a partition holds
# rows of the other kind (postgres/queries.sql).
_OTHER_ROWS = {
    "probe_aggregates_untracked": "other_rows_probe_aggregates_untracked",
    "probe_aggregates_tracked": "other_rows_probe_aggregates_tracked",
}


class RetentionMethods(PartitionMethods):
    """Store methods that remove old rows, one method per kind of data."""

    async def _prune_by_id(
        self, tx: Transaction, kind: str, delete: str, table: str, cutoff: datetime, limit: int
    ) -> tuple[Counts, int]:
        moment = utc_now(cutoff)
        bound: dict[str, object] = {}
        if table in self.partitioned_tables:
            delete, bound = f"{delete}_before", {"cutoff": moment}
        picked = await tx.fetchall(f"prunable_{kind}", {"cutoff": moment, "limit": limit})
        if not picked:
            return {table: 0}, 0
        return {table: await tx.execute(delete, {**bound, "rows": _ids(picked)})}, len(picked)

    def partitioned_kinds(self) -> dict[str, str]:
        """Kinds whose table is partitioned here, with that table ({} on SQLite)."""
        return {kind: table for kind, table in _KIND_TABLES.items() if table in self.partitioned_tables}

    async def drop_expired_partition(self, kind: str, cutoffs: Cutoffs, *, tx: Transaction) -> Counts | None:
        """Drop one partition of `kind`'s table all of whose rows the kind may remove; rows per table, None when none.

        Its rows are all the kind's own: in the probe aggregates, a partition holding a row of the
        other kind waits for that kind's window too.
        """
        table = self.partitioned_kinds().get(kind)
        cutoff = cutoffs.get(kind)
        if table is None or cutoff is None:
            return None
        dropped = await self.drop_partition_before(table, utc_now(cutoff), other_rows=_OTHER_ROWS.get(kind), tx=tx)
        return None if dropped is None else {table: dropped}

    async def _count_simple(self, kind: str, table: str, cutoff: datetime, tx: Transaction | None) -> Counts:
        async with self._joined(tx, readonly=True) as t:
            return {table: await _count(t, f"count_prunable_{kind}", {"cutoff": utc_now(cutoff)})}

    async def prune_notifications(self, cutoff: datetime, limit: int, *, tx: Transaction) -> tuple[Counts, int]:
        """One batch of notifications received before `cutoff`; (rows per table, rows picked)."""
        return await self._prune_by_id(tx, "notifications", "delete_notifications", "notifications", cutoff, limit)

    async def count_notifications(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Notifications a pass at `cutoff` would remove."""
        return await self._count_simple("notifications", "notifications", cutoff, tx)

    async def prune_probe_aggregates_untracked(
        self, cutoff: datetime, limit: int, *, tx: Transaction
    ) -> tuple[Counts, int]:
        """One batch of probe aggregates of untracked phases (planning, month) older than `cutoff`."""
        return await self._prune_by_id(
            tx, "probe_aggregates_untracked", "delete_probe_aggregates", "wedding_performance_metrics", cutoff, limit
        )

    async def count_probe_aggregates_untracked(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Untracked phases' probe aggregates a pass at `cutoff` would remove."""
        return await self._count_simple("probe_aggregates_untracked", "wedding_performance_metrics", cutoff, tx)

    async def prune_probe_aggregates_tracked(
        self, cutoff: datetime, limit: int, *, tx: Transaction
    ) -> tuple[Counts, int]:
        """One batch of probe aggregates of tracked phases (week … after) older than `cutoff`."""
        return await self._prune_by_id(
            tx, "probe_aggregates_tracked", "delete_probe_aggregates", "wedding_performance_metrics", cutoff, limit
        )

    async def count_probe_aggregates_tracked(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Tracked phases' probe aggregates a pass at `cutoff` would remove."""
        return await self._count_simple("probe_aggregates_tracked", "wedding_performance_metrics", cutoff, tx)

    async def prune_critical_path(self, cutoff: datetime, limit: int, *, tx: Transaction) -> tuple[Counts, int]:
        """One batch of critical-path samples observed before `cutoff`."""
        return await self._prune_by_id(
            tx, "critical_path", "delete_critical_path", "critical_path_metrics", cutoff, limit
        )

    async def count_critical_path(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Critical-path samples a pass at `cutoff` would remove."""
        return await self._count_simple("critical_path", "critical_path_metrics", cutoff, tx)

    async def prune_prediction_sets(self, cutoff: datetime, limit: int, *, tx: Transaction) -> tuple[Counts, int]:
        """One batch of prediction sets created before `cutoff`, never a series' newest."""
        return await self._prune_by_id(
            tx, "prediction_sets", "delete_prediction_sets", "scaling_prediction_sets", cutoff, limit
        )

    async def count_prediction_sets(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Prediction sets a pass at `cutoff` would remove."""
        return await self._count_simple("prediction_sets", "scaling_prediction_sets", cutoff, tx)

    async def prune_optimization_results(self, cutoff: datetime, limit: int, *, tx: Transaction) -> tuple[Counts, int]:
        """One batch of optimization results executed before `cutoff`."""
        return await self._prune_by_id(
            tx, "optimization_results", "delete_optimization_results", "optimization_results", cutoff, limit
        )

    async def count_optimization_results(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Optimization results a pass at `cutoff` would remove."""
        return await self._count_simple("optimization_results", "optimization_results", cutoff, tx)

    async def prune_plan_actions(self, cutoff: datetime, limit: int, *, tx: Transaction) -> tuple[Counts, int]:
        """One batch of finished actions no incident asked for (plans), finished before `cutoff`."""
        return await self._prune_by_id(tx, "plan_actions", "delete_actions", "action_outbox", cutoff, limit)

    async def count_plan_actions(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Finished plan actions a pass at `cutoff` would remove."""
        return await self._count_simple("plan_actions", "action_outbox", cutoff, tx)

    async def prune_emergency_periods(self, cutoff: datetime, limit: int, *, tx: Transaction) -> tuple[Counts, int]:
        """One batch of emergency periods closed before `cutoff` (never the open one)."""
        return await self._prune_by_id(
            tx, "emergency_periods", "delete_emergency_periods", "emergency_events", cutoff, limit
        )

    async def count_emergency_periods(self, cutoff: datetime, *, tx: Transaction | None = None) -> Counts:
        """Closed emergency periods a pass at `cutoff` would remove."""
        return await self._count_simple("emergency_periods", "emergency_events", cutoff, tx)

    async def prune_incidents(
        self, cutoff: datetime, limit: int, *, periods_cutoff: datetime | None, tx: Transaction
    ) -> tuple[Counts, int]:
        """One batch of resolved incidents last seen before `cutoff`, with their actions and responses.

        `periods_cutoff` is the emergency periods' cutoff (None: kept forever): an incident that a
        kept period refers to stays.
        """
        values = {"cutoff": utc_now(cutoff), "limit": limit, "periods_cutoff": _periods(periods_cutoff)}
        picked = await tx.fetchall("prunable_incidents", values)
        counts = {"action_outbox": 0, "degradation_responses": 0, "performance_alerts": 0}
        if picked:
            ids = {"rows": _ids(picked)}
            counts["action_outbox"] = await tx.execute("delete_incident_actions", ids)
            counts["degradation_responses"] = await tx.execute("delete_incident_responses", ids)
            counts["performance_alerts"] = await tx.execute("delete_incidents", ids)
        return counts, len(picked)

    async def count_incidents(
        self, cutoff: datetime, *, periods_cutoff: datetime | None, tx: Transaction | None = None
    ) -> Counts:
        """Incidents, and their actions and responses, a pass at `cutoff` would remove."""
        values = {"cutoff": utc_now(cutoff), "periods_cutoff": _periods(periods_cutoff)}
        async with self._joined(tx, readonly=True) as t:
            row = await t.fetchone("count_prunable_incidents", values)
        assert row is not None  # an aggregate always returns its row
        return {table: int(row[table]) for table in ("action_outbox", "degradation_responses", "performance_alerts")}


def _periods(cutoff: datetime | None) -> datetime:
    return _EVERY_PERIOD_KEPT if cutoff is None else utc_now(cutoff)


Prune = Callable[[RetentionMethods, Cutoffs, int, Transaction], Awaitable[tuple[Counts, int]]]
Count = Callable[[RetentionMethods, Cutoffs], Awaitable[Counts]]


@dataclass(frozen=True, slots=True)
class RetentionKind:
    """A kind of data with its own retention window (`store.retention.<name>_days`)."""

    name: str
    tables: tuple[str, ...]  # the tables it removes rows from, children first
    what: str  # one line, for `store prune` and the docs
    prune: Prune  # one batch: (rows per table, rows picked); fewer picked than the limit: done
    count: Count  # what the whole pass would remove


def _simple(name: str, table: str, what: str) -> RetentionKind:
    prune_method = getattr(RetentionMethods, f"prune_{name}")
    count_method = getattr(RetentionMethods, f"count_{name}")

    async def prune(store: RetentionMethods, cutoffs: Cutoffs, limit: int, tx: Transaction) -> tuple[Counts, int]:
        cutoff = cutoffs[name]
        assert cutoff is not None
        result: tuple[Counts, int] = await prune_method(store, cutoff, limit, tx=tx)
        return result

    async def count(store: RetentionMethods, cutoffs: Cutoffs) -> Counts:
        cutoff = cutoffs[name]
        assert cutoff is not None
        result: Counts = await count_method(store, cutoff)
        return result

    return RetentionKind(name, (table,), what, prune, count)


async def _prune_incidents(
    store: RetentionMethods, cutoffs: Cutoffs, limit: int, tx: Transaction
) -> tuple[Counts, int]:
    cutoff = cutoffs["incidents"]
    assert cutoff is not None
    return await store.prune_incidents(cutoff, limit, periods_cutoff=cutoffs.get("emergency_periods"), tx=tx)


async def _count_incidents(store: RetentionMethods, cutoffs: Cutoffs) -> Counts:
    cutoff = cutoffs["incidents"]
    assert cutoff is not None
    return await store.count_incidents(cutoff, periods_cutoff=cutoffs.get("emergency_periods"))


# In pass order. Emergency periods go before incidents, so that an incident only a pruned period
# referred to goes in the same pass (the incidents' condition reads the periods' cutoff, so a dry
# run counts it too).
KINDS: tuple[RetentionKind, ...] = (
    _simple("notifications", "notifications", "Alertmanager notifications as received"),
    _simple("probe_aggregates_untracked", "wedding_performance_metrics",
            "probe aggregates of weddings in untracked phases (planning, month)"),
    _simple("probe_aggregates_tracked", "wedding_performance_metrics",
            "probe aggregates of weddings in tracked phases (week, eve, wedding day, ceremony, after)"),
    _simple("critical_path", "critical_path_metrics", "critical-path samples"),
    _simple("prediction_sets", "scaling_prediction_sets", "forecasts (the newest of each series stays)"),
    _simple("optimization_results", "optimization_results", "optimization results"),
    _simple("plan_actions", "action_outbox", "finished actions no incident asked for (pre-ceremony plans)"),
    _simple("emergency_periods", "emergency_events", "closed emergency periods"),
    RetentionKind(
        "incidents",
        ("action_outbox", "degradation_responses", "performance_alerts"),
        "resolved incidents, with their finished actions and responses",
        _prune_incidents,
        _count_incidents,
    ),
)  # fmt: skip
KIND_NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
PRUNED_TABLES: tuple[str, ...] = tuple(sorted({table for kind in KINDS for table in kind.tables}))
