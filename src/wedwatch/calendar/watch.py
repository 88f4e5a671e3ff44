"""Keep a calendar fresh: re-read the configured source on an interval, keep the last good one."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import WeddingStatus, plan
from wedwatch.calendar.sources import load_calendar
from wedwatch.config import Config
from wedwatch.errors import WedwatchError

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["CalendarWatcher"]

log = logging.getLogger(__name__)


class CalendarWatcher:
    """The weddings a service currently knows, and their statuses at any instant."""

    def __init__(self, session: aiohttp.ClientSession | None = None, store: Store | None = None) -> None:
        self.session = session
        self.store = store
        self.weddings: dict[str, Wedding] = {}
        self.skipped_entries = 0
        self.loaded_once = False
        # The last statuses computed: (config, now, statuses); a refresh drops them.
        self._statuses: tuple[Config, datetime, list[WeddingStatus]] | None = None

    async def refresh(self, config: Config) -> bool:
        """Re-read the calendar; on failure keep the weddings already known. True when read."""
        try:
            load = await load_calendar(config.calendar, store=self.store, session=self.session)
        except WedwatchError as exc:
            log.error("calendar refresh failed, keeping %d known weddings: %s", len(self.weddings), exc)
            return False
        if load.errors:
            log.warning("calendar %s: skipped %d entries; first: %s", load.source, len(load.errors), load.errors[0])
        self.skipped_entries = len(load.errors)
        self.weddings = {w.id: w for w in load.weddings}
        self._statuses = None
        self.loaded_once = True
        return True

    def statuses(self, config: Config, now: datetime, *, max_age_seconds: float = 0.0) -> list[WeddingStatus]:
        """Every known wedding's status at `now` (do not modify the list).

        With `max_age_seconds`, statuses computed for the same config less than that long before
        `now` are returned again: plan() walks the whole calendar. A refresh always recomputes.
        """
        cached = self._statuses
        if (
            cached is not None
            and cached[0] is config  # a reload brings a new config
            and timedelta(0) <= now - cached[1] < timedelta(seconds=max_age_seconds)
        ):
            return cached[2]
        statuses = plan(self.weddings.values(), now, config.schedule, config.features)
        self._statuses = (config, now, statuses)
        return statuses

    async def run(self, config: Config) -> None:
        """Refresh every `calendar.refresh_interval_seconds` until cancelled."""
        while True:
            await asyncio.sleep(config.calendar.refresh_interval_seconds)
            await self.refresh(config)
