"""The transaction API every store method is written against, and the abstract store core."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Self

from wedwatch.errors import StoreError
from wedwatch.urls import redact_url

__all__ = ["Params", "Row", "Transaction", "TransactionalStore", "utc_now"]

Params = Mapping[str, Any]
Row = dict[str, Any]


def utc_now(now: datetime | None = None) -> datetime:
    """`now` when given (it must be aware), else the wall clock in UTC."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now.isoformat()}: the store needs aware datetimes")
    return now


class Transaction(ABC):
    """One open transaction; statements are named queries from `sql/queries.sql`."""

    @abstractmethod
    async def execute(self, name: str, params: Params | None = None) -> int:
        """Run the named statement; the number of rows it changed."""

    @abstractmethod
    async def executemany(self, name: str, rows: Iterable[Params]) -> int:
        """Run the named statement once per row; the total number of rows changed."""

    @abstractmethod
    async def fetchone(self, name: str, params: Params | None = None) -> Row | None:
        """Run the named query; its first row, or None."""

    @abstractmethod
    async def fetchall(self, name: str, params: Params | None = None) -> list[Row]:
        """Run the named query; all of its rows."""

    @abstractmethod
    async def fetch_each(self, name: str, rows: Iterable[Params]) -> list[list[Row]]:
        """Run the named statement once per row, in order, in one round trip; the rows each run returned."""

    @abstractmethod
    async def run_script(self, sql: str) -> None:
        """Run a migration script: several statements, no parameters."""


class TransactionalStore(ABC):
    """What every back end provides: transactions on named queries, and close()."""

    dialect: ClassVar[str]

    def __init__(self, url: str) -> None:
        # Only the redacted form is kept, so no message or log line can leak a password.
        self.url = redact_url(url)
        self._tx_tasks: set[asyncio.Task[Any]] = set()

    @asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Transaction]:
        """Open a transaction: committed when the block ends, rolled back when it raises."""
        task = asyncio.current_task()
        # A nested transaction() in the same task would deadlock on SQLite's single connection
        # and silently split the work in two on PostgreSQL: refuse it and say what to do.
        if task is not None and task in self._tx_tasks:
            raise StoreError("a transaction is already open in this task; pass tx= to join it")
        if task is not None:
            self._tx_tasks.add(task)
        try:
            async with self._transaction(readonly) as tx:
                yield tx
        finally:
            if task is not None:
                self._tx_tasks.discard(task)

    @asynccontextmanager
    async def _joined(self, tx: Transaction | None, *, readonly: bool = False) -> AsyncIterator[Transaction]:
        """The caller's transaction when given, else a new one of our own."""
        if tx is not None:
            yield tx
            return
        async with self.transaction(readonly=readonly) as own:
            yield own

    @abstractmethod
    def _transaction(self, readonly: bool) -> AbstractAsyncContextManager[Transaction]:
        """The back end's transaction; `readonly` is a hint (SQLite then needs no write lock)."""

    @abstractmethod
    async def connect(self) -> None:
        """Connect to the database; StoreUnavailable when it cannot be reached."""

    @abstractmethod
    async def close(self) -> None:
        """Wait for running transactions, then release connections; idempotent."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
