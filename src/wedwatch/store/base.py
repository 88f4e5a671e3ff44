"""The store both back ends implement: its lifecycle, and the domain methods of every table.

Each kind of data has its own module of methods, written once against the transaction API
(transaction.py) and mixed in here; value conventions (timestamps, JSON, booleans, row sets)
are in values.py. Every method follows these rules:

* **Clock**: the database's clock is never used; methods take `now`-like arguments and default
  to the wall clock.
* **Transactions**: every domain method takes an optional keyword `tx`. Without it the method
  runs in a transaction of its own; with it, it joins the caller's, so that for instance the
  receiver commits a notification, its incidents and their outbox rows together or not at all:
  `async with store.transaction() as tx: await store.record_notification(..., tx=tx)`.
* **Errors**: a store that cannot be reached (or is busy past its timeout) raises
  StoreUnavailable, which callers answer with 503; every other driver error is a StoreError.
  Messages name the store by its redacted URL.
"""

from __future__ import annotations

from datetime import datetime

from wedwatch.store.forecasts import ForecastMethods
from wedwatch.store.incidents import IncidentMethods
from wedwatch.store.leases import LeaseMethods
from wedwatch.store.migrations import apply_migrations
from wedwatch.store.notifications import NotificationMethods
from wedwatch.store.outbox import OutboxMethods
from wedwatch.store.probe_results import ProbeResultMethods
from wedwatch.store.receiver_state import ReceiverStateMethods
from wedwatch.store.responses import ResponseMethods
from wedwatch.store.retention import RetentionMethods
from wedwatch.store.stats import StatsMethods
from wedwatch.store.weddings import WeddingMethods

__all__ = ["Store"]


class Store(
    WeddingMethods,
    ProbeResultMethods,
    NotificationMethods,
    IncidentMethods,
    OutboxMethods,
    ResponseMethods,
    ReceiverStateMethods,
    ForecastMethods,
    RetentionMethods,
    LeaseMethods,
    StatsMethods,
):
    """A wedwatch store: open one with `open_store(url)`; both back ends share these methods."""

    async def migrate(self, *, now: datetime | None = None) -> list[int]:
        """Apply pending schema migrations, then create the days ahead's partitions; the versions applied."""
        applied = await apply_migrations(self, now=now)
        # Every process start makes sure of a week of partitions (PostgreSQL; nothing on SQLite).
        await self.ensure_partitions(now)
        return applied

    async def ping(self) -> None:
        """Round-trip to the database; raises StoreUnavailable when it does not answer."""
        async with self.transaction(readonly=True) as tx:
            await tx.fetchone("ping")

    async def describe(self) -> dict[str, dict[str, str]]:
        """The schema as {table: {column: database type}}, for checks and tests."""
        async with self.transaction(readonly=True) as tx:
            rows = await tx.fetchall("describe_schema")
        tables: dict[str, dict[str, str]] = {}
        for row in rows:
            tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        return tables

    async def reclaim_space(self) -> int:
        """Hand a step of free pages back to the file system; how many (0: nothing left, or nothing to do here).

        Only SQLite databases created with incremental auto-vacuum do anything (sqlite.py); PostgreSQL's
        autovacuum makes the space of removed rows reusable on its own.
        """
        return 0
