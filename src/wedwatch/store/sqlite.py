"""SQLite back end: stdlib sqlite3 in WAL mode, one connection owned by one worker thread.

sqlite3 blocks, so every call runs on a dedicated single-thread executor, never on the event
loop: a batched statement over thousands of rows, a fsync at COMMIT or another process's write
lock would otherwise stall every other task of the process (the demo runs exporter and receiver
in one). The thread's FIFO queue also keeps a COMMIT or ROLLBACK ahead of the next BEGIN even when
the task that ended a transaction was cancelled. An asyncio.Lock gives one transaction at a
time to the connection; other processes on the same file are kept out by SQLite's own locks
(writers take them at `BEGIN IMMEDIATE`, and wait up to the busy timeout for them). Batches are
one statement over a JSON array of rows (`json_each`), so a notification of a hundred alerts
costs a handful of thread hops, not hundreds.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from wedwatch.errors import StoreError, StoreUnavailable
from wedwatch.store.base import Store
from wedwatch.store.queries import load_queries
from wedwatch.store.sqlite_values import adapt, format_timestamp, parse_timestamp, to_row
from wedwatch.store.transaction import Params, Row, Transaction

__all__ = ["SqliteStore", "sqlite_path", "format_timestamp", "parse_timestamp"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Result codes that mean "not now" rather than "wrong": the caller answers 503 and retries.
_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_READONLY,
    }
)


def sqlite_path(url: str) -> str:
    """The file of `sqlite:///relative/path`, `sqlite:////abs/path` or `sqlite:///:memory:`."""
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite URL: {url!r}")
    path = url.removeprefix("sqlite:///")
    if not path:
        raise StoreError("sqlite:/// needs a path (sqlite:///wedwatch.db, sqlite:////abs/path.db)")
    return path


def _connect(path: str, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: sqlite3 issues no implicit BEGIN/COMMIT; transactions are ours.
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        # Takes effect only on a database with no table yet, and must come before the switch to WAL:
        # new databases hand the pages pruning frees back to the file system (reclaim_space). On an
        # older database it changes nothing (that would take a VACUUM: docs/store.md).
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode != "wal" and path != ":memory:":
            log.warning("SQLite store %s runs in journal mode %s, not WAL", path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    conn.row_factory = to_row
    return conn


def _execute(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> int:
    cursor = conn.execute(sql, params)
    # Drain RETURNING rows: only then is the statement finished and rowcount final.
    cursor.fetchall()
    return cursor.rowcount


def _executemany(conn: sqlite3.Connection, sql: str, rows: list[dict[str, Any]]) -> int:
    return conn.executemany(sql, rows).rowcount


def _fetchall(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[Row]:
    return list(conn.execute(sql, params).fetchall())


def _fetch_each(conn: sqlite3.Connection, sql: str, rows: list[dict[str, Any]]) -> list[list[Row]]:
    return [list(conn.execute(sql, params).fetchall()) for params in rows]


def _script(conn: sqlite3.Connection, sql: str) -> None:
    # executescript() would COMMIT first and break the migration's transaction: split instead,
    # with SQLite's own tokenizer deciding where a statement ends.
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    leftover = [ln for ln in statement.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise StoreError(f"migration ends inside a statement: {leftover[0].strip()!r}")


def _begin(conn: sqlite3.Connection, readonly: bool) -> None:
    conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _commit(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back on its own (after SQLITE_FULL, for instance).
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _pragma_int(conn: sqlite3.Connection, pragma: str) -> int:
    row = conn.execute(pragma).fetchone()  # a dict: the connection's row factory is to_row
    return int(next(iter(row.values())))


def _reclaim(conn: sqlite3.Connection) -> int:
    if _pragma_int(conn, "PRAGMA auto_vacuum") != 2:  # 2: incremental; 0 (none) reuses free pages, never returns them
        return 0
    before = _pragma_int(conn, "PRAGMA freelist_count")
    if not before:
        return 0
    # executescript(), not execute(): sqlite3 steps a statement without result columns once, and
    # incremental_vacuum frees one page per step. It runs in a transaction of its own (autocommit)
    # that holds the write lock for this step only: 256 pages (1 MiB), ~3 ms, as short as a prune batch.
    conn.executescript("PRAGMA incremental_vacuum(256);")
    return before - _pragma_int(conn, "PRAGMA freelist_count")


def _close(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()


def _store_error(exc: sqlite3.Error, url: str) -> StoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _UNAVAILABLE:
        return StoreUnavailable(f"store {url} unavailable: {exc}")
    return StoreError(f"store {url}: {type(exc).__name__}: {exc}")


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Mark the outcome as seen when nobody awaits it any more (its awaiter was cancelled).
    if not future.cancelled():
        future.exception()


class SqliteTransaction(Transaction):
    """A transaction on the store's one connection."""

    def __init__(self, store: SqliteStore, conn: sqlite3.Connection) -> None:
        self._store = store
        self._conn = conn
        self._open = True

    def _sql(self, name: str) -> str:
        if not self._open:
            raise StoreError("this transaction has already ended")
        return self._store.queries[name]

    async def _run(self, fn: Callable[[sqlite3.Connection, str, Any], T], name: str, params: Any) -> T:
        return await self._store.call(fn, self._conn, self._sql(name), params)

    async def execute(self, name: str, params: Params | None = None) -> int:
        """Run the named statement; the number of rows it changed."""
        return await self._run(_execute, name, adapt(params))

    async def executemany(self, name: str, rows: Iterable[Params]) -> int:
        """Run the named statement once per row; the total number of rows changed."""
        adapted = [adapt(row) for row in rows]
        if not adapted:
            return 0
        return await self._run(_executemany, name, adapted)

    async def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        """Run the named query; its first row, or None."""
        rows = await self.fetchall(name, params)
        return rows[0] if rows else None

    async def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        """Run the named query; all of its rows."""
        return await self._run(_fetchall, name, adapt(params))

    async def fetch_each(self, name: str, rows: Iterable[Params]) -> list[list[Row]]:
        """Run the named statement once per row, in order, in one call; the rows each run returned."""
        adapted = [adapt(row) for row in rows]
        if not adapted:
            return []
        return await self._run(_fetch_each, name, adapted)

    async def run_script(self, sql: str) -> None:
        """Run a migration script: several statements, no parameters."""
        if not self._open:
            raise StoreError("this transaction has already ended")
        await self._store.call(_script, self._conn, sql)


