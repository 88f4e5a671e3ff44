"""The forecaster the receiver runs on a schedule (never on the request path).

    forecaster = Forecaster(config, store=store)
    sets = await forecaster.refit()             # every forecast.refit_interval_seconds
    steps = forecaster.plan(now=now)            # pure: from the latest forecast and the calendar
    await forecaster.dispatch(now=now)          # every few minutes: due steps into the store
    await forecaster.close()

Prophet fits run in a `ProcessPoolExecutor` of `workers` spawned processes (spawn, not fork: the
receiver has threads, and a forked child inherits their locks). Each worker imports Prophet once
and is replaced after a number of fits, so that memory fragmentation cannot grow without bound.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp

from wedwatch.calendar.model import Wedding
from wedwatch.config.model import Config
from wedwatch.forecast.dispatch import DispatchResult, dispatch_due
from wedwatch.forecast.history import query_range
from wedwatch.forecast.persist import PredictionSet, latest_prediction_sets, save_prediction_set
from wedwatch.forecast.pipeline import forecast_series
from wedwatch.forecast.plan import PlanStep, plan
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.regressors import Booking
from wedwatch.forecast.series import HOUR, SeriesKind, floor_hour
from wedwatch.forecast.settings import ForecastSettings

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["Forecaster", "WeddingSource", "forecast_from_points", "make_executor", "settings_from_config"]

log = logging.getLogger(__name__)

WeddingSource = Callable[[], Awaitable[Sequence[Wedding | Booking]]]
# A worker is replaced after this many fits (each costs ~1 s of imports when it starts).
_FITS_PER_WORKER = 50


def make_executor(workers: int) -> ProcessPoolExecutor:
    """A process pool for Prophet fits (spawned workers, recycled every 50 fits)."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=_FITS_PER_WORKER
    )


def settings_from_config(config: Config) -> ForecastSettings:
    """The forecaster's settings: the config's `forecast` section is a ForecastSettings."""
    return config.forecast


def forecast_from_points(pset: PredictionSet) -> Forecast:
    """A stored prediction set's points back as a Forecast (for planning from the store)."""
    points = pset.points

    def col(key: str, fallback: str) -> tuple[float, ...]:
        return tuple(float(p.get(key, p[fallback])) for p in points)

    return Forecast(
        start=pset.horizon_start,
        yhat=col("yhat", "yhat"),
        lower_80=col("yhat_lower", "yhat"),
        upper_80=col("yhat_upper", "yhat"),
        lower_95=col("yhat_lower_95", "yhat_lower"),
        upper_95=col("yhat_upper_95", "yhat_upper"),
        model=pset.model,
    )


class Forecaster:
    """Refits every configured series, keeps the latest prediction sets, plans and dispatches."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store | None = None,
        settings: ForecastSettings | None = None,
        executor: Executor | None = None,
        session: aiohttp.ClientSession | None = None,
        weddings: WeddingSource | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or settings_from_config(config)
        self.store = store
        self._own_executor = executor is None
        self._executor = executor
        self._session = session
        self._own_session = session is None
        self._weddings = weddings
        self.latest: dict[str, PredictionSet] = {}

    @property
    def executor(self) -> Executor:
        """The process pool, started on first use."""
        if self._executor is None:
            self._executor = make_executor(self.settings.workers)
        return self._executor

    async def _bookings(self) -> list[Wedding | Booking]:
        if self._weddings is not None:
            return list(await self._weddings())
        from wedwatch.calendar import load_calendar

        if self.config.calendar.source == "none":
            return []
        return list((await load_calendar(self.config.calendar, store=self.store)).weddings)

    async def refit(self, *, now: datetime | None = None) -> list[PredictionSet]:
        """Fetch each configured series' history, forecast it and store the prediction sets."""
        now = floor_hour(now or datetime.now(UTC))
        fc = self.config.forecast
        if not self.config.features.predictive_scaling or not fc.series:
            return []
        if fc.prometheus_url is None:
            raise ValueError("forecast.series needs forecast.prometheus_url")
        bookings = [b if isinstance(b, Booking) else Booking(b) for b in await self._bookings()]
        if self._session is None:
            self._session = aiohttp.ClientSession()
        out: list[PredictionSet] = []
        start = now - self.settings.history_hours * HOUR
        for name, series in fc.series.items():
            kind: SeriesKind = "counter" if getattr(series, "kind", "gauge") == "counter" else "gauge"
            try:
                history = await query_range(self._session, fc.prometheus_url, series.query, start, now - HOUR,
                                            kind=kind, headers=fc.prometheus_headers)  # fmt: skip
                result = await forecast_series(
                    name, history, bookings, now=now, horizon=fc.horizon_hours, settings=self.settings,
                    bounds=self.config.actions.capacity, executor=self.executor,
                )  # fmt: skip
            except Exception:
                # One broken series (a bad query, a short history) must not stop the others.
                log.exception("forecast of series %s failed", name)
                continue
            if self.store is not None:
                await save_prediction_set(self.store, result.prediction_set)
            self.latest[name] = result.prediction_set
            out.append(result.prediction_set)
        return out

    async def load_latest(self) -> list[PredictionSet]:
        """Read the newest prediction sets from the store (after a restart)."""
        if self.store is None:
            return list(self.latest.values())
        sets = await latest_prediction_sets(self.store)
        self.latest.update({s.series: s for s in sets})
        return sets

    def plan(self, *, now: datetime, weddings: Sequence[Wedding | Booking]) -> list[PlanStep]:
        """The plan from the sizing series' latest forecast (empty when there is none)."""
        pset = self.latest.get(self.settings.capacity.series)
        if pset is None:
            return []
        plain = [w.wedding if isinstance(w, Booking) else w for w in weddings]
        return plan(
            forecast_from_points(pset), plain, now=now, capacity=self.settings.capacity,
            bounds=self.config.actions.capacity, settings=self.settings.plan,
        )  # fmt: skip

    async def dispatch(self, *, now: datetime | None = None) -> DispatchResult:
        """Plan and hand the due steps to the store (enqueued in `act` mode, recorded otherwise)."""
        now = now or datetime.now(UTC)
        if self.store is None:
            raise ValueError("dispatching needs a store")
        if not self.config.features.predictive_scaling:
            # PREDICTIVE_SCALING_ENABLED=false: no stored forecast may still drive actions.
            return DispatchResult(self.config.forecast.mode)
        if not self.latest:
            await self.load_latest()
        steps = self.plan(now=now, weddings=await self._bookings())
        return await dispatch_due(
            self.store, steps, now=now, mode=self.config.forecast.mode,
            max_lateness=timedelta(seconds=self.settings.plan.max_lateness_seconds),
        )  # fmt: skip

    async def close(self) -> None:
        """Stop the worker processes and close the HTTP session this forecaster opened."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
        if self._own_executor and self._executor is not None:
            executor, self._executor = self._executor, None
            # Joining the workers blocks: not on the event loop.
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> Forecaster:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
