"""Day partitions on PostgreSQL (store/partitions.py, migration 0007): created ahead, dropped whole when past
retention with the partition holding the cutoff pruned in batches, a DEFAULT partition as a safety net, dedup
of notifications across partitions. PostgreSQL only: these fail, never skip, when it is down (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from wedwatch.calendar.phases import TRACKED_PHASES
from wedwatch.config import Phase
from wedwatch.store import CriticalPathSample, ProbeAggregate, Store, open_store_ctx
from wedwatch.store.partitions import DAYS_AHEAD, PARTITIONED, Partition, partition_name
from wedwatch.store.pruning import cutoffs_at, prune
from wedwatch.store.queries import load_queries

from .retention_support import AT, TICK, WINDOWS

pytestmark = pytest.mark.postgres

DAY = timedelta(days=1)
# Literal SQL: identifiers are never assembled.
DEFAULT_ROWS = {
    "wedding_performance_metrics": "SELECT count(*) FROM wedding_performance_metrics_default",
    "critical_path_metrics": "SELECT count(*) FROM critical_path_metrics_default",
    "notifications": "SELECT count(*) FROM notifications_default",
}


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _cutoff(kind: str) -> datetime:
    value = cutoffs_at(WINDOWS, AT)[kind]
    assert value is not None
    return value


@pytest.fixture
async def pg(postgres_schema_url: str) -> AsyncIterator[Store]:
    async with open_store_ctx(postgres_schema_url) as store:
        yield store


async def _query(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(sql, args)  # type: ignore[arg-type]  # literal SQL of this module
        return list(await cur.fetchall())


async def _names(store: Store, table: str) -> list[str]:
    return [p.name for p in await store.list_partitions(table)]


async def _notify(store: Store, key: str, at: datetime) -> bool:
    return await store.record_notification(
        dedup_key=key, group_key="g", receiver="r", status="firing", alert_count=1, payload={"k": key}, received_at=at
    )


async def test_tables_are_partitioned_with_a_default_and_a_week_ahead(pg: Store, postgres_schema_url: str) -> None:
    kinds = await _query(
        postgres_schema_url,
        "SELECT relname::text, relkind::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
        " AND relname = ANY(%s)",
        list(PARTITIONED),
    )
    assert dict(kinds) == dict.fromkeys(PARTITIONED, "p")  # type: ignore[arg-type]
    today = datetime.now(UTC).date()
    for table in PARTITIONED:
        found = await pg.list_partitions(table)
        assert found[-1] == Partition(table, f"{table}_default", None, None, is_default=True)
        days = [partition_name(table, today + timedelta(days=n)) for n in range(DAYS_AHEAD + 1)]
        assert [p.name for p in found[:-1]] == days
        assert all(p.upper is not None and p.lower is not None and p.upper - p.lower == DAY for p in found[:-1])
    # The schema reads as before: the partitions are not tables of their own.
    assert not {p.name for p in await pg.list_partitions()} & set(await pg.describe())


async def test_ensure_creates_missing_days_once_and_two_processes_agree(postgres_schema_url: str) -> None:
    async with open_store_ctx(postgres_schema_url) as a, open_store_ctx(postgres_schema_url) as b:
        start = AT - 3 * DAY
        results = await asyncio.gather(a.ensure_partitions(start, days_ahead=2), b.ensure_partitions(start, days_ahead=2))
        names = {partition_name(t, (start + n * DAY).date()) for t in PARTITIONED for n in range(3)}
        merged = {name: outcome for result in results for name, outcome in result.items() if outcome == "created"}
        assert set(merged) == names  # each created once, by one of them
        assert all(outcome in ("created", "exists") for result in results for outcome in result.values())
        assert await a.ensure_partitions(start, days_ahead=2) == {}  # covered days are not tried again


async def test_rows_outside_every_day_land_in_the_default_partition(pg: Store, postgres_schema_url: str) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    assert await _notify(pg, "old", long_ago)
    await pg.record_probe_aggregates([ProbeAggregate("w1", "mobile", long_ago, 300, "standard", "week", 1, 0, 0.1, 0.1)])
    await pg.record_critical_path([CriticalPathSample("w1", long_ago, 1, 2)])
    for table, query in DEFAULT_ROWS.items():
        assert await _query(postgres_schema_url, query) == [(1,)], table
    # That day's partition is not created while its rows are in the default partition; others are.
    outcome = await pg.ensure_partitions(long_ago, days_ahead=1)
    assert outcome == {
        **{partition_name(t, long_ago.date()): "default_has_rows" for t in PARTITIONED},
        **{partition_name(t, (long_ago + DAY).date()): "created" for t in PARTITIONED},
    }
    assert await pg.get_notification("old") is not None


async def test_dedup_holds_across_partitions(pg: Store) -> None:
    midnight = _midnight(AT.date())
    await pg.ensure_partitions(midnight - DAY, days_ahead=1)
    assert await _notify(pg, "k1", midnight - TICK)  # the last instant of one day's partition
    assert not await _notify(pg, "k1", midnight)  # a retry in the next day's: the same notification
    assert not await _notify(pg, "k1", midnight + 10 * DAY)  # even from the default partition's range
    stored = await pg.get_notification("k1")
    assert stored is not None and stored["received_at"] == midnight - TICK


async def test_concurrent_deliveries_of_one_key_store_it_once(postgres_schema_url: str) -> None:
    midnight = _midnight(AT.date())
    async with open_store_ctx(postgres_schema_url) as a, open_store_ctx(postgres_schema_url) as b:
        await a.ensure_partitions(midnight - DAY, days_ahead=1)
        for n in range(20):  # an HA pair: two receivers, either side of midnight, at once
            results = await asyncio.gather(_notify(a, f"ha-{n}", midnight - TICK), _notify(b, f"ha-{n}", midnight))
            assert sorted(results) == [False, True], n
        rows = await _query(postgres_schema_url, "SELECT count(*), count(DISTINCT dedup_key) FROM notifications")
        assert rows == [(20, 20)]


async def test_a_pass_drops_whole_days_and_prunes_the_cutoffs_day_in_batches(pg: Store) -> None:
    cutoff = _cutoff("notifications")  # 2028-05-02T12:00Z
    first = cutoff.date() - 3 * DAY
    await pg.ensure_partitions(_midnight(first), days_ahead=5)
    placed = {
        "whole-1": _midnight(first) + timedelta(hours=1),
        "whole-2": _midnight(first + DAY),
        "whole-3": _midnight(cutoff.date()) - TICK,
        "cutoff-day-old": cutoff - TICK,
        "edge": cutoff,
        "after": cutoff + DAY,
        "default-old": datetime(2020, 1, 1, tzinfo=UTC),
    }
    for key, at in placed.items():
        assert await _notify(pg, key, at)
    dry = await prune(pg, WINDOWS, holder="t", at=AT, dry_run=True)
    report = await prune(pg, WINDOWS, holder="t", at=AT, batch_size=2, pause_seconds=0)
    gone = {"whole-1", "whole-2", "whole-3", "cutoff-day-old", "default-old"}
    for key in placed:
        assert (await pg.get_notification(key) is None) == (key in gone), key
    assert report.tables["notifications"] == dry.tables["notifications"] == len(gone)
    assert report.kinds == dry.kinds
    dropped = {partition_name("notifications", first + n * DAY) for n in range(3)}
    assert dropped <= set(report.partitions_dropped)
    remaining = await _names(pg, "notifications")
    assert not dropped & set(remaining)
    assert partition_name("notifications", cutoff.date()) in remaining  # held rows on both sides: batches
    assert (await prune(pg, WINDOWS, holder="t", at=AT)).rows == 0


async def test_probe_partitions_wait_for_both_kinds(pg: Store) -> None:
    tracked, untracked = _cutoff("probe_aggregates_tracked"), _cutoff("probe_aggregates_untracked")
    old = tracked.date() - 2 * DAY  # past both windows
    await pg.ensure_partitions(_midnight(old), days_ahead=0)

    def row(wedding: str, phase: str, at: datetime) -> ProbeAggregate:
        return ProbeAggregate(wedding, "mobile", at, 300, "standard", phase, 1, 0, 0.1, 0.1)

    await pg.record_probe_aggregates([row("t", "week", _midnight(old)), row("u", "planning", _midnight(old) + DAY / 2)])
    # Untracked aggregates kept longer than tracked ones: the tracked kind cannot drop the day alone.
    windows = {**WINDOWS, "probe_aggregates_untracked": AT - _midnight(old) + DAY}
    report = await prune(pg, windows, holder="t", at=AT, batch_size=10, pause_seconds=0)
    assert partition_name("wedding_performance_metrics", old) in await _names(pg, "wedding_performance_metrics")
    assert report.kinds["probe_aggregates_tracked"] == 1 and report.kinds["probe_aggregates_untracked"] == 0
    assert [r["wedding_id"] for r in await pg.list_probe_aggregates(_midnight(old))] == ["u"]
    # With the default windows the untracked row goes first, in a batch, and then the day whole.
    assert untracked > _midnight(old)
    report = await prune(pg, WINDOWS, holder="t", at=AT, batch_size=10, pause_seconds=0)
    assert report.kinds["probe_aggregates_untracked"] == 1
    assert partition_name("wedding_performance_metrics", old) in report.partitions_dropped


async def test_a_drop_gives_up_on_a_busy_table_and_the_pass_still_removes_the_rows(
    pg: Store, postgres_schema_url: str
) -> None:
    day = _cutoff("critical_path").date() - 5 * DAY
    await pg.ensure_partitions(_midnight(day), days_ahead=0)
    await pg.record_critical_path([CriticalPathSample(f"w{n}", _midnight(day) + n * TICK) for n in range(5)])
    async with await psycopg.AsyncConnection.connect(postgres_schema_url) as reader:
        await reader.execute("SELECT count(*) FROM critical_path_metrics")  # a long read holds the table
        started = asyncio.get_running_loop().time()
        report = await prune(pg, WINDOWS, holder="t", at=AT, batch_size=100, pause_seconds=0)
        waited = asyncio.get_running_loop().time() - started
        await reader.rollback()
    assert report.tables["critical_path_metrics"] == 5  # removed in batches instead
    assert partition_name("critical_path_metrics", day) in await _names(pg, "critical_path_metrics")
    assert 0.1 <= waited < 5  # it waited, and each attempt gave up after LOCK_TIMEOUT_MS
    pg._busy.clear()  # the drop is retried later (RETRY_BUSY_SECONDS); now the table is free
    report = await prune(pg, WINDOWS, holder="t", at=AT, pause_seconds=0)
    assert partition_name("critical_path_metrics", day) in report.partitions_dropped and report.rows == 0


async def test_pass_creates_the_days_ahead_of_its_instant(pg: Store) -> None:
    report = await prune(pg, WINDOWS, holder="t", at=AT, pause_seconds=0)
    expected = {partition_name(t, AT.date() + n * DAY) for t in PARTITIONED for n in range(DAYS_AHEAD + 1)}
    assert set(report.partitions_created) == expected
    assert report.to_dict()["partitions"]["created"] == sorted(expected)  # type: ignore[index]
    dry = await prune(pg, WINDOWS, holder="t", at=AT + 30 * DAY, dry_run=True)
    assert dry.partitions_created == []  # a dry run changes nothing


def test_other_rows_queries_use_the_prunable_queries_phases() -> None:
    queries = load_queries("postgres")

    def phases(name: str) -> set[str]:
        found = re.search(r"phase IN \(([^)]*)\)", queries[name])
        assert found is not None, name
        return {p.strip().strip("'") for p in found.group(1).split(",")}

    untracked, tracked = phases("prunable_probe_aggregates_untracked"), phases("prunable_probe_aggregates_tracked")
    assert tracked == {p.value for p in TRACKED_PHASES} and untracked == {p.value for p in Phase} - tracked
    assert phases("other_rows_probe_aggregates_untracked") == tracked
    assert phases("other_rows_probe_aggregates_tracked") == untracked
