"""Migration 0007 on a database that has rows: the same rows afterwards, and on PostgreSQL the old tables become
the legacy partitions of the new partitioned ones (nothing copied), which then take writes, dedup against
the old rows, and are dropped whole once past retention. On both back ends (SQLite: nothing changes)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from wedwatch.exporter.probes.base import ProbeResult
from wedwatch.exporter.recorder import Recorder
from wedwatch.store import CriticalPathSample, ProbeAggregate, Store, open_store_ctx
from wedwatch.store import migrations as migrations_module
from wedwatch.store.partitions import PARTITIONED, Partition, partition_name
from wedwatch.store.pruning import prune
from wedwatch.store.sqlite import sqlite_path

from .retention_support import WINDOWS

T0 = datetime(2028, 6, 1, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
# Literal SQL: every column, in id order (identifiers are never assembled).
ROWS = {
    "wedding_performance_metrics": "SELECT * FROM wedding_performance_metrics ORDER BY id",
    "critical_path_metrics": "SELECT * FROM critical_path_metrics ORDER BY id",
    "notifications": "SELECT id, dedup_key, group_key, receiver, status, alert_count, received_at, payload::text"
    " FROM notifications ORDER BY id",
}
SQLITE_ROWS = {**ROWS, "notifications": "SELECT * FROM notifications ORDER BY id"}


async def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return {table: list(conn.execute(sql)) for table, sql in SQLITE_ROWS.items()}
        finally:
            conn.close()
    found = {}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for table, query in ROWS.items():
            cur = await conn.execute(query)  # type: ignore[arg-type]  # literal SQL from ROWS
            found[table] = list(await cur.fetchall())
    return found


async def _seed(store: Store) -> None:
    """Rows over three days, the newest at T0."""
    for n in range(3):
        at = T0 - n * DAY
        await store.record_probe_aggregates([
            ProbeAggregate("w1", "guest_list", at, 300, "standard", "week", 2, 1, 0.5, 0.3, "timeout"),
            ProbeAggregate("w2", "mobile", at, 300, "standard", "planning", 1, 0, 0.1, 0.1),
        ])  # fmt: skip
        await store.record_critical_path([CriticalPathSample("w1", at, 10, 100, 5.0, 3, 4, 0, None)])
        async with store.transaction() as tx:
            # Literal SQL on purpose: the named query is the newest schema's (a function of 0007).
            # The instant in SQLite's stored form, which PostgreSQL reads as well.
            await tx.run_script(
                "INSERT INTO notifications (dedup_key, group_key, receiver, status, alert_count, received_at, payload)"
                f" VALUES ('k{n}', 'g', 'r', 'firing', 1, '{at:%Y-%m-%dT%H:%M:%S.%fZ}', '{{\"version\": \"4\", \"n\": {n}}}');"
            )


async def test_rows_survive_and_the_old_tables_become_partitions(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    every = migrations_module.load_migrations
    monkeypatch.setattr(migrations_module, "load_migrations", lambda dialect: every(dialect)[:6])
    async with open_store_ctx(store_url) as store:  # a database as it was at migration 0006
        assert await store.list_partitions() == []
        await _seed(store)
    before = await _rows(store_url)
    monkeypatch.setattr(migrations_module, "load_migrations", every)
    async with open_store_ctx(store_url) as store:  # migrates to the newest
        assert await _rows(store_url) == before
        if store.dialect == "postgres":
            bound = datetime(2028, 6, 2, tzinfo=UTC)  # the day after the newest row
            for table in PARTITIONED:
                found = await store.list_partitions(table)
                assert Partition(table, f"{table}_legacy", None, bound) in found, table
                assert found[-1].is_default
        await _still_works(store, store_url, before)


async def _still_works(store: Store, url: str, before: dict[str, list[tuple[object, ...]]]) -> None:
    # The exporter's upsert adds to a row of the legacy table; a new day's row gets the next id.
    await store.ensure_partitions(T0 + DAY, days_ahead=0)
    recorder = Recorder(store, bucket_seconds=300)
    recorder.add("w1", "guest_list", "standard", "week", ProbeResult(True, 0.2), T0.timestamp())
    recorder.add("w1", "guest_list", "standard", "week", ProbeResult(True, 0.2), (T0 + DAY).timestamp())
    assert await recorder.flush()
    rows = {(r["wedding_id"], r["bucket_start"]): r for r in await store.list_probe_aggregates(T0 - DAY)}
    assert rows["w1", T0]["probes"] == 3 and rows["w1", T0 + DAY]["probes"] == 1
    after = await _rows(url)
    newest = max(int(r[0]) for r in before["wedding_performance_metrics"])  # type: ignore[call-overload]
    ids = [r[0] for r in after["wedding_performance_metrics"]]
    assert len(set(ids)) == len(ids) == 7 and ids[-1] > newest  # (an upsert that updates may use up an id)
    if store.dialect == "postgres":
        assert partition_name("wedding_performance_metrics", (T0 + DAY).date()) in {
            p.name for p in await store.list_partitions("wedding_performance_metrics")
        }
    # The receiver's dedup knows the old notifications; a new one is stored.
    assert not await store.record_notification(
        dedup_key="k1", group_key="g", receiver="r", status="firing", alert_count=1, payload={}, received_at=T0 + DAY
    )
    assert await store.record_notification(
        dedup_key="k9", group_key="g", receiver="r", status="firing", alert_count=1, payload={}, received_at=T0 + DAY
    )
    assert (await store.get_notification("k2") or {})["payload"] == {"version": "4", "n": 2}
    # Once every row is past its window, a pass removes them all; PostgreSQL drops the legacy partitions whole.
    report = await prune(store, WINDOWS, holder="t", at=T0 + 92 * DAY, pause_seconds=0)
    assert {t: report.tables[t] for t in PARTITIONED} == {
        "wedding_performance_metrics": 7, "critical_path_metrics": 3, "notifications": 4,
    }  # fmt: skip
    if store.dialect == "postgres":
        assert {f"{table}_legacy" for table in PARTITIONED} <= set(report.partitions_dropped)
    assert await _rows(url) == dict.fromkeys(PARTITIONED, [])
