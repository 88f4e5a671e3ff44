"""What the platform should run now, per resource: the number KEDA and the HPA pull (issue 18).

`wedwatch_capacity_target{resource}` and `GET /api/v1/capacity` are the largest of

* `emergency`: the upper bounds, while the store has an open emergency period;
* `plan`: the pre-ceremony plan's scale step in force while a ceremony window is open (two hours
  before a ceremony to six after), sized by the live guests and the forecast's peak over the
  step (forecast/plan.py; the cost backtest replays the same steps);
* `forecast`: the current hour's upper band (`forecast.capacity.quantile`) of the newest
  prediction set of the capacity series, sized to whole steps. Not the stored recommendation,
  which is the peak of the next 24 hours and would hold the peak all day; it is used only when
  the set has no value for the current hour;

always within `actions.capacity`'s bounds, and the lower bound (`minimum`) when none applies.
Ties go to the first of emergency, plan, forecast. Every input comes from the store and the
calendar, read when asked, so replicas on one database answer alike.

`capacity_target` decides (pure); `plan_targets` and `forecast_targets` size (pure, `now` passed
in); `read_capacity_target` gathers the inputs (the thin shell).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import CEREMONY_TAIL
from wedwatch.config.actions import CapacityBounds, CapacityConfig
from wedwatch.forecast.forecaster import forecast_from_points
from wedwatch.forecast.persist import PredictionSet
from wedwatch.forecast.plan import plan
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.recommendations import RESOURCES, Resource, size
from wedwatch.forecast.series import HOUR, floor_hour
from wedwatch.forecast.settings import CapacityModel, PlanSettings

if TYPE_CHECKING:
    from wedwatch.config import Config
    from wedwatch.store import Store

__all__ = [
    "REASONS",
    "Reason",
    "Target",
    "Targets",
    "capacity_target",
    "forecast_targets",
    "plan_targets",
    "read_capacity_target",
]

Reason = Literal["emergency", "plan", "forecast", "minimum"]
# Precedence on ties, and the label values of wedwatch_capacity_target_reason.
REASONS: tuple[Reason, ...] = ("emergency", "plan", "forecast", "minimum")
# The API's and the metric's order of resources: the costly one first.
_ORDER: tuple[Resource, ...] = ("instances", "db_connections", "cache_mb")


@dataclass(frozen=True, slots=True)
class Target:
    """One resource's target, the reason that won and the bounds it was held within."""

    resource: Resource
    value: float
    reason: Reason
    bounds: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """The `/api/v1/capacity` entry: {"target", "reason", "bounds"}."""
        return {"target": _tidy(self.value), "reason": self.reason, "bounds": [_tidy(b) for b in self.bounds]}


@dataclass(frozen=True, slots=True)
class Targets:
    """Every resource's target at `at`."""

    at: datetime
    targets: tuple[Target, ...]

    def __getitem__(self, resource: str) -> Target:
        return next(t for t in self.targets if t.resource == resource)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """`{resource: {"target", "reason", "bounds"}}`, the API's `data`."""
        return {t.resource: t.to_dict() for t in self.targets}


