"""Keep a calendar fresh: re-read the configured source on an interval, keep the last good one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import WeddingStatus, plan
from wedwatch.calendar.sources import WeddingRows, load_calendar
from wedwatch.config import Config
from wedwatch.config.platform_auth import OAuth2Config
from wedwatch.errors import WedwatchError
from wedwatch.oauth2 import TokenSource

__all__ = ["CalendarWatcher"]

log = logging.getLogger(__name__)


class CalendarWatcher:
    """The weddings a service currently knows, and their statuses at any instant."""

    def __init__(self, session: aiohttp.ClientSession | None = None, store: WeddingRows | None = None) -> None:
        self.session = session
        self.store = store
        # The platform's OAuth2 token for a URL calendar, when the caller shares none.
        self._tokens: tuple[OAuth2Config, TokenSource] | None = None
        self.weddings: dict[str, Wedding] = {}
        self.skipped_entries = 0
        self.loaded_once = False
        # The last statuses computed: (config, now, statuses); a refresh drops them.
        self._statuses: tuple[Config, datetime, list[WeddingStatus]] | None = None

    async def refresh(self, config: Config, *, authorization: Callable[[], Awaitable[str]] | None = None) -> bool:
        """Re-read the calendar; on failure keep the weddings already known. True when read.

        A URL calendar under `platform.auth.oauth2` sends the token: `authorization` when the caller
        shares its own (the exporter's probes' token), otherwise one this watcher keeps.
        """
        if authorization is None and config.calendar.url:
            authorization = await self._authorization(config)
        try:
            load = await load_calendar(config.calendar, store=self.store, session=self.session, authorization=authorization)
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

    async def _authorization(self, config: Config) -> Callable[[], Awaitable[str]] | None:
        wanted = config.platform.auth.oauth2
        current = self._tokens
        if current is not None and current[0] == wanted:
            return current[1].authorization
        if current is not None:
            await current[1].aclose()
            self._tokens = None
        if wanted is None or self.session is None:
            return None
        self._tokens = (wanted, TokenSource(wanted, self.session))
        return self._tokens[1].authorization

    async def aclose(self) -> None:
        """Close the watcher's own token source, if it has one."""
        if self._tokens is not None:
            await self._tokens[1].aclose()
            self._tokens = None

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
