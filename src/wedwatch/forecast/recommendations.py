"""Capacity recommendations from a forecast: pure functions of the forecast, the models and the bounds.

For each resource the demand is the forecast's upper bound (80 % band by default) at the peak of
a window, in forecast units (e.g. requests per second). Units needed = max(demand / per_unit,
guests x per_guest): the guest term is a floor for hours when weddings are live, so a forecast
that does not know a wedding (the naive one) still gets capacity for it. The target is the
smallest whole number of steps that covers the need (cost-aware: nothing bigger is bought),
clamped to the configured bounds; its hourly cost is reported beside it, with what the maximum
would cost. `capped` says the bound kept the target below the need: the forecast says more is
needed than may be bought, which is worth a human's attention.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from wedwatch.config.actions import CapacityBounds, CapacityConfig
from wedwatch.forecast.prediction import Forecast, iso_utc
from wedwatch.forecast.series import HOUR, floor_hour
from wedwatch.forecast.settings import CapacityModel, ResourceModel

__all__ = ["RESOURCES", "Recommendation", "peak", "recommend", "size"]

Resource = Literal["db_connections", "cache_mb", "instances"]
RESOURCES: tuple[Resource, ...] = ("db_connections", "cache_mb", "instances")


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The capacity one resource needs, within its bounds, and what it costs."""

    resource: str
    target: float
    need: float
    demand: float
    guests: int
    bound: Literal["min", "max"] | None
    capped: bool
    cost_per_hour: float
    max_cost_per_hour: float
    at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The recommendation as stored with a prediction set."""
        return asdict(self)


def _bounds(bounds: CapacityConfig, resource: Resource) -> CapacityBounds:
    bound: CapacityBounds = getattr(bounds, resource)
    return bound


def size(
    resource: Resource,
    demand: float,
    guests: int,
    model: ResourceModel,
    bounds: CapacityBounds,
    *,
    at: datetime | None = None,
) -> Recommendation:
    """Size one resource for `demand` forecast units and `guests` live guests."""
    units = max(max(0.0, demand) / model.per_unit, guests * model.per_guest)
    # Round up to whole steps; the tiny epsilon keeps 2.0000000001 steps from becoming 3.
    need = math.ceil(units / model.step - 1e-9) * model.step
    target = min(bounds.max, max(bounds.min, need))
    bound: Literal["min", "max"] | None = "max" if need > bounds.max else "min" if need < bounds.min else None
    return Recommendation(
        resource=resource,
        target=_tidy(target),
        need=_tidy(need),
        demand=round(demand, 6),
        guests=guests,
        bound=bound,
        capped=need > bounds.max,
        cost_per_hour=round(target * model.price_per_unit_hour, 6),
        max_cost_per_hour=round(bounds.max * model.price_per_unit_hour, 6),
        at=iso_utc(at) if at is not None else None,
    )


def _tidy(value: float) -> float:
    return float(int(value)) if float(value).is_integer() else round(value, 6)


def peak(forecast: Forecast, start: datetime, end: datetime, quantile: float) -> tuple[float, datetime | None]:
    """The highest upper bound of the `quantile` band over [start, end), and its hour (0, None if outside)."""
    _, upper = forecast.bounds(quantile)
    first = max(0, int((floor_hour(start) - forecast.start) // HOUR))
    last = min(len(forecast), math.ceil((end - forecast.start) / HOUR))
    best, best_at = 0.0, None
    for i in range(first, last):
        if best_at is None or upper[i] > best:
            best, best_at = upper[i], forecast.at(i)
    return best, best_at


def recommend(
    forecast: Forecast,
    capacity: CapacityModel,
    bounds: CapacityConfig,
    *,
    start: datetime,
    end: datetime,
    guests: int = 0,
) -> list[Recommendation]:
    """One recommendation per resource for the peak of the forecast's upper bound in [start, end)."""
    demand, at = peak(forecast, start, end, capacity.quantile)
    return [
        size(resource, demand, guests, capacity.resources[resource], _bounds(bounds, resource), at=at)
        for resource in RESOURCES
        if resource in capacity.resources
    ]
