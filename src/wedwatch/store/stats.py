"""Rows and bytes per table, for `wedwatch store stats` and for watching retention work.

Rows are exact (`count(*)`: on a large PostgreSQL table that reads the table, seconds per ten
million rows). Bytes include the table's indexes (and TOAST): PostgreSQL's pg_total_relation_size
(a partitioned table: the sum of its partitions); SQLite's dbstat virtual table, which Python's
SQLite is normally built with. Where it is not, bytes are unknown (None) and `database_bytes`
still gives the whole file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wedwatch.errors import StoreError
from wedwatch.store.transaction import TransactionalStore

__all__ = ["StatsMethods", "TableStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TableStats:
    """One table's size: its rows, and its bytes with its indexes (None when the database cannot say)."""

    rows: int
    bytes: int | None


class StatsMethods(TransactionalStore):
    """Store methods that measure the tables."""

    async def table_stats(self) -> dict[str, TableStats]:
        """Every table's rows and bytes, by table name."""
        async with self._joined(None, readonly=True) as t:
            rows = {str(r["table_name"]): int(r["n"]) for r in await t.fetchall("table_rows")}
        sizes = await self._table_bytes()
        names = sorted(set(rows) | set(sizes or {}))
        return {name: TableStats(rows.get(name, 0), None if sizes is None else sizes.get(name, 0)) for name in names}

    async def _table_bytes(self) -> dict[str, int] | None:
        try:
            async with self._joined(None, readonly=True) as t:
                found = await t.fetchall("table_bytes")
        except StoreError as exc:
            if self.dialect != "sqlite" or "dbstat" not in str(exc):
                raise
            log.warning("store %s: SQLite built without the dbstat table: bytes per table unknown", self.url)
            return None
        return {str(r["table_name"]): int(r["bytes"] or 0) for r in found}

    async def database_bytes(self) -> int:
        """The whole database's size on disk (PostgreSQL: this database; SQLite: the main file)."""
        async with self._joined(None, readonly=True) as t:
            row = await t.fetchone("database_bytes")
        return int(row["bytes"]) if row is not None else 0
