"""The forecaster's loops as the receiver runs them: refits and plan dispatch, off the request path.

    runner = ForecastRunner(config, store=store, weddings=weddings, session=session, refitted=..., dispatched=...)
    runner.start()                  # the refit loop and the plan loop, as tasks
    runner.ask()                    # an alert asked for capacity: refit soon
    await runner.stop()             # cancel both, stop the worker processes

Replicas share the store, so a replica refits only when the newest stored prediction sets are
not fresh (`is_fresh`), or when an alert asked for capacity.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import aiohttp

from wedwatch.config.model import Config
from wedwatch.forecast.forecaster import Forecaster, WeddingSource
from wedwatch.store import Store
from wedwatch.store.transaction import Row

__all__ = ["ForecastRunner", "is_fresh", "REFIT_START_DELAY_SECONDS", "REFIT_MIN_SPACING_SECONDS", "PLAN_INTERVAL_SECONDS"]

log = logging.getLogger(__name__)

REFIT_START_DELAY_SECONDS = 60.0
REFIT_MIN_SPACING_SECONDS = 900.0  # an alert storm asks for capacity once, not a hundred fits
PLAN_INTERVAL_SECONDS = 300.0


def is_fresh(sets: Sequence[Row], series: Sequence[str], refit_interval_seconds: float, now: datetime) -> bool:
    """Whether the stored prediction sets cover every series and the oldest is younger than 0.9 of the interval."""
    if not sets or {r["series"] for r in sets} < set(series):
        return False
    oldest = min(r["created_at"] for r in sets)
    age: float = (now - oldest).total_seconds()
    return age < 0.9 * refit_interval_seconds


class ForecastRunner:
    """Refits on the configured interval (sooner when asked) and dispatches due plan steps."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store,
        weddings: WeddingSource,
        session: aiohttp.ClientSession,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        refitted: Callable[[], Awaitable[None]],
        dispatched: Callable[[], None],
    ) -> None:
        self.config = config
        self.store = store
        self.forecaster = Forecaster(config, store=store, weddings=weddings, session=session)
        self._now = now
        self._refitted = refitted  # after each round: the receiver re-reads what it exports
        self._dispatched = dispatched  # after each dispatch: the receiver's worker looks at the outbox
        self._refit_now = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the refit loop and the plan loop."""
        self._tasks.append(asyncio.create_task(self._refit_loop(), name="forecast refit"))
        self._tasks.append(asyncio.create_task(self._plan_loop(), name="capacity plan"))

    def ask(self) -> None:
        """An alert asked for capacity: refit at the next chance (at most once per REFIT_MIN_SPACING_SECONDS)."""
        self._refit_now.set()

    async def stop(self) -> None:
        """Cancel the loops, then stop the forecaster's worker processes."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.forecaster.close()

    async def _refit_loop(self) -> None:
        """Refit on the configured interval, and sooner when an alert asked for capacity."""
        await asyncio.sleep(REFIT_START_DELAY_SECONDS)  # let the process settle before the first fits
        asked = False
        while True:
            try:
                if asked or not await self._fresh():
                    await self.forecaster.refit(now=self._now())
                await self._refitted()
            except Exception:  # a failed fit must not stop the receiver; the next round retries
                log.exception("forecast refit failed")
            self._refit_now.clear()
            asked = False
            try:
                async with asyncio.timeout(self.config.forecast.refit_interval_seconds):
                    await self._refit_now.wait()
                asked = True
                await asyncio.sleep(REFIT_MIN_SPACING_SECONDS)
            except TimeoutError:
                pass

    async def _fresh(self) -> bool:
        """Whether another replica (or an earlier run) refitted within the interval: replicas share the store."""
        sets = await self.store.latest_prediction_sets()
        forecast = self.config.forecast
        return is_fresh(sets, list(forecast.series), forecast.refit_interval_seconds, self._now())

    async def _plan_loop(self) -> None:
        """Turn due plan steps into recommendations (or, with forecast.mode: act, outbox actions)."""
        while True:
            await asyncio.sleep(PLAN_INTERVAL_SECONDS)
            try:
                await self.forecaster.dispatch(now=self._now())
            except Exception:
                log.exception("capacity plan dispatch failed")
            self._dispatched()
