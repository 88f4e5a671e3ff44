"""Migrations: applied to an empty database, a no-op on restart, safe when processes race."""

from __future__ import annotations

import asyncio

import pytest

from wedwatch.store import JSON_COLUMNS, TIMESTAMP_COLUMNS, Store, load_migrations, open_store_ctx
from wedwatch.store.postgres import PostgresStore
from wedwatch.store.sqlite import SqliteStore

from .conftest import CountRows

# DESIGN.md section 6: the seed's tables plus what idempotency needs.
DESIGN_TABLES = {
    "weddings",
    "wedding_performance_metrics",
    "critical_path_metrics",
    "performance_alerts",
    "optimization_results",
    "scaling_prediction_sets",
    "degradation_responses",
    "notifications",
    "action_outbox",
}


def test_migrations_are_numbered_alike_in_both_dialects() -> None:
    sqlite, postgres = load_migrations("sqlite"), load_migrations("postgres")
    assert [(m.version, m.name) for m in sqlite] == [(m.version, m.name) for m in postgres]
    assert [m.version for m in sqlite] == list(range(1, len(sqlite) + 1))


async def test_empty_database_gets_every_table(store: Store, count_rows: CountRows) -> None:
    tables = await store.describe()
    assert DESIGN_TABLES <= set(tables)
    assert "schema_migrations" in tables
    assert await count_rows("schema_migrations") == len(load_migrations(store.dialect))


async def test_reopening_applies_nothing(store_url: str) -> None:
    async with open_store_ctx(store_url) as first:
        assert await first.migrate() == []
    async with open_store_ctx(store_url) as again:
        assert await again.migrate() == []
        assert DESIGN_TABLES <= set(await again.describe())


async def test_migrate_reports_versions_it_applied(store_url: str) -> None:
    store = _bare_store(store_url)
    await store.connect()
    try:
        versions = [m.version for m in load_migrations(store.dialect)]
        assert await store.migrate() == versions
        assert await store.migrate() == []
    finally:
        await store.close()


async def test_two_processes_migrating_at_once_apply_once(store_url: str, count_rows: CountRows) -> None:
    stores = [_bare_store(store_url) for _ in range(4)]
    try:
        for store in stores:
            await store.connect()
        results = await asyncio.gather(*(store.migrate() for store in stores))
    finally:
        for store in stores:
            await store.close()
    versions = [m.version for m in load_migrations(stores[0].dialect)]
    assert sorted(results, key=len) == [[], [], [], versions]
    assert await count_rows("schema_migrations") == len(versions)


async def test_both_dialects_have_the_same_columns(store: Store) -> None:
    # The other dialect's schema comes from the SQL files alone: apply them to a fresh SQLite.
    async with open_store_ctx("sqlite:///:memory:") as sqlite:
        reference = {table: set(columns) for table, columns in (await sqlite.describe()).items()}
    assert {table: set(columns) for table, columns in (await store.describe()).items()} == reference


@pytest.mark.postgres
async def test_value_conventions_match_postgres_types(postgres_schema_url: str) -> None:
    async with open_store_ctx(postgres_schema_url) as store:
        schema = await store.describe()
    for table, columns in schema.items():
        for column, data_type in columns.items():
            where = f"{table}.{column} is {data_type}"
            assert (data_type == "timestamp with time zone") == (column in TIMESTAMP_COLUMNS), where
            assert (data_type == "jsonb") == (column in JSON_COLUMNS), where
            assert data_type != "timestamp without time zone", where


def _bare_store(url: str) -> Store:
    """A store that is not yet connected nor migrated, of the URL's kind."""
    if url.startswith("sqlite:"):
        return SqliteStore(url)
    return PostgresStore(url, pool_max_size=2)
