"""Pieces every dashboard shares: panel shorthands, thresholds from the config, PromQL fragments.

Thresholds come from the same `Config` the rules are generated from, so a line on a panel sits
exactly where the alert fires.
"""

from __future__ import annotations

from typing import Any

from wedwatch.config.model import Config
from wedwatch.dashboards.builder import Json, Panel, Target
from wedwatch.rules import BURN_WINDOWS
from wedwatch.rules.shapes import num
from wedwatch.rules.wedding_day import latency_guarantees, operation_guarantees

__all__ = [
    "BURN_UNIT",
    "ON_ITS_DAY",
    "OUTCOME_MAPPINGS",
    "ON_OFF_MAPPINGS",
    "timeseries",
    "stat",
    "bargauge",
    "table",
    "state_timeline",
    "heatmap",
    "latency_steps",
    "error_steps",
    "availability_steps",
    "burn_steps",
    "budget_steps",
    "guarantee_seconds",
    "guarantee_share",
    "rename",
]

# Keeps per-wedding series of weddings on their day only (tier `wedding_day`), as the rules do.
ON_ITS_DAY = 'and on (wedding_id) wedwatch_wedding_info{tier="wedding_day"}'

# Grafana has no unit for "times the budget rate"; a suffix unit shows 14.4 as "14.4x".
BURN_UNIT = "suffix:x"

OUTCOME_MAPPINGS: tuple[Json, ...] = (
    {"options": {"0": {"color": "red", "index": 0, "text": "failed"}, "1": {"color": "green", "index": 1, "text": "ok"}},
     "type": "value"},
)  # fmt: skip
ON_OFF_MAPPINGS: tuple[Json, ...] = (
    {"options": {"0": {"color": "green", "index": 0, "text": "off"}, "1": {"color": "red", "index": 1, "text": "ON"}},
     "type": "value"},
)  # fmt: skip


def timeseries(title: str, description: str, unit: str, *targets: Target, **kw: Any) -> Panel:
    """A time series panel."""
    return Panel("timeseries", title, description, unit, targets, **kw)


def stat(title: str, description: str, unit: str, *targets: Target, **kw: Any) -> Panel:
    """A single-value panel, 4 columns wide unless told."""
    kw.setdefault("width", 4)
    kw.setdefault("height", 4)
    return Panel("stat", title, description, unit, targets, **kw)


def bargauge(title: str, description: str, unit: str, *targets: Target, **kw: Any) -> Panel:
    """Horizontal bars, one per series."""
    return Panel("bargauge", title, description, unit, targets, **kw)


def table(title: str, description: str, unit: str, *targets: Target, **kw: Any) -> Panel:
    """A table, full width unless told."""
    kw.setdefault("width", 24)
    return Panel("table", title, description, unit, targets, **kw)


def state_timeline(title: str, description: str, unit: str, *targets: Target, **kw: Any) -> Panel:
    """Coloured bands per series over time (probe outcome)."""
    return Panel("state-timeline", title, description, unit, targets, **kw)


def heatmap(title: str, description: str, y_unit: str, *targets: Target, **kw: Any) -> Panel:
    """A heatmap of pre-bucketed histogram counts; cells count probes, the y axis is in `y_unit`."""
    options = {"yAxis": {"axisPlacement": "left", "unit": y_unit}, **kw.pop("options", {})}
    return Panel("heatmap", title, description, "short", targets, options=options, **kw)


def rename(names: dict[str, str], exclude: tuple[str, ...] = ("Time",)) -> Json:
    """An `organize` transformation: rename columns, hide `exclude`, keep the order given."""
    return {
        "id": "organize",
        "options": {
            "excludeByName": dict.fromkeys(exclude, True),
            "indexByName": {name: i for i, name in enumerate(names)},
            "renameByName": names,
        },
    }


def latency_steps(config: Config) -> tuple[tuple[float | None, str], ...]:
    """Colours at the seed's p95 tiers: medium, high, critical."""
    t = config.thresholds
    return ((None, "green"), (t.medium.p95_seconds, "yellow"), (t.high.p95_seconds, "orange"),
            (t.critical.p95_seconds, "red"))  # fmt: skip


def error_steps(config: Config) -> tuple[tuple[float | None, str], ...]:
    """Colours at the seed's error-ratio tiers."""
    t = config.thresholds
    return ((None, "green"), (t.medium.error_ratio, "yellow"), (t.high.error_ratio, "orange"),
            (t.critical.error_ratio, "red"))  # fmt: skip


def availability_steps(config: Config) -> tuple[tuple[float | None, str], ...]:
    """Colours at the seed's availability tiers (red below critical's floor)."""
    t = config.thresholds
    return ((None, "red"), (t.critical.availability, "orange"), (t.high.availability, "yellow"),
            (t.medium.availability, "green"))  # fmt: skip


def burn_steps() -> tuple[tuple[float | None, str], ...]:
    """Colours at the burn rates that page: high (6x) and critical (14.4x)."""
    ordered = sorted(BURN_WINDOWS, key=lambda w: w.burn_rate)
    colours = ("orange", "red")
    return ((None, "green"), *((w.burn_rate, colours[min(i, 1)]) for i, w in enumerate(ordered)))


def budget_steps() -> tuple[tuple[float | None, str], ...]:
    """Colours for the share of a budget left: red when spent, orange under a quarter."""
    return ((None, "red"), (0, "orange"), (0.25, "yellow"), (0.5, "green"))


def guarantee_seconds(config: Config) -> dict[str, float]:
    """The wedding-day latency guarantee of every operation."""
    own = operation_guarantees(config)
    return {op: own.get(op, config.thresholds.wedding_day.response_seconds) for op in config.operations.names()}


def guarantee_share(config: Config, metric: str, matchers: str) -> str:
    """`metric` divided by each operation's own guarantee: above 1 breaks the promise."""
    # One vector per guarantee, joined with `or`: the operations' sets do not overlap, so the
    # union is every operation once, each over its own denominator.
    parts = [f"{metric}{{{matchers}, {matcher}}} / {num(seconds)}" for matcher, seconds in latency_guarantees(config)]
    return "\nor\n".join(parts)
