"""What a forecast command reads: one series' history and the calendar behind it.

A CSV file, a Prometheus-compatible API (the URL and query from flags or from the config's
`forecast` section), or the synthetic generator (series and calendar together). The calendar
comes from the caller (the config's calendar source); its weddings count as always known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from wedwatch.calendar.model import Wedding
from wedwatch.config.model import ForecastConfig
from wedwatch.errors import ConfigError
from wedwatch.forecast.history import LineError, query_range, read_csv
from wedwatch.forecast.regressors import Booking
from wedwatch.forecast.series import HOUR, HourlySeries, SeriesKind, floor_hour
from wedwatch.forecast.synthetic import generate_history

__all__ = ["Source", "SourceRequest", "load_source", "parse_hours"]

_DURATION = re.compile(r"^\s*(\d+)\s*([hdw]?)\s*$")


def parse_hours(text: str, *, flag: str) -> int:
    """`48h`, `14d`, `2w` or a bare number of hours, as hours."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"expected a duration such as 48h, 14d or 2w, got {text!r}", field=flag)
    return int(match.group(1)) * {"": 1, "h": 1, "d": 24, "w": 168}[match.group(2)]


@dataclass(frozen=True)
class SourceRequest:
    """Where the history comes from, as the command line asked."""

    series: str
    csv: str | None = None
    prometheus: str | None = None
    query: str | None = None
    synthetic: int | None = None
    synthetic_weeks: int = 16
    kind: SeriesKind = "gauge"
    history_hours: int = 8760
    now: datetime | None = None


@dataclass(frozen=True)
class Source:
    """One series' history, its calendar, and where the forecast should start from."""

    name: str
    description: str
    history: HourlySeries
    bookings: list[Booking]
    now: datetime
    timezone: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def weddings(self) -> list[Wedding]:
        """The calendar's weddings."""
        return [b.wedding for b in self.bookings]


async def load_source(
    request: SourceRequest, *, calendar: Sequence[Wedding] = (), config: ForecastConfig | None = None
) -> Source:
    """Read the history the request names (ConfigError when it names none); `calendar` goes with it."""
    if request.synthetic is not None:
        syn = generate_history(request.synthetic, hours=request.synthetic_weeks * 168)
        description = f"synthetic seed {request.synthetic}, {request.synthetic_weeks} weeks"
        return Source(request.series, description, syn.series, syn.bookings, request.now or syn.series.end,
                      timezone=syn.timezone)  # fmt: skip
    bookings = [Booking(w) for w in calendar]
    notes: list[str] = []
    if request.csv is not None:
        load = read_csv(Path(request.csv), kind=request.kind)
        notes += [f"{load.source}: skipped {e}" for e in load.errors if isinstance(e, LineError)]
        # A file's history is over: unless told otherwise, forecast from where it ends.
        now = request.now or load.series.end
        return Source(request.series, f"CSV {load.source}", load.series, bookings, now, warnings=notes)
    url = request.prometheus or (config.prometheus_url if config else None)
    query = request.query
    if query is None and config is not None and request.series in config.series:
        query = config.series[request.series].query
    if url is None or query is None:
        raise ConfigError(
            "choose a history: --csv FILE, --prometheus URL --query PROMQL (or forecast.prometheus_url and "
            f"forecast.series.{request.series}.query in the config), or --synthetic SEED"
        )
    now = floor_hour(request.now or datetime.now(UTC))
    # The configured headers (a tenant, a token) go to the configured URL only, never to another
    # one given with --prometheus.
    headers = config.prometheus_headers if config is not None and url == config.prometheus_url else {}
    # The hour ending now is still filling up: the history stops an hour before.
    async with aiohttp.ClientSession() as session:
        history = await query_range(session, url, query, now - request.history_hours * HOUR, now - HOUR,
                                    kind=request.kind, headers=headers)  # fmt: skip
    return Source(request.series, f"{url} {query}", history, bookings, now, warnings=notes)
