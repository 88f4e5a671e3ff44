"""PostgreSQL back end: psycopg 3 with an async connection pool.

Connection problems (refused, timed out, pool exhausted or closed, server shutting down) and
serialization failures raise StoreUnavailable so that callers answer 503 and retry; every
other driver error is a StoreError. Messages carry the redacted URL, never the password.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import RowMaker
from psycopg.types.json import Jsonb, set_json_loads
from psycopg_pool import AsyncConnectionPool

from wedwatch.errors import StoreError, StoreUnavailable
from wedwatch.store.base import Store
from wedwatch.store.queries import load_queries
from wedwatch.store.transaction import Params, Row, Transaction
from wedwatch.store.values import JSON_COLUMNS, ROWS_PARAMETER, RawJson, dump_json_bytes, load_json

__all__ = ["PostgresStore"]

# A pooled connection idle for longer than this is checked (one round trip) before use.
_CHECK_IDLE_SECONDS = 1.0


def _to_pg(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == ROWS_PARAMETER:
        # One JSONB array for jsonb_array_elements(); a JSON column stays nested in it.
        return Jsonb(_checked_rows(value), dumps=dump_json_bytes)
    if isinstance(value, RawJson):
        return Jsonb(value.data, dumps=_as_is)
    if name in JSON_COLUMNS:
        return Jsonb(value, dumps=dump_json_bytes)
    if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
        # psycopg would send it as `timestamp`, silently read in the session's time zone.
        raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware datetimes")
    return value


def _as_is(data: bytes) -> bytes:
    return data


def _checked_rows(rows: Iterable[Params]) -> list[Params]:
    # Inside a row set an instant is msgspec's RFC 3339 text with its offset, cast back with
    # ::timestamptz. Only a naive datetime must be stopped (it would be read in the session's
    # zone). The rows of a set come from one record type, so the keys that can hold an instant are
    # those holding one, or None, in the first row; only they are checked, without copying rows.
    listed = list(rows)
    if listed:
        keys = [key for key, value in listed[0].items() if value is None or isinstance(value, datetime)]
        for row in listed:
            for key in keys:
                value = row.get(key)
                if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
                    raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware datetimes")
    return listed


def _adapt(params: Params | None) -> dict[str, Any]:
    # Always a mapping, never None: psycopg only undoes the `%%` escapes when it has parameters.
    return {name: _to_pg(name, value) for name, value in (params or {}).items()}


def _from_pg(value: Any) -> Any:
    # TIMESTAMPTZ comes back in the session's zone; UTC makes rows equal to SQLite's.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def _row_factory(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[Row]:
    names = [column.name for column in cursor.description or ()]

    def make(values: Sequence[Any]) -> Row:
        return {name: _from_pg(value) for name, value in zip(names, values, strict=True)}

    return make


def _store_error(exc: psycopg.Error, url: str) -> StoreError:
    # OperationalError covers connection failures, psycopg_pool's PoolTimeout and PoolClosed, and
    # (in psycopg 3) serialization failures and deadlocks: all worth a retry.
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailable(f"store {url} unavailable: {exc}")
    return StoreError(f"store {url}: {type(exc).__name__}: {exc}")


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    # JSON and JSONB columns decode as on SQLite (and with msgspec, faster than json.loads).
    set_json_loads(load_json, conn)


class PostgresTransaction(Transaction):
    """A transaction on one pooled connection."""

    def __init__(self, store: PostgresStore, conn: psycopg.AsyncConnection[Any]) -> None:
        self._store = store
        self._conn = conn
        self._open = True

    def _sql(self, name: str) -> str:
        if not self._open:
            raise StoreError("this transaction has already ended")
        return self._store.queries[name]

    async def execute(self, name: str, params: Params | None = None) -> int:
        """Run the named statement; the number of rows it changed."""
        sql = self._sql(name)
        try:
            async with self._conn.cursor() as cursor:
                await cursor.execute(sql, _adapt(params))
                return cursor.rowcount
        except psycopg.Error as exc:
            raise _store_error(exc, self._store.url) from exc

    async def executemany(self, name: str, rows: Iterable[Params]) -> int:
        """Run the named statement once per row (pipelined); the total number of rows changed."""
        sql = self._sql(name)
        adapted = [_adapt(row) for row in rows]
        if not adapted:
            return 0
        try:
            async with self._conn.cursor() as cursor:
                await cursor.executemany(sql, adapted)
                return cursor.rowcount
        except psycopg.Error as exc:
            raise _store_error(exc, self._store.url) from exc

    async def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        """Run the named query; its first row, or None."""
        sql = self._sql(name)
        try:
            async with self._conn.cursor(row_factory=_row_factory) as cursor:
                await cursor.execute(sql, _adapt(params))
                return await cursor.fetchone()
        except psycopg.Error as exc:
            raise _store_error(exc, self._store.url) from exc

    async def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        """Run the named query; all of its rows."""
        sql = self._sql(name)
        try:
            async with self._conn.cursor(row_factory=_row_factory) as cursor:
                await cursor.execute(sql, _adapt(params))
                return await cursor.fetchall()
        except psycopg.Error as exc:
            raise _store_error(exc, self._store.url) from exc

    async def fetch_each(self, name: str, rows: Iterable[Params]) -> list[list[Row]]:
        """Run the named statement once per row, in order, pipelined; the rows each run returned."""
        sql = self._sql(name)
        adapted = [_adapt(row) for row in rows]
        if not adapted:
            return []
        results: list[list[Row]] = []
        try:
            async with self._conn.cursor(row_factory=_row_factory) as cursor:
                await cursor.executemany(sql, adapted, returning=True)
                while True:
                    results.append(await cursor.fetchall() if cursor.description is not None else [])
                    if not cursor.nextset():
                        break
        except psycopg.Error as exc:
            raise _store_error(exc, self._store.url) from exc
        return results

    async def run_script(self, sql: str) -> None:
        """Run a migration script: several statements, no parameters."""
        if not self._open:
            raise StoreError("this transaction has already ended")
        try:
            async with self._conn.cursor() as cursor:
                # No parameters: psycopg then sends the text as one simple query, which may
                # hold several statements.
                await cursor.execute(sql)
        except psycopg.Error as exc:
            raise _store_error(exc, self._store.url) from exc


class PostgresStore(Store):
    """The PostgreSQL store; open it with `open_store("postgresql://user@host/db")`."""

    dialect = "postgres"

    def __init__(self, url: str, *, pool_max_size: int = 10, timeout: float = 10.0) -> None:
        super().__init__(url)
        self.queries = load_queries(self.dialect)
        self._conninfo = url
        self._timeout = timeout
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_max_size,
            open=False,
            # autocommit: transactions are opened explicitly by conn.transaction(), never
            # implicitly by the first statement.
            kwargs={"autocommit": True, "connect_timeout": max(2, round(timeout))},
            # A connection broken by a server restart is replaced before use, not handed out.
            configure=_configure,
            check=self._check,
            reset=self._returned,
            timeout=timeout,
            name="wedwatch-store",
        )
        self._closed = False
        self._returned_at: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = weakref.WeakKeyDictionary()

    async def _returned(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._returned_at[conn] = time.monotonic()

    async def _check(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # The check costs a round trip per transaction; under load (every connection back in
        # the pool within a second) it is skipped. A connection that broke meanwhile fails
        # its statement instead: StoreUnavailable, a 503 that Alertmanager retries, and the
        # pool discards the broken connection.
        returned = self._returned_at.get(conn)
        if returned is None or time.monotonic() - returned > _CHECK_IDLE_SECONDS:
            await AsyncConnectionPool.check_connection(conn)

    async def connect(self) -> None:
        """Check the server answers (failing fast, with its reason), then fill the pool."""
        try:
            probe = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, connect_timeout=max(2, round(self._timeout))
            )
            await probe.close()
            await self._pool.open(wait=True, timeout=self._timeout)
        except psycopg.Error as exc:
            await self.close()
            raise _store_error(exc, self.url) from exc

    @asynccontextmanager
    async def _transaction(self, readonly: bool) -> AsyncIterator[Transaction]:
        # readonly is only a hint here: PostgreSQL's MVCC needs no write lock to be avoided.
        if self._closed:
            raise StoreError(f"store {self.url} is closed")
        try:
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    tx = PostgresTransaction(self, conn)
                    try:
                        yield tx
                    finally:
                        tx._open = False
        except psycopg.Error as exc:
            raise _store_error(exc, self.url) from exc

    async def close(self) -> None:
        """Close the pool, waiting briefly for connections in use."""
        if self._closed:
            return
        self._closed = True
        await self._pool.close()
