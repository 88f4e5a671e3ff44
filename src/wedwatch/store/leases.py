"""Named leases in the store: one holder at a time across every process sharing the database.

A lease is a row (`store_leases`) with its holder and an expiry. It works the same on SQLite and
PostgreSQL, needs no connection held open (an advisory lock is tied to one session, which a pool
hands to whoever asks next), and lapses on its own when its holder dies. The holder renews it inside
the transactions it protects (`renew_lease(..., tx=tx)`): a transaction whose renewal finds the
lease taken over rolls back instead of working beside the new holder. Times are the holder's wall
clock, never the database's, as everywhere in the store; replicas' clocks need only agree to well
within the lease's length.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["LeaseMethods"]


class LeaseMethods(TransactionalStore):
    """Store methods on `store_leases`."""

    async def acquire_lease(
        self, name: str, holder: str, *, seconds: float, now: datetime | None = None, tx: Transaction | None = None
    ) -> bool:
        """Take the lease `name` for `seconds` unless another holder's is current; True when taken (or renewed)."""
        moment = utc_now(now)
        values = {"name": name, "holder": holder, "now": moment, "expires_at": moment + timedelta(seconds=seconds)}
        async with self._joined(tx) as t:
            return await t.fetchone("acquire_lease", values) is not None

    async def renew_lease(
        self, name: str, holder: str, *, seconds: float, now: datetime | None = None, tx: Transaction | None = None
    ) -> bool:
        """Extend `holder`'s lease to `seconds` from now; False when another holder has it now."""
        values = {"name": name, "holder": holder, "expires_at": utc_now(now) + timedelta(seconds=seconds)}
        async with self._joined(tx) as t:
            return await t.fetchone("renew_lease", values) is not None

    async def release_lease(self, name: str, holder: str, *, tx: Transaction | None = None) -> bool:
        """Give the lease up if `holder` has it; True when it did."""
        async with self._joined(tx) as t:
            return await t.execute("release_lease", {"name": name, "holder": holder}) > 0

    async def get_lease(self, name: str, *, tx: Transaction | None = None) -> Row | None:
        """The lease's row (holder, acquired_at, expires_at), None when nobody took it or it was released."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchone("get_lease", {"name": name})
