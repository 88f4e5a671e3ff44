"""The store: SQLite by default, PostgreSQL by URL, one async interface (DESIGN.md section 6).

    async with open_store_ctx("sqlite:///wedwatch.db") as store:
        async with store.transaction() as tx:
            if await store.record_notification(..., tx=tx):
                incident_id, created = await store.upsert_incident(..., tx=tx)

URLs: `sqlite:///relative/path`, `sqlite:////absolute/path`, `sqlite:///:memory:`;
`postgresql://user@host:5432/db` (or `postgres://`). Value conventions (timestamps, JSON,
booleans, row sets) are described in `wedwatch.store.values`, the clock, transaction and error
contract in `wedwatch.store.base`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wedwatch.errors import ConfigError
from wedwatch.store.base import Store
from wedwatch.store.migrations import Migration, load_migrations
from wedwatch.store.outbox import ACTION_STATUSES, FINAL_ACTION_STATUSES
from wedwatch.store.postgres import PostgresStore
from wedwatch.store.records import UNTRACKED_PREFIX, CriticalPathSample, ProbeAggregate, untracked_wedding_id
from wedwatch.store.sqlite import SqliteStore
from wedwatch.store.transaction import Params, Row, Transaction
from wedwatch.store.values import BOOLEAN_COLUMNS, JSON_COLUMNS, TIMESTAMP_COLUMNS
from wedwatch.urls import redact_url

__all__ = [
    "ACTION_STATUSES",
    "BOOLEAN_COLUMNS",
    "CriticalPathSample",
    "FINAL_ACTION_STATUSES",
    "JSON_COLUMNS",
    "Migration",
    "Params",
    "PostgresStore",
    "ProbeAggregate",
    "Row",
    "SqliteStore",
    "Store",
    "TIMESTAMP_COLUMNS",
    "Transaction",
    "UNTRACKED_PREFIX",
    "load_migrations",
    "open_store",
    "open_store_ctx",
    "untracked_wedding_id",
]


async def open_store(url: str, *, pool_max_size: int = 10, timeout: float = 10.0) -> Store:
    """Open `sqlite:///path` or `postgresql://…`, apply pending migrations; StoreUnavailable if unreachable."""
    # `timeout` bounds connecting, waiting for a pooled connection (PostgreSQL) and waiting for
    # another process's write lock (SQLite's busy timeout). `pool_max_size` is PostgreSQL's only.
    store: Store
    if url.startswith("sqlite:///"):
        store = SqliteStore(url, busy_timeout=timeout)
    elif url.startswith(("postgresql://", "postgres://")):
        store = PostgresStore(url, pool_max_size=pool_max_size, timeout=timeout)
    else:
        raise ConfigError(
            f"unsupported URL {redact_url(url)!r}: use sqlite:///path or postgresql://…", field="store.url"
        )
    try:
        await store.connect()
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store


@asynccontextmanager
async def open_store_ctx(url: str, *, pool_max_size: int = 10, timeout: float = 10.0) -> AsyncIterator[Store]:
    """`open_store` as an async context manager that closes the store on exit."""
    store = await open_store(url, pool_max_size=pool_max_size, timeout=timeout)
    try:
        yield store
    finally:
        await store.close()
