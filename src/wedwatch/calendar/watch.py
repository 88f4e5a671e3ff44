"""Keep a calendar fresh: re-read the configured source on an interval, keep the last good one."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
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
        self.loaded_once = True
        return True

    def statuses(self, config: Config, now: datetime) -> list[WeddingStatus]:
        """Every known wedding's status at `now`."""
        return plan(self.weddings.values(), now, config.schedule, config.features)

    async def run(self, config: Config) -> None:
        """Refresh every `calendar.refresh_interval_seconds` until cancelled."""
        while True:
            await asyncio.sleep(config.calendar.refresh_interval_seconds)
            await self.refresh(config)
