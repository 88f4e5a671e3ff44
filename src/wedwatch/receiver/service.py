"""The receiver's moving parts: the store (opened, and re-opened until it answers), the calendar,
the outbox worker, the metrics and, with predictive scaling, the forecast runner (forecast/runner.py).
The aiohttp app only exposes them."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.calendar.watch import CalendarWatcher
from wedwatch.config import Config, LoadedConfig
from wedwatch.errors import StoreError, StoreUnavailable
from wedwatch.forecast.persist import forecast_samples
from wedwatch.receiver.admission import IngestGate, priority
from wedwatch.receiver.ingest import IngestResult, ingest
from wedwatch.receiver.metrics import ReceiverMetrics
from wedwatch.receiver.payload import Notification
from wedwatch.receiver.worker import Worker
from wedwatch.store import Store, open_store
from wedwatch.store.pruning import PruneReport, prune
from wedwatch.store.transaction import Row
from wedwatch.store.values import RawJson
from wedwatch.urls import redact_url

if TYPE_CHECKING:
    from wedwatch.forecast.runner import ForecastRunner

__all__ = ["Receiver"]

log = logging.getLogger(__name__)
STORE_RETRY_SECONDS = 5.0
FORECAST_REFRESH_SECONDS = 60.0
PARTITION_INTERVAL_SECONDS = (
    6 * 3600.0
)  # with pruning off: the day partitions created ahead (a week) at least this often
# Every wedding's status is recomputed at most this often (and whenever the calendar or the
# configuration changes): plan() walks the whole calendar, 5.5 ms per notification at 2,000
# weddings (bench/saturday.py), and phases change at minute boundaries or coarser.
STATUS_CACHE_SECONDS = 1.0


class Receiver:
    """One receiver process; several may share one PostgreSQL."""

    def __init__(
        self,
        loaded: LoadedConfig,
        session: aiohttp.ClientSession,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        run_worker: bool = True,
        worker_id: str | None = None,
    ) -> None:
        self.loaded = loaded
        self.session = session
        self.now = now
        # The newest prediction set of each series, re-read from the store every minute, so that
        # any replica exports what the forecaster last wrote (forecasts change hourly).
        self.forecasts: list[Row] = []
        self.metrics = ReceiverMetrics(lambda: forecast_samples(self.forecasts, self.now()))
        self.store: Store | None = None
        self.calendar = CalendarWatcher(session=session)
        self.worker: Worker | None = None
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._run_worker = run_worker
        self._tasks: list[asyncio.Task[None]] = []
        self.forecasting: ForecastRunner | None = None
        # As many notifications in the store at once as it takes (SQLite: one transaction at a
        # time; PostgreSQL: the pool), the others let in live weddings first (receiver/admission.py).
        store = self.config.store
        self.gate = IngestGate(1 if store.url.startswith("sqlite") else store.pool_max_size)
        self.metrics.ingest_waiting.set_function(lambda: self.gate.waiting)
        self._live: tuple[list[WeddingStatus] | None, frozenset[str]] = (None, frozenset())

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self.loaded.config

    async def start(self) -> None:
        """Open the store (in the background until it answers) and start the loops."""
        await self._open_store_once()
        if self.store is None:
            self._tasks.append(asyncio.create_task(self._open_store_forever(), name="store opener"))
        else:
            await self._after_store()

    async def stop(self) -> None:
        """Stop the loops and close the store."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.forecasting is not None:
            await self.forecasting.stop()
            self.forecasting = None
        await self.calendar.aclose()
        if self.store is not None:
            await self.store.close()
            self.store = None

    async def _open_store_once(self) -> None:
        try:
            store = self.config.store
            self.store = await open_store(store.url, pool_max_size=store.pool_max_size, timeout=store.timeout_seconds)
        except StoreError as exc:
            log.error("store %s unavailable, answering 503 until it is: %s", redact_url(self.config.store.url), exc)

    async def _open_store_forever(self) -> None:
        while self.store is None:
            await asyncio.sleep(STORE_RETRY_SECONDS)
            await self._open_store_once()
        await self._after_store()

    async def _after_store(self) -> None:
        assert self.store is not None
        self.calendar.store = self.store
        await self.calendar.refresh(self.config)
        self._tasks.append(asyncio.create_task(self.calendar.run(self.config), name="calendar refresh"))
        self._tasks.append(asyncio.create_task(self._forecast_loop(), name="forecast refresh"))
        forecast = self.config.forecast
        if self.config.features.predictive_scaling and forecast.series and forecast.prometheus_url:
            from wedwatch.forecast.runner import ForecastRunner  # the forecaster loads only when it runs

            async def weddings() -> list[Wedding]:
                return list(self.calendar.weddings.values())

            def dispatched() -> None:
                if self.worker is not None:
                    self.worker.wake()

            self.forecasting = ForecastRunner(
                self.config, store=self.store, weddings=weddings, session=self.session, now=self.now,
                refitted=self.refresh_forecasts, dispatched=dispatched,
            )  # fmt: skip
            self.forecasting.start()
        r = self.config.receiver
        self.worker = Worker(
            self.store,
            lambda: self.config,
            self.session,
            self.metrics,
            worker_id=self.worker_id,
            now=self.now,
            batch=r.worker_batch,
            max_attempts=r.action_max_attempts,
            backoff_seconds=r.backoff_seconds,
        )
        if self._run_worker:
            self._tasks.append(asyncio.create_task(self.worker.run(), name="outbox worker"))
        if self.config.store.retention.enabled:
            self._tasks.append(asyncio.create_task(self._prune_loop(), name="store pruning"))
        else:
            # Pruning creates the day partitions ahead (PostgreSQL); without it they are still
            # needed, or every day after the first week would land in the DEFAULT partition.
            self._tasks.append(asyncio.create_task(self._partition_loop(), name="store partitions"))

    async def prune_once(self) -> PruneReport:
        """One retention pass (store/pruning.py), skipped when another replica holds the lease; counted in the metrics."""
        retention = self.config.store.retention
        started = time.monotonic()
        try:
            report = await prune(
                self.require_store(), retention.windows(), holder=self.worker_id, at=self.now(),
                batch_size=retention.batch_size, pause_seconds=retention.pause_seconds, on_batch=self.metrics.pruned,
            )  # fmt: skip
        except StoreError:
            self.metrics.prune_run("failed", seconds=time.monotonic() - started)
            raise
        outcome = "skipped" if report.skipped else "failed" if report.lease_lost else "completed"
        self.metrics.prune_run(outcome, seconds=report.seconds, finished_at=time.time())
        return report

    async def _prune_loop(self) -> None:
        # The first pass waits a random part of the interval, so that replicas started together spread out.
        await asyncio.sleep(random.uniform(0.1, 1.0) * self.config.store.retention.interval_seconds)
        while True:
            try:
                report = await self.prune_once()
                if report.rows:
                    log.info("pruned %d rows in %.1f s", report.rows, report.seconds)
            except StoreError as exc:
                log.warning("pruning failed, next try in one interval: %s", exc)
            await asyncio.sleep(self.config.store.retention.interval_seconds)

    async def _partition_loop(self) -> None:
        while True:
            await asyncio.sleep(PARTITION_INTERVAL_SECONDS)
            try:
                await self.require_store().ensure_partitions(self.now())
            except StoreError as exc:
                log.warning("creating the store's day partitions failed, next try in 6 h: %s", exc)

    async def refresh_forecasts(self) -> None:
        """Re-read the newest prediction sets (what `wedwatch_forecast` exports)."""
        try:
            self.forecasts = await self.require_store().latest_prediction_sets()
        except StoreError as exc:
            log.warning("reading forecasts failed, keeping the last ones: %s", exc)

    async def _forecast_loop(self) -> None:
        while True:
            await self.refresh_forecasts()
            await asyncio.sleep(FORECAST_REFRESH_SECONDS)

    def statuses(self) -> list[WeddingStatus]:
        """Every known wedding's status now (computed at most once a second; do not modify the list)."""
        return self.calendar.statuses(self.config, self.now(), max_age_seconds=STATUS_CACHE_SECONDS)

    def require_store(self) -> Store:
        """The store, or StoreUnavailable while it has not been opened."""
        if self.store is None:
            raise StoreUnavailable("the store has not been reached yet")
        return self.store

    def live_weddings(self) -> frozenset[str]:
        """The ids of the weddings live now (recomputed when the statuses are)."""
        statuses = self.statuses()
        if self._live[0] is not statuses:  # the same list until the statuses are recomputed
            self._live = (statuses, frozenset(s.wedding.id for s in statuses if is_live(s.phase)))
        return self._live[1]

    async def accept(self, notification: Notification, raw: Mapping[str, object] | RawJson) -> IngestResult:
        """Persist one notification (durably, before the caller answers 200) and wake the worker."""
        store = self.require_store()
        live = self.live_weddings()
        async with self.gate.slot(priority(notification, live, bool(live))):
            result = await ingest(store, notification, raw, self.statuses(), self.config.actions, self.now())
        m = self.metrics
        m.notifications.labels("duplicate" if result.duplicate else "accepted").inc()
        for status, severity in result.alerts:
            m.alerts.labels(status, severity).inc()
        for strategy, seconds in result.resolved:
            if seconds is not None:
                m.resolution.labels(strategy).observe(seconds)
        for action, outcome in result.actions_finished:
            m.action(action, outcome)
        if result.emergency_entered:
            m.emergency.set(1)
            log.warning("emergency mode entered")
        # `log` actions were recorded final: only the others are the worker's.
        if result.actions_queued > len(result.actions_finished) and self.worker is not None and self._run_worker:
            self.worker.wake()
        if result.capacity_asked and self.forecasting is not None:
            self.forecasting.ask()  # an alert asked for capacity: refresh the forecast (off this path)
        return result
