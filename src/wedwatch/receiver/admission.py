"""Under a storm, the live wedding first: which notification gets the store next.

A platform-wide outage makes Alertmanager send thousands of notifications at once (one per group:
2,000 weddings, 2,000 webhooks within a second). Each waits for the store: SQLite takes one
transaction at a time, PostgreSQL as many as the pool holds, and both queue the rest first come,
first served. A live wedding's alert arriving in the middle of such a storm would wait behind all
of it (bench/detect.py's storm class measured 3-19 s on SQLite before this gate).

`IngestGate` holds the notifications instead, with as many in the store at once as it can take,
and lets the waiting ones in by priority, then arrival: a notification that is `urgent` (a firing
alert about a live wedding, from the fast path, or critical) goes before every other one still
waiting. What is already in the store finishes first; nothing is dropped or reordered within an
Alertmanager group, which sends its next notification only after the previous one's answer.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from wedwatch.receiver.payload import Notification

__all__ = ["IngestGate", "URGENT", "ROUTINE", "priority"]

URGENT = 0
ROUTINE = 1


def priority(notification: Notification, live_weddings: Collection[str], any_live: bool) -> int:
    """URGENT when a firing alert is about a live wedding (its `wedding_id`, the fast path's
    `live="true"`, or no wedding while one is live) or critical; ROUTINE otherwise."""
    for alert in notification.alerts:
        if alert.status != "firing":
            continue
        labels = alert.labels
        if labels.get("live") == "true" or labels.get("severity", "").lower() == "critical":
            return URGENT
        wedding = labels.get("wedding_id")
        if (wedding in live_weddings) if wedding else any_live:
            return URGENT
    return ROUTINE


class IngestGate:
    """At most `slots` holders at once; waiters are let in by priority (lower first), then arrival."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self._free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    @property
    def waiting(self) -> int:
        """Holders waiting for a slot (cancelled ones leave lazily)."""
        return sum(1 for _, _, f in self._waiting if not f.done())

    @asynccontextmanager
    async def slot(self, priority: int) -> AsyncIterator[None]:
        """Hold a slot for the body of the `async with`."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._arrival), granted))
            try:
                await granted
            except asyncio.CancelledError:
                if granted.done() and not granted.cancelled():
                    self._release()  # granted, then cancelled before it ran: pass the slot on
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():  # a cancelled waiter is skipped
                granted.set_result(None)
                return
        self._free += 1