def _tidy(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


def _bounds(bounds: CapacityConfig, resource: Resource) -> CapacityBounds:
    bound: CapacityBounds = getattr(bounds, resource)
    return bound


def capacity_target(
    now: datetime,
    emergency: bool,
    plans: Mapping[str, float],
    forecast: Mapping[str, float],
    bounds: CapacityConfig,
) -> Targets:
    """The largest of the emergency bounds, the plan in force and the forecast, within the bounds."""
    out: list[Target] = []
    for resource in _ORDER:
        bound = _bounds(bounds, resource)
        candidates: list[tuple[Reason, float]] = []
        if emergency:
            candidates.append(("emergency", bound.max))
        if resource in plans:
            candidates.append(("plan", plans[resource]))
        if resource in forecast:
            candidates.append(("forecast", forecast[resource]))
        reason: Reason = "minimum"
        value = bound.min
        # Strictly larger replaces: on a tie the earlier reason (higher precedence) stays.
        best: float | None = None
        for why, wanted in candidates:
            if best is None or wanted > best:
                best, reason = wanted, why
        if best is not None:
            value = best
        out.append(Target(resource, min(max(value, bound.min), bound.max), reason, (bound.min, bound.max)))
    return Targets(now, tuple(out))


def plan_targets(
    now: datetime,
    weddings: Iterable[Wedding],
    forecast: Forecast | None,
    capacity: CapacityModel,
    settings: PlanSettings,
    bounds: CapacityConfig,
) -> dict[str, float]:
    """The targets of the plan's scale step in force at `now`; {} when no ceremony window is open."""
    lead = timedelta(hours=settings.lead_hours)
    ahead = timedelta(hours=capacity.window_hours) + lead
    # Windows open now, and those near enough to end the step in force (the plan sizes each step
    # up to the next change point).
    nearby = [w for w in weddings if now - CEREMONY_TAIL - lead <= w.ceremony_utc - lead <= now + ahead]
    windows = [(w.ceremony_utc - lead, w.ceremony_utc + CEREMONY_TAIL) for w in nearby]
    if not any(lo <= now < hi for lo, hi in windows):
        return {}
    since = now - lead - CEREMONY_TAIL
    if forecast is None or not forecast.start <= floor_hour(now) < forecast.start + len(forecast) * HOUR:
        # Without a current forecast the plan is sized by the guests alone: a zero forecast over
        # every change point that can be in force now or end the step in force.
        start = floor_hour(since) - HOUR
        hours = int((now + ahead - start) // HOUR) + 2
        zeros = (0.0,) * hours
        forecast = Forecast(start, zeros, zeros, zeros, zeros, zeros, model="none")
    steps = plan(forecast, nearby, now=since, capacity=capacity, bounds=bounds, settings=settings)
    in_force = [s for s in steps if s.action == "scale" and s.at <= now]
    return dict(in_force[-1].targets) if in_force else {}


def forecast_targets(
    now: datetime, prediction_set: PredictionSet | None, capacity: CapacityModel, bounds: CapacityConfig
) -> dict[str, float]:
    """The current hour's upper band sized to capacity; the stored recommendation without hourly values."""
    if prediction_set is None or not prediction_set.horizon_start <= now < prediction_set.horizon_end:
        return {}
    forecast = _forecast(prediction_set)
    if forecast is not None:
        index = int((floor_hour(now) - floor_hour(forecast.start)) // HOUR)
        if 0 <= index < len(forecast):
            _, upper = forecast.bounds(capacity.quantile)
            return {
                r: size(r, upper[index], 0, capacity.resources[r], _bounds(bounds, r)).target
                for r in RESOURCES
                if r in capacity.resources
            }
    out: dict[str, float] = {}
    for rec in prediction_set.recommendations:
        resource, target = rec.get("resource"), rec.get("target")
        if resource in RESOURCES and isinstance(target, int | float):
            out[str(resource)] = float(target)
    return out


def _forecast(prediction_set: PredictionSet) -> Forecast | None:
    # Stored sets are what an older or newer version wrote: read them leniently.
    try:
        forecast = forecast_from_points(prediction_set)
    except (KeyError, TypeError, ValueError):
        return None
    return forecast if len(forecast) else None


def _capacity_set(rows: Sequence[Mapping[str, Any]], series: str) -> PredictionSet | None:
    for row in rows:
        if row.get("series") == series:
            return PredictionSet.from_row(row)
    return None


async def read_capacity_target(store: Store, config: Config, weddings: Iterable[Wedding], now: datetime) -> Targets:
    """Read emergency mode and the newest forecast from the store, and decide (StoreError when it fails)."""
    emergency = await store.active_emergency() is not None
    pset = _capacity_set(await store.latest_prediction_sets(), config.forecast.capacity.series)
    bounds = config.actions.capacity
    model = config.forecast.capacity
    forecast = _forecast(pset) if pset is not None else None
    plans = plan_targets(now, weddings, forecast, model, config.forecast.plan, bounds)
    return capacity_target(now, emergency, plans, forecast_targets(now, pset, model, bounds), bounds)
