"""Rows and bytes per table on both back ends (what `wedwatch store stats` prints)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from wedwatch.store import Store, open_store_ctx
from wedwatch.store.queries import Queries
from wedwatch.store.sqlite import SqliteStore


async def test_every_table_is_measured(store: Store) -> None:
    stats = await store.table_stats()
    assert set(stats) == set(await store.describe())  # `table_rows` lists every table
    assert stats["schema_migrations"].rows > 0
    assert all(s.bytes is not None and s.bytes > 0 for s in stats.values()), stats
    assert await store.database_bytes() >= sum(s.bytes or 0 for s in stats.values()) // 2


async def test_rows_and_bytes_follow_the_data(store: Store) -> None:
    empty = await store.table_stats()
    async with store.transaction() as tx:
        for i in range(300):
            await store.record_notification(
                dedup_key=f"k{i}", group_key="g", receiver="r", status="firing", alert_count=1,
                payload={"pad": "x" * 2000, "i": i}, received_at=datetime(2028, 1, 1, tzinfo=UTC), tx=tx,
            )  # fmt: skip
    full = await store.table_stats()
    assert full["notifications"].rows == 300 and empty["notifications"].rows == 0
    assert (full["notifications"].bytes or 0) > (empty["notifications"].bytes or 0)


async def test_sqlite_without_dbstat_reports_no_bytes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with open_store_ctx(f"sqlite:///{tmp_path / 'w.db'}") as store:
        assert isinstance(store, SqliteStore)
        # As a SQLite built without SQLITE_ENABLE_DBSTAT_VTAB answers: no such table.
        store.queries = Queries("sqlite", {**store.queries, "table_bytes": "SELECT * FROM dbstat_not_built"})
        stats = await store.table_stats()
    assert stats and all(s.bytes is None for s in stats.values())
    assert stats["schema_migrations"].rows > 0
    assert "bytes per table unknown" in caplog.text