class SqliteStore(Store):
    """The SQLite store; open it with `open_store("sqlite:///path")`."""

    dialect = "sqlite"

    def __init__(self, url: str, *, busy_timeout: float = 10.0) -> None:
        super().__init__(url)
        self.path = sqlite_path(url)
        self.queries = load_queries(self.dialect)
        self._busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wedwatch-sqlite")
        self._lock = asyncio.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    async def connect(self) -> None:
        """Open the database file (creating it if missing); StoreUnavailable if it cannot be."""
        self._conn = await self.call(_connect, self.path, self._busy_timeout)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking sqlite3 call on the store's thread; driver errors become StoreErrors."""
        try:
            return await asyncio.wrap_future(self._executor.submit(fn, *args, **kwargs))
        except sqlite3.Error as exc:
            raise _store_error(exc, self.url) from exc

    async def _settle(self, fn: Callable[[sqlite3.Connection], None], conn: sqlite3.Connection) -> None:
        future: Future[None] = self._executor.submit(fn, conn)
        waiter = asyncio.wrap_future(future)
        waiter.add_done_callback(_retrieve)
        try:
            # Shielded: a cancelled caller must not leave the connection inside a transaction.
            await asyncio.shield(waiter)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.url) from exc

    @asynccontextmanager
    async def _transaction(self, readonly: bool) -> AsyncIterator[Transaction]:
        async with self._lock:
            if self._conn is None:
                raise StoreError(f"store {self.url} is closed")
            conn = self._conn
            tx = SqliteTransaction(self, conn)
            try:
                # Inside the try: a task cancelled while BEGIN runs must still roll it back.
                await self.call(_begin, conn, readonly)
                yield tx
            except BaseException:
                tx._open = False
                try:
                    await self._settle(_rollback, conn)
                except StoreError as exc:
                    # The original error is the one worth raising; this one is only logged.
                    log.warning("store %s: rollback failed: %s", self.url, exc)
                raise
            tx._open = False
            await self._settle(_commit, conn)

    async def reclaim_space(self) -> int:
        """Hand a step of free pages (256) back to the file system (incremental auto-vacuum); how many."""
        async with self._lock:
            if self._conn is None:
                raise StoreError(f"store {self.url} is closed")
            return await self.call(_reclaim, self._conn)

    async def close(self) -> None:
        """Wait for the running transaction, then close the connection and its thread."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            conn, self._conn = self._conn, None
            try:
                if conn is not None:
                    await self.call(_close, conn)
            finally:
                self._executor.shutdown(wait=False)
