"""The exporter's moving parts wired together: calendar refresh, timetable, probes, state, reloads."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp

from wedwatch.calendar import Wedding, plan
from wedwatch.calendar.phases import WeddingStatus
from wedwatch.calendar.shard import Shard, select
from wedwatch.calendar.watch import CalendarWatcher
from wedwatch.config import Config, LoadedConfig, load_config
from wedwatch.config.platform_auth import OAuth2Config
from wedwatch.errors import WedwatchError
from wedwatch.exporter.probes import ProbeContext, ProbeResult, probe_context, run_probe
from wedwatch.exporter.recorder import Recorder
from wedwatch.exporter.schedule import Job, Schedule
from wedwatch.exporter.scheduler import Scheduler
from wedwatch.exporter.state import ExporterState
from wedwatch.oauth2 import TokenSource

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["Exporter"]

log = logging.getLogger(__name__)


class Exporter:
    """Owns the state one exporter process publishes; the aiohttp app only exposes it."""

    def __init__(
        self,
        loaded: LoadedConfig,
        session: aiohttp.ClientSession,
        *,
        recorder: Recorder | None = None,
        calendar_store: Store | None = None,
        shard: Shard | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.loaded = loaded
        self.session = session
        self.recorder = recorder
        self.shard = shard
        self.state = ExporterState()
        self.weddings: dict[str, Wedding] = {}
        self.ready = False
        self.calendar = CalendarWatcher(session=session, store=calendar_store)
        self._now = now
        self._monotonic = monotonic
        self.schedule = Schedule(jitter_ratio=loaded.config.schedule.jitter_ratio, rng=rng)
        self.scheduler = Scheduler(
            self.schedule,
            self._run_job,
            max_concurrency=loaded.config.schedule.max_concurrency,
            on_lag=self.state.lag.observe,
            on_skip=self._skipped,
            clock=monotonic,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: list[TokenSource] = []
        self._reload_lock = asyncio.Lock()
        self._enabled: tuple[Config, frozenset[str]] | None = None
        self._plans_started = 0
        self._tokens: TokenSource | None = None
        self._auth_config: OAuth2Config | None = None
        self._use_auth(loaded.config)

    def _use_auth(self, config: Config) -> None:
        """One OAuth2 token for every probe (a new source only when the auth settings change)."""
        wanted = config.platform.auth.oauth2
        if self._tokens is not None and self._auth_config == wanted:
            return
        self._auth_config = wanted
        old, self._tokens = self._tokens, TokenSource(wanted, self.session) if wanted is not None else None
        if old is not None:
            self._closing.append(old)

    @property
    def authorization(self) -> Callable[[], Awaitable[str]] | None:
        """The platform's Authorization header, when OAuth2 is configured."""
        return self._tokens.authorization if self._tokens is not None else None

    @property
    def redactions(self) -> tuple[str, ...]:
        """What debug output must never show: the config's secrets and the current token."""
        if self._tokens is None:
            return self.loaded.secrets
        return (*self._tokens.secrets(), *self.loaded.secrets)

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self.loaded.config

    @property
    def operations(self) -> list[str]:
        """Enabled operations, in contract order."""
        return self.config.operations.enabled()

    def _is_enabled(self, operation: str) -> bool:
        # Asked once per probe: the set is rebuilt only when a reload brings a new config.
        config = self.loaded.config
        if self._enabled is None or self._enabled[0] is not config:
            self._enabled = (config, frozenset(config.operations.enabled()))
        return operation in self._enabled[1]

    async def start(self, *, schedule: bool = True) -> None:
        """Load the calendar once, then run the scheduler (unless off) and the refresh loop."""
        self.state.reload_timestamp = time.time()
        await self.refresh()
        self._tasks = [asyncio.create_task(self._refresh_loop(), name="calendar refresh")]
        if schedule:
            self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))
        if self.recorder is not None:
            self._tasks.append(asyncio.create_task(self.recorder.run(), name="store recorder"))

    async def stop(self) -> None:
        """Cancel the background work and flush what the recorder holds."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for tokens in [*self._closing, *([self._tokens] if self._tokens else [])]:
            await tokens.aclose()
        if self.recorder is not None:
            await self.recorder.flush()

    async def refresh(self) -> None:
        """Re-read the calendar (keeping the last good one on failure) and re-plan every wedding."""
        if await self.calendar.refresh(self.config, authorization=self.authorization):
            self.state.calendar_errors = self.calendar.skipped_entries
            # With --shard i/n this exporter keeps only its own weddings: every wedding has one prober.
            self.weddings = {w.id: w for w in select(self.calendar.weddings.values(), self.shard)}
        self._plans_started += 1
        started, config = self._plans_started, self.config
        # Phases of 5,000 weddings take ~60 ms of pure Python: computed on a thread, the event loop
        # gets a turn every switch interval (5 ms) and probes keep starting on time (bench/scheduler.py).
        statuses = await asyncio.to_thread(plan, list(self.weddings.values()), self._now(), config.schedule, config.features)
        if started == self._plans_started:  # a newer refresh (a reload) has not overtaken this one
            self._apply(statuses, config)
        self.ready = True

    def replan(self) -> list[WeddingStatus]:
        """Recompute phases at `now`, publish them, and re-tier the timetable."""
        config = self.config
        statuses = plan(self.weddings.values(), self._now(), config.schedule, config.features)
        self._apply(statuses, config)
        return statuses

    def _apply(self, statuses: list[WeddingStatus], config: Config) -> None:
        self.state.set_plan(statuses)
        probed = statuses if config.features.performance_monitoring else []
        self.schedule.update(probed, config.operations.enabled(), self._monotonic())
        self.scheduler.wake()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.calendar.refresh_interval_seconds)
            await self.refresh()

    def _skipped(self, job: Job) -> None:
        self.state.skipped += 1

    def _context(self, wedding: Wedding, operation: str, *, debug: bool = False) -> ProbeContext:
        config = self.config
        return probe_context(
            self.session, config, wedding, operation, debug=debug, authorization=self.authorization, redact=self.redactions
        )

    async def _run_job(self, job: Job) -> None:
        wedding = self.weddings.get(job.wedding_id)
        if wedding is None or not self._is_enabled(job.operation):
            return
        result = await run_probe(self._context(wedding, job.operation))
        self._record(wedding, job.operation, result)

    def _record(self, wedding: Wedding, operation: str, result: ProbeResult) -> None:
        status = self.state.statuses.get(wedding.id)
        tier = status.tier if status else "standard"
        stamp = time.time()
        self.state.record(wedding.id, operation, tier, result, stamp)
        if self.recorder is not None and status is not None:
            self.recorder.add(wedding.id, operation, tier, status.phase.value, result, stamp, tracked=status.tracked)

    async def probe_now(self, wedding_id: str, operation: str, *, debug: bool = False) -> tuple[ProbeResult, list[str]]:
        """Run one probe on demand (for /probe) and record it like a scheduled one."""
        wedding = self.weddings[wedding_id]
        ctx = self._context(wedding, operation, debug=debug)
        result = await run_probe(ctx)
        self._record(wedding, operation, result)
        return result, ctx.log_lines

    async def reload(self) -> bool:
        """Re-read the config file; an invalid one keeps the old config and sets the reload gauge to 0."""
        async with self._reload_lock:
            path = self.loaded.path
            if path is None:
                return True
            try:
                loaded = await asyncio.to_thread(load_config, path)
            except WedwatchError as exc:
                log.error("reload failed, keeping the running configuration: %s", exc)
                self.state.reload_successful = False
                return False
            self.loaded = loaded
            self._use_auth(loaded.config)
            # max_concurrency and the HTTP session's settings take effect at the next start.
            self.schedule.jitter_ratio = loaded.config.schedule.jitter_ratio
            self.state.reload_successful = True
            self.state.reload_timestamp = time.time()
            log.info("configuration reloaded from %s", path)
            await self.refresh()
            return True
