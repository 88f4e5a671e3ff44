"""Store-test helpers: count rows behind the store's back, with the bare driver."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from psycopg import sql

from wedwatch.store.sqlite import sqlite_path

CountRows = Callable[[str], Awaitable[int]]

# sqlite3 cannot bind identifiers, and SQL is never assembled from strings: one literal each.
_SQLITE_COUNT = {
    "weddings": "SELECT count(*) FROM weddings",
    "wedding_performance_metrics": "SELECT count(*) FROM wedding_performance_metrics",
    "critical_path_metrics": "SELECT count(*) FROM critical_path_metrics",
    "notifications": "SELECT count(*) FROM notifications",
    "performance_alerts": "SELECT count(*) FROM performance_alerts",
    "action_outbox": "SELECT count(*) FROM action_outbox",
    "degradation_responses": "SELECT count(*) FROM degradation_responses",
    "optimization_results": "SELECT count(*) FROM optimization_results",
    "scaling_prediction_sets": "SELECT count(*) FROM scaling_prediction_sets",
    "schema_migrations": "SELECT count(*) FROM schema_migrations",
}


@pytest.fixture
def count_rows(store_url: str) -> CountRows:
    """An async function counting a table's rows in the test's database, bypassing the store."""

    async def count(table: str) -> int:
        if store_url.startswith("sqlite:"):
            conn = sqlite3.connect(sqlite_path(store_url))
            try:
                (n,) = conn.execute(_SQLITE_COUNT[table]).fetchone()
            finally:
                conn.close()
            return int(n)
        async with await psycopg.AsyncConnection.connect(store_url) as aconn:
            cur = await aconn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            row = await cur.fetchone()
            assert row is not None
            return int(row[0])

    return count
