"""The cost backtest: the capacity three policies would have run, hour by hour, against the actual load.

At each backtest origin the horizon is replayed one hour at a time with the units of
`forecast.capacity`, and three policies face the same actual load:

* `forecast`: what wedwatch plans. Each hour the forecast's upper band (`capacity.quantile`) is
  sized to whole steps, and while a ceremony window is open the plan's scale step in force (sized
  for the window's forecast peak and its guests) raises it: the larger of the two, as the
  capacity target takes the largest of the plan and the recommendation. Plans use the calendar
  as it stood at each hour, so a wedding booked during the horizon gets its steps, not its
  forecast.
* `static_peak`: the largest need of the training window (everything before the cutoff), held.
* `reactive`: each hour sized by the previous hour's actual load, as a lagging autoscaler would
  (an hour without a measurement keeps the capacity it had).

Every policy is clamped to the `actions.capacity` bounds. The need of an hour is its actual load
sized the same way, unclamped. Per resource and policy: `unit_hours` (capacity summed over every
replayed hour), `cost` (unit-hours at `price_per_unit_hour`) and `under_provisioned_hours_ratio`:
hours whose capacity was below the need while the policy was below its upper bound, over the hours
with a measured load. An hour at the upper bound is the bound's shortfall, not the policy's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import CEREMONY_TAIL
from wedwatch.config.actions import CapacityBounds, CapacityConfig
from wedwatch.forecast.plan import PlanStep, plan
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.recommendations import Resource, size
from wedwatch.forecast.regressors import Booking, known_at
from wedwatch.forecast.series import HOUR, HourlySeries
from wedwatch.forecast.settings import CapacityModel, PlanSettings

__all__ = ["POLICIES", "CostReport", "OriginReplay", "Policy", "PolicyScore", "cost_backtest", "replay_origin", "score"]

Policy = Literal["forecast", "static_peak", "reactive"]
POLICIES: tuple[Policy, ...] = ("forecast", "static_peak", "reactive")
# The report's order: the costly resource first.
_RESOURCES: tuple[Resource, ...] = ("instances", "db_connections", "cache_mb")
# Capacities are whole steps: compare them with a tolerance, not bit for bit.
_EPS = 1e-9


@dataclass(frozen=True)
class OriginReplay:
    """One origin's horizon: each hour's need and each policy's capacity, per resource."""

    cutoff: datetime
    # Units the actual load needed (None: no measurement that hour).
    need: dict[Resource, tuple[float | None, ...]]
    capacity: dict[Policy, dict[Resource, tuple[float, ...]]]
    # Whether a ceremony window (plan lead to the window's close) was open in the hour.
    in_ceremony: tuple[bool, ...]

    @property
    def hours(self) -> int:
        """Replayed hours."""
        return len(self.in_ceremony)


@dataclass(frozen=True, slots=True)
class PolicyScore:
    """One policy's capacity for one resource over every replayed hour."""

    unit_hours: float
    cost: float
    under_provisioned_hours: int
    scored_hours: int

    @property
    def under_provisioned_hours_ratio(self) -> float:
        """Under-provisioned hours (below the upper bound) over the hours with a measured load."""
        return self.under_provisioned_hours / self.scored_hours if self.scored_hours else math.nan

    def to_dict(self) -> dict[str, float | None]:
        """`unit_hours`, `cost`, `under_provisioned_hours_ratio` (null when no hour was scored)."""
        ratio = self.under_provisioned_hours_ratio
        return {
            "unit_hours": round(self.unit_hours, 6),
            "cost": round(self.cost, 6),
            "under_provisioned_hours_ratio": round(ratio, 6) if math.isfinite(ratio) else None,
        }


@dataclass(frozen=True)
class CostReport:
    """The three policies scored per resource, and the replays behind the scores."""

    scores: dict[Resource, dict[Policy, PolicyScore]]
    replays: tuple[OriginReplay, ...]

    def to_dict(self) -> dict[str, Any]:
        """`{"capacity": {resource: {policy: {unit_hours, cost, under_provisioned_hours_ratio}}}}`."""
        return {
            "capacity": {
                resource: {policy: s.to_dict() for policy, s in by_policy.items()}
                for resource, by_policy in self.scores.items()
            }
        }

    def busiest(self) -> OriginReplay | None:
        """The origin whose actual load needed the most instances (the one worth drawing)."""

        def peak(replay: OriginReplay) -> float:
            first = next(iter(replay.need.values()), ())
            values = replay.need.get("instances", first)
            return max((v for v in values if v is not None), default=-math.inf)

        return max(self.replays, key=peak, default=None)


def _units(resource: Resource, load: float, capacity: CapacityModel, bounds: CapacityConfig) -> tuple[float, float]:
    # (need, target): the load sized to whole steps, unclamped and within the bounds.
    rec = size(resource, load, 0, capacity.resources[resource], _bound(bounds, resource))
    return rec.need, rec.target


def _bound(bounds: CapacityConfig, resource: Resource) -> CapacityBounds:
    bound: CapacityBounds = getattr(bounds, resource)
    return bound


def _resources(capacity: CapacityModel) -> list[Resource]:
    return [r for r in _RESOURCES if r in capacity.resources]


def _windows(weddings: Sequence[Wedding], lead: timedelta) -> list[tuple[datetime, datetime]]:
    return [(w.ceremony_utc - lead, w.ceremony_utc + CEREMONY_TAIL) for w in weddings]


