"""When each (wedding, operation) is next due: a pure timetable driven by explicit `now` values.

The asyncio loop in scheduler.py only asks this timetable what is due; tests drive it with any
clock they like.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wedwatch.calendar.phases import WeddingStatus

__all__ = ["Job", "Schedule", "STARTUP_SPREAD_SECONDS"]

# New entries of tracked weddings start within this many seconds (or their interval, if shorter),
# so that a fresh exporter has data quickly without firing every probe in the same instant.
# Untracked weddings (a month and more away) start anywhere within their own interval, as they
# would be probed anyway: a restart with 50,000 weddings in the calendar would otherwise ask for
# 300,000 probes in those 30 s, and the ceremonies' probes would queue behind them.
STARTUP_SPREAD_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Job:
    """One probe to run: which wedding, which operation, when it was due."""

    wedding_id: str
    operation: str
    due: float
    interval: float


@dataclass(slots=True)
class _Entry:
    interval: float
    due: float
    last_due: float | None
    generation: int


class Schedule:
    """A heap of due times with lazy deletion; intervals change when phases do."""

    def __init__(self, *, jitter_ratio: float = 0.1, rng: random.Random | None = None) -> None:
        self.jitter_ratio = jitter_ratio
        self._rng = rng or random.Random()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._heap: list[tuple[float, int, tuple[str, str]]] = []
        self._generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def interval(self, wedding_id: str, operation: str) -> float | None:
        """The current interval of one entry, None when it is not scheduled."""
        entry = self._entries.get((wedding_id, operation))
        return entry.interval if entry else None

    def due(self, wedding_id: str, operation: str) -> float | None:
        """When one entry is next due, None when it is not scheduled."""
        entry = self._entries.get((wedding_id, operation))
        return entry.due if entry else None

    def update(self, statuses: Iterable[WeddingStatus], operations: Sequence[str], now: float) -> None:
        """Adopt a new plan: add new entries, re-tier changed ones, drop what is no longer probed."""
        wanted: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (interval, start-up spread)
        for status in statuses:
            interval = status.interval_seconds
            if interval is None:
                continue
            spread = min(interval, STARTUP_SPREAD_SECONDS) if status.tracked else interval
            for operation in operations:
                wanted[(status.wedding.id, operation)] = (interval, spread)
        for key in self._entries.keys() - wanted.keys():
            del self._entries[key]  # its heap items become stale
        for key, (interval, spread) in wanted.items():
            entry = self._entries.get(key)
            if entry is None:
                due = now + self._rng.uniform(0, spread)
                self._push(key, _Entry(interval, due, None, 0))
            elif entry.interval != interval:
                if entry.last_due is None:
                    due = min(entry.due, now + self._rng.uniform(0, spread))
                else:
                    # A wedding entering its ceremony gets the short interval counted from its last
                    # probe, not after the long one runs out; a longer interval simply waits longer.
                    due = max(now, entry.last_due + interval)
                self._push(key, _Entry(interval, due, entry.last_due, 0))
        if len(self._heap) > 4 * len(self._entries) + 64:
            self._compact()

    def next_due(self) -> float | None:
        """The earliest due time, None when nothing is scheduled."""
        while self._heap:
            due, generation, key = self._heap[0]
            entry = self._entries.get(key)
            if entry is not None and entry.generation == generation:
                return due
            heapq.heappop(self._heap)
        return None

    def pop_due(self, now: float, limit: int | None = None) -> list[Job]:
        """Jobs due at `now` (at most `limit`), each rescheduled one jittered interval later."""
        jobs: list[Job] = []
        while self._heap and (limit is None or len(jobs) < limit):
            due, generation, key = self._heap[0]
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation:
                heapq.heappop(self._heap)
                continue
            if due > now:
                break
            heapq.heappop(self._heap)
            jobs.append(Job(key[0], key[1], due, entry.interval))
            spread = entry.interval * self._rng.uniform(-self.jitter_ratio, self.jitter_ratio)
            following = due + entry.interval + spread
            if following <= now:
                # Far behind (a paused process, an overloaded host): resume, do not burst to catch up.
                following = now + entry.interval * self._rng.uniform(0, 1)
            self._push(key, _Entry(entry.interval, following, due, 0))
        return jobs

    def _push(self, key: tuple[str, str], entry: _Entry) -> None:
        self._generation += 1
        entry.generation = self._generation
        self._entries[key] = entry
        heapq.heappush(self._heap, (entry.due, entry.generation, key))

    def _compact(self) -> None:
        self._heap = [(e.due, e.generation, k) for k, e in self._entries.items()]
        heapq.heapify(self._heap)
