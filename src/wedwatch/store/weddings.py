"""The `weddings` table: the calendar as the store keeps it, for a calendar read from the store.

The store depends on the calendar's `Wedding` model, never the other way round: the calendar
reads the table through a protocol of its own (`wedwatch.calendar.sources.WeddingRows`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from wedwatch.calendar.model import Wedding
from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["WeddingMethods"]


class WeddingMethods(TransactionalStore):
    """Store methods on `weddings`."""

    async def upsert_weddings(
        self, weddings: Iterable[Wedding], *, now: datetime | None = None, tx: Transaction | None = None
    ) -> int:
        """Insert or replace weddings by id; the number written."""
        updated_at = utc_now(now)
        rows = [{**wedding.to_dict(), "updated_at": updated_at} for wedding in weddings]
        if not rows:
            return 0
        async with self._joined(tx) as t:
            await t.executemany("upsert_wedding", rows)
        return len(rows)

    async def list_weddings(self, *, tx: Transaction | None = None) -> list[Row]:
        """All weddings as calendar entries (the keys `wedwatch.calendar.parse_calendar` takes)."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_weddings")
