"""The hourly series every forecast works on, and how raw samples become one.

A series is a run of hourly values in UTC, `None` where nothing is known. Two kinds of input:

* **gauge** (a rate, a level, a count per hour): samples falling in the same hour are averaged.
* **counter** (a cumulative total): the value of an hour is the increase since the previous
  sample. A decrease is a counter reset (the process restarted), read the way Prometheus'
  `increase()` reads it: the counter started again from zero, so the new value is the increase.

Gaps are explicit and never interpolated: an hour without a sample is `None`. Prophet leaves
such hours out of the fit, the seasonal-naive baseline looks one more week back, and scoring
skips them. A counter's increase across a gap longer than one hour belongs to no hour in
particular, so it is dropped rather than piled onto the hour after the gap.

Outages (the platform was down, the traffic fell to almost nothing) are real observations but
poison a model of demand: `mask_outages` hides hours far below the same hour of the
surrounding weeks from the fit.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

__all__ = [
    "HOUR",
    "WEEK_HOURS",
    "HourlySeries",
    "SeriesKind",
    "floor_hour",
    "from_samples",
    "mask_outages",
]

HOUR = timedelta(hours=1)
WEEK_HOURS = 168
SeriesKind = Literal["gauge", "counter"]


def floor_hour(at: datetime) -> datetime:
    """The start of the UTC hour containing `at` (which must be timezone-aware)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: forecasts need aware datetimes")
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class HourlySeries:
    """Hourly values from `start` (a UTC hour) on; None marks an hour without data."""

    start: datetime
    values: tuple[float | None, ...]

    def __post_init__(self) -> None:
        if floor_hour(self.start) != self.start:
            raise ValueError(f"start {self.start.isoformat()} is not the start of a UTC hour")

    def __len__(self) -> int:
        return len(self.values)

    @property
    def end(self) -> datetime:
        """The hour after the last value."""
        return self.start + len(self.values) * HOUR

    def at(self, index: int) -> datetime:
        """The timestamp of the value at `index`."""
        return self.start + index * HOUR

    def index_of(self, at: datetime) -> int:
        """The index of the hour containing `at` (may lie outside the series)."""
        return int((floor_hour(at) - self.start) // HOUR)

    def timestamps(self) -> list[datetime]:
        """The timestamp of every value."""
        return [self.start + i * HOUR for i in range(len(self.values))]

    def present(self) -> int:
        """How many hours have a value."""
        return sum(v is not None for v in self.values)

    def head(self, end: datetime) -> HourlySeries:
        """The part before `end`."""
        return HourlySeries(self.start, self.values[: max(0, self.index_of(end))])

    def window(self, start: datetime, end: datetime) -> HourlySeries:
        """The hours in [start, end), None where this series has no data."""
        first = self.index_of(start)
        n = max(0, int((floor_hour(end) - floor_hour(start)) // HOUR))
        values = [self.values[i] if 0 <= i < len(self.values) else None for i in range(first, first + n)]
        return HourlySeries(floor_hour(start), tuple(values))

    def tail(self, hours: int) -> HourlySeries:
        """The last `hours` hours."""
        if hours >= len(self.values):
            return self
        cut = len(self.values) - hours
        return HourlySeries(self.at(cut), self.values[cut:])


def _finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def from_samples(samples: Iterable[tuple[datetime, float]], kind: SeriesKind = "gauge") -> HourlySeries:
    """Turn timestamped samples (any order, any spacing) into an hourly series with explicit gaps."""
    ordered = sorted((floor_hour(at), at, v) for at, v in samples if _finite(v))
    if not ordered:
        return HourlySeries(datetime(1970, 1, 1, tzinfo=UTC), ())
    if kind == "gauge":
        buckets: dict[datetime, list[float]] = {}
        for hour, _, value in ordered:
            buckets.setdefault(hour, []).append(value)
        hourly = {hour: statistics.fmean(vs) for hour, vs in buckets.items()}
    else:
        hourly = _counter_increases(ordered)
    if not hourly:
        return HourlySeries(ordered[0][0], ())
    first, last = min(hourly), max(hourly)
    n = int((last - first) // HOUR) + 1
    return HourlySeries(first, tuple(hourly.get(first + i * HOUR) for i in range(n)))


def _counter_increases(ordered: Sequence[tuple[datetime, datetime, float]]) -> dict[datetime, float]:
    # The increase between two samples belongs to the hour of the later one; samples more than an
    # hour apart leave their increase unattributed (see the module docstring).
    hourly: dict[datetime, float] = {}
    for (_, prev_at, prev), (hour, at, value) in zip(ordered, ordered[1:], strict=False):
        if at - prev_at > HOUR:
            continue
        increase = value - prev if value >= prev else value  # a decrease is a reset to zero
        hourly[hour] = hourly.get(hour, 0.0) + increase
    return hourly


def mask_outages(series: HourlySeries, *, ratio: float = 0.25, weeks: int = 3) -> tuple[HourlySeries, int]:
    """Hide hours below `ratio` x the median of the same hour in the surrounding weeks; (series, hidden)."""
    # Same hour of the week, up to `weeks` weeks either side: wedding Saturdays are compared with
    # Saturdays, nights with nights, so only a collapse (an outage) falls below a quarter.
    values = series.values
    out = list(values)
    hidden = 0
    for i, value in enumerate(values):
        if value is None:
            continue
        neighbours = [
            v
            for k in range(-weeks, weeks + 1)
            if k != 0 and 0 <= (j := i + k * WEEK_HOURS) < len(values) and (v := values[j]) is not None
        ]
        if len(neighbours) >= 2 and value < ratio * statistics.median(neighbours):
            out[i] = None
            hidden += 1
    return HourlySeries(series.start, tuple(out)), hidden
