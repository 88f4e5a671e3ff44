"""What the exporter knows between scrapes: the plan, last results, counters and histograms.

Only tracked weddings keep per-wedding entries, so memory follows `max_tracked_weddings`, not
the calendar's size; every probe still counts in the per-operation aggregates.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from wedwatch.calendar.phases import WeddingStatus
from wedwatch.config.model import Phase
from wedwatch.exporter.contract import DURATION_BUCKETS, LAG_BUCKETS
from wedwatch.exporter.probes.base import ProbeResult

__all__ = ["Histogram", "LastProbe", "ExporterState", "CRITICAL_PATH_READINGS"]

CRITICAL_PATH_READINGS = (
    "guests_checked_in",
    "guests_expected",
    "next_milestone_delay_seconds",
    "vendors_confirmed",
    "vendors_booked",
    "open_incidents",
    "incident_response_seconds",
)


@dataclass(slots=True)
class Histogram:
    """Cumulative-on-render bucket counts with a sum and a count."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.bounds)

    def observe(self, value: float) -> None:
        """Add one observation."""
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[int]:
        """Counts per upper bound, cumulative as the exposition format wants (without +Inf)."""
        out, running = [], 0
        for c in self.counts:
            running += c
            out.append(running)
        return out


@dataclass(frozen=True, slots=True)
class LastProbe:
    """The last result of one (wedding, operation), as the gauges show it."""

    success: bool
    duration_seconds: float
    timestamp: float
    reason: str | None
    steps: Mapping[str, float]
    step_success: Mapping[str, bool] = field(default_factory=dict)


class ExporterState:
    """Mutable state the scheduler writes and each scrape reads."""

    def __init__(self) -> None:
        self.statuses: dict[str, WeddingStatus] = {}
        self.phase_counts: dict[Phase, int] = {}
        self.last: dict[tuple[str, str], LastProbe] = {}
        self.critical: dict[str, dict[str, float]] = {}
        self.durations: dict[tuple[str, str], Histogram] = {}
        self.probes: dict[tuple[str, str], int] = {}
        self.failures: dict[tuple[str, str, str], int] = {}
        self.lag = Histogram(LAG_BUCKETS)
        self.skipped = 0
        self.reload_successful = True
        self.reload_timestamp = 0.0
        self.calendar_errors = 0

    def set_plan(self, statuses: Iterable[WeddingStatus]) -> None:
        """Adopt a new plan; weddings that left the tracked set lose their series."""
        self.statuses = {s.wedding.id: s for s in statuses}
        counts: dict[Phase, int] = dict.fromkeys(Phase, 0)
        for s in self.statuses.values():
            counts[s.phase] += 1
        self.phase_counts = counts
        tracked = {wid for wid, s in self.statuses.items() if s.tracked}
        self.last = {k: v for k, v in self.last.items() if k[0] in tracked}
        self.critical = {k: v for k, v in self.critical.items() if k in tracked}

    def record(self, wedding_id: str, operation: str, tier: str, result: ProbeResult, timestamp: float) -> None:
        """Fold one probe result into counters, histograms and (for tracked weddings) the gauges."""
        key = (operation, tier)
        self.probes[key] = self.probes.get(key, 0) + 1
        histogram = self.durations.get(key)
        if histogram is None:
            histogram = self.durations[key] = Histogram(DURATION_BUCKETS)
        histogram.observe(result.duration_seconds)
        if not result.success:
            fkey = (operation, tier, result.reason or "other")
            self.failures[fkey] = self.failures.get(fkey, 0) + 1
        status = self.statuses.get(wedding_id)
        if status is None or not status.tracked:
            return
        self.last[(wedding_id, operation)] = LastProbe(
            result.success, result.duration_seconds, timestamp, result.reason, result.steps, result.step_success
        )
        if operation == "critical_path" and result.success:
            self.critical[wedding_id] = {k: result.readings[k] for k in CRITICAL_PATH_READINGS if k in result.readings}
