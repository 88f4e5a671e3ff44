"""Prediction sets: a series' forecast as stored in `scaling_prediction_sets`, and as exported.

The receiver's collector reads the newest set of each series (`store.latest_prediction_sets()`)
and calls `forecast_samples(rows, now)` for the `wedwatch_forecast{series,bound}` gauge: the
values of the hour containing `now`, with `bound` one of `yhat`, `lower`, `upper` (the 80 %
band). A set whose horizon does not contain `now` yields nothing, so a stale forecast
disappears from the metrics instead of being exported as if it were current.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.series import HOUR, floor_hour

if TYPE_CHECKING:
    from wedwatch.store import Store

__all__ = ["BOUNDS", "PredictionSet", "forecast_samples", "latest_prediction_sets", "save_prediction_set"]

BOUNDS = ("yhat", "lower", "upper")
_POINT_KEYS = {"yhat": "yhat", "lower": "yhat_lower", "upper": "yhat_upper"}


@dataclass(frozen=True)
class PredictionSet:
    """One series' forecast with the backtest metrics and capacity recommendations made from it."""

    series: str
    created_at: datetime
    horizon_start: datetime
    horizon_end: datetime
    model: str
    points: list[dict[str, Any]]
    metrics: dict[str, Any] = field(default_factory=dict)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    id: int | None = None

    @classmethod
    def from_forecast(
        cls,
        series: str,
        forecast: Forecast,
        *,
        created_at: datetime,
        metrics: Mapping[str, Any] | None = None,
        recommendations: Sequence[Mapping[str, Any]] = (),
    ) -> PredictionSet:
        """A set holding `forecast`'s points."""
        return cls(
            series=series,
            created_at=created_at,
            horizon_start=forecast.start,
            horizon_end=forecast.start + len(forecast) * HOUR,
            model=forecast.model,
            points=forecast.points(),
            metrics=dict(metrics or {}),
            recommendations=[dict(r) for r in recommendations],
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PredictionSet:
        """A set from a `scaling_prediction_sets` row."""
        return cls(
            series=str(row["series"]),
            created_at=row["created_at"],
            horizon_start=row["horizon_start"],
            horizon_end=row["horizon_end"],
            model=str(row["model"]),
            points=list(row.get("points") or []),
            metrics=dict(row.get("metrics") or {}),
            recommendations=list(row.get("recommendations") or []),
            id=row.get("id"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The `forecast --json` and `/api/v1/forecasts/latest` shape."""
        return {
            "series": self.series,
            "model": self.model,
            "created_at": _iso(self.created_at),
            "horizon_start": _iso(self.horizon_start),
            "horizon_end": _iso(self.horizon_end),
            "metrics": self.metrics,
            "recommendations": self.recommendations,
            "points": self.points,
        }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _point_for(points: Sequence[Mapping[str, Any]], start: datetime, now: datetime) -> Mapping[str, Any] | None:
    hour = floor_hour(now)
    index = int((hour - floor_hour(start)) // HOUR)
    # Points are hourly from horizon_start; check the timestamp rather than trust the index.
    if 0 <= index < len(points):
        point = points[index]
        ts = point.get("ts")
        if isinstance(ts, str) and datetime.fromisoformat(ts.replace("Z", "+00:00")) == hour:
            return point
    for point in points:
        ts = point.get("ts")
        if isinstance(ts, str) and datetime.fromisoformat(ts.replace("Z", "+00:00")) == hour:
            return point
    return None


def forecast_samples(
    prediction_sets: Iterable[PredictionSet | Mapping[str, Any]], now: datetime
) -> list[tuple[str, str, float]]:
    """(series, bound, value) for the hour containing `now`, for `wedwatch_forecast{series,bound}`."""
    out: list[tuple[str, str, float]] = []
    for item in prediction_sets:
        pset = item if isinstance(item, PredictionSet) else PredictionSet.from_row(item)
        point = _point_for(pset.points, pset.horizon_start, now)
        if point is None:
            continue
        for bound in BOUNDS:
            value = point.get(_POINT_KEYS[bound])
            if isinstance(value, int | float):
                out.append((pset.series, bound, float(value)))
    return sorted(out)


async def save_prediction_set(store: Store, pset: PredictionSet) -> int:
    """Persist a prediction set; its id."""
    return await store.save_prediction_set(
        series=pset.series,
        horizon_start=pset.horizon_start,
        horizon_end=pset.horizon_end,
        model=pset.model,
        points=pset.points,
        metrics=pset.metrics,
        recommendations=pset.recommendations,
        created_at=pset.created_at,
    )


async def latest_prediction_sets(store: Store) -> list[PredictionSet]:
    """The newest prediction set of each series."""
    return [PredictionSet.from_row(row) for row in await store.latest_prediction_sets()]
