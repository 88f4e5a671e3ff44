"""Alertmanager notifications as received, once each: their dedup key makes a redelivery a no-op.

The receiver records a notification in the same transaction as its incidents (incidents.py) and
their actions (outbox.py), so a notification is either wholly ingested or not at all.

On SQLite the key is a UNIQUE column. On PostgreSQL the table is partitioned by `received_at`
(partitions.py) and a redelivery arrives later, maybe on another day, so no unique index can hold
the key: `insert_notification` (a function of migration 0007) takes an advisory lock on the key,
held until the transaction ends, and inserts only when no partition has it. Either way a key is known for as long
as its notification is kept (`store.retention.notifications_days`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now
from wedwatch.store.values import RawJson

__all__ = ["NotificationMethods"]


class NotificationMethods(TransactionalStore):
    """Store methods on `notifications`."""

    async def record_notification(
        self,
        *,
        dedup_key: str,
        group_key: str,
        receiver: str,
        status: str,
        alert_count: int,
        payload: Mapping[str, Any] | RawJson,
        received_at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Store an Alertmanager notification unless its dedup key is known; True when new."""
        values = {
            "dedup_key": dedup_key,
            "group_key": group_key,
            "receiver": receiver,
            "status": status,
            "alert_count": alert_count,
            "received_at": utc_now(received_at),
            "payload": payload if isinstance(payload, RawJson) else dict(payload),
        }
        async with self._joined(tx) as t:
            return await t.fetchone("insert_notification", values) is not None

    async def get_notification(self, dedup_key: str) -> Row | None:
        """A stored notification (its `payload` decoded), None if no notification has that key."""
        async with self._joined(None) as t:
            return await t.fetchone("get_notification", {"dedup_key": dedup_key})