def _plan_targets(
    forecast: Forecast,
    bookings: Sequence[Booking],
    horizon: int,
    capacity: CapacityModel,
    bounds: CapacityConfig,
    settings: PlanSettings,
) -> tuple[list[dict[str, float]], list[bool]]:
    """Per hour, the largest targets of the plan's scale steps in force while a window is open."""
    cutoff = forecast.start
    end = cutoff + horizon * HOUR
    lead = timedelta(hours=settings.lead_hours)
    # Only weddings whose window can touch the horizon matter; the margin covers a window
    # already open at the cutoff.
    nearby = [b for b in bookings if cutoff - CEREMONY_TAIL - HOUR <= b.wedding.ceremony_utc < end + lead + HOUR]
    plans: dict[frozenset[str], tuple[list[PlanStep], list[tuple[datetime, datetime]]]] = {}
    targets: list[dict[str, float]] = []
    in_ceremony: list[bool] = []
    for h in range(horizon):
        at = cutoff + h * HOUR
        # The plan is remade as the calendar changes: each hour sees the calendar as it stood then.
        weddings = known_at(nearby, at)
        key = frozenset(w.id for w in weddings)
        if key not in plans:
            # From before the cutoff, so that a window already open has its scale step.
            since = cutoff - lead - CEREMONY_TAIL
            steps = plan(forecast, weddings, now=since, capacity=capacity, bounds=bounds, settings=settings)
            plans[key] = ([s for s in steps if s.action == "scale"], _windows(weddings, lead))
        steps, windows = plans[key]
        # Every instant of the hour at which the step in force may change.
        instants = [at, *(s.at for s in steps if at < s.at < at + HOUR)]
        hour: dict[str, float] = {}
        live = False
        for instant in instants:
            if not any(lo <= instant < hi for lo, hi in windows):
                continue
            live = True
            in_force = [s for s in steps if s.at <= instant]
            if in_force:
                for resource, value in in_force[-1].targets.items():
                    hour[resource] = max(hour.get(resource, 0.0), value)
        targets.append(hour)
        in_ceremony.append(live)
    return targets, in_ceremony


def replay_origin(
    history: HourlySeries,
    bookings: Sequence[Booking | Wedding],
    forecast: Forecast,
    *,
    horizon: int,
    capacity: CapacityModel,
    bounds: CapacityConfig,
    settings: PlanSettings | None = None,
) -> OriginReplay:
    """Replay the `horizon` hours after `forecast.start` (the cutoff) under the three policies."""
    settings = settings or PlanSettings()
    cutoff = forecast.start
    calendar = [b if isinstance(b, Booking) else Booking(b) for b in bookings]
    actual = history.window(cutoff, cutoff + horizon * HOUR).values
    train = [v for v in history.head(cutoff).values if v is not None]
    last = train[-1] if train else None
    _, upper = forecast.bounds(capacity.quantile)
    planned, in_ceremony = _plan_targets(forecast, calendar, horizon, capacity, bounds, settings)
    resources = _resources(capacity)
    need: dict[Resource, tuple[float | None, ...]] = {}
    caps: dict[Policy, dict[Resource, tuple[float, ...]]] = {p: {} for p in POLICIES}
    for r in resources:
        need[r] = tuple(None if y is None else _units(r, y, capacity, bounds)[0] for y in actual)
        caps["forecast"][r] = tuple(
            max(_units(r, upper[h], capacity, bounds)[1], planned[h].get(r, 0.0)) for h in range(horizon)
        )
        static = _units(r, max(train, default=0.0), capacity, bounds)[1]
        caps["static_peak"][r] = (static,) * horizon
        reactive: list[float] = []
        held = _units(r, last if last is not None else 0.0, capacity, bounds)[1]
        for y in actual:
            reactive.append(held)
            if y is not None:
                held = _units(r, y, capacity, bounds)[1]
        caps["reactive"][r] = tuple(reactive)
    return OriginReplay(cutoff, need, caps, tuple(in_ceremony))


def score(replays: Sequence[OriginReplay], capacity: CapacityModel, bounds: CapacityConfig) -> CostReport:
    """Sum the replays into unit-hours, cost and the under-provisioned share per resource and policy."""
    scores: dict[Resource, dict[Policy, PolicyScore]] = {}
    for r in _resources(capacity):
        top = _bound(bounds, r).max
        price = capacity.resources[r].price_per_unit_hour
        scores[r] = {}
        for policy in POLICIES:
            unit_hours, under, scored = 0.0, 0, 0
            for replay in replays:
                caps = replay.capacity[policy][r]
                unit_hours += sum(caps)
                for cap, need in zip(caps, replay.need[r], strict=True):
                    if need is None:
                        continue
                    scored += 1
                    under += cap < need - _EPS and cap < top - _EPS
            scores[r][policy] = PolicyScore(unit_hours, unit_hours * price, under, scored)
    return CostReport(scores, tuple(replays))


def cost_backtest(
    history: HourlySeries,
    bookings: Sequence[Booking | Wedding],
    forecasts: Sequence[Forecast],
    *,
    capacity: CapacityModel,
    bounds: CapacityConfig,
    settings: PlanSettings | None = None,
) -> CostReport:
    """Replay every origin's forecast (as the backtest scored it) and score the three policies."""
    replays = [
        replay_origin(history, bookings, f, horizon=len(f), capacity=capacity, bounds=bounds, settings=settings)
        for f in forecasts
    ]
    return score(replays, capacity, bounds)
