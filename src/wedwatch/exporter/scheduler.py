"""The asyncio shell around the timetable: wait for the next due job, bound concurrency, measure lag."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from wedwatch.exporter.schedule import Job, Schedule

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)


class Scheduler:
    """Runs each due job once at a time per (wedding, operation), at most `max_concurrency` at once."""

    def __init__(
        self,
        schedule: Schedule,
        run_job: Callable[[Job], Awaitable[None]],
        *,
        max_concurrency: int,
        on_lag: Callable[[float], None],
        on_skip: Callable[[Job], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.schedule = schedule
        self._run_job = run_job
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._on_lag = on_lag
        self._on_skip = on_skip
        self._clock = clock
        self._wake = asyncio.Event()
        self._inflight: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def inflight(self) -> int:
        """Probes running now."""
        return len(self._inflight)

    def wake(self) -> None:
        """Re-read the timetable now (after an update made something due sooner)."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch due jobs until cancelled."""
        try:
            while True:
                now = self._clock()
                due = self.schedule.next_due()
                if due is None or due > now:
                    self._wake.clear()
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                    # that races with the event being set, and the scheduler would never stop.
                    try:
                        async with asyncio.timeout(None if due is None else due - now):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                    continue
                for job in self.schedule.pop_due(now, limit=256):
                    await self._dispatch(job)
        finally:
            await self._cancel_all()

    async def _dispatch(self, job: Job) -> None:
        key = (job.wedding_id, job.operation)
        if key in self._inflight:
            self._on_skip(job)
            return
        await self._semaphore.acquire()
        self._on_lag(max(0.0, self._clock() - job.due))
        self._inflight.add(key)
        task = asyncio.create_task(self._guarded(job, key), name=f"probe {job.operation} {job.wedding_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, job: Job, key: tuple[str, str]) -> None:
        try:
            await self._run_job(job)
        except Exception:
            log.exception("job %s/%s failed", job.wedding_id, job.operation)
        finally:
            self._inflight.discard(key)
            self._semaphore.release()

    async def _cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
