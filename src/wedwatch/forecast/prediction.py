"""A forecast: hourly point values with 80 % and 95 % prediction intervals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wedwatch.forecast.series import HOUR, floor_hour

__all__ = ["Forecast", "iso_utc"]


def iso_utc(at: datetime) -> str:
    """`2027-06-12T13:00:00Z`: the one timestamp form forecasts are written in."""
    return floor_hour(at).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Forecast:
    """Hourly forecast from `start`: yhat and the bounds of the 80 % and 95 % intervals."""

    start: datetime
    yhat: tuple[float, ...]
    lower_80: tuple[float, ...]
    upper_80: tuple[float, ...]
    lower_95: tuple[float, ...]
    upper_95: tuple[float, ...]
    model: str = "prophet"

    def __len__(self) -> int:
        return len(self.yhat)

    def at(self, index: int) -> datetime:
        """The timestamp of the point at `index`."""
        return self.start + index * HOUR

    def bounds(self, quantile: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The (lower, upper) bounds of the 0.8 or 0.95 interval."""
        return (self.lower_95, self.upper_95) if quantile >= 0.95 else (self.lower_80, self.upper_80)

    def points(self) -> list[dict[str, Any]]:
        """The points as stored in `scaling_prediction_sets.points` and printed by `forecast --json`."""
        return [
            {
                "ts": iso_utc(self.at(i)),
                "yhat": round(self.yhat[i], 6),
                "yhat_lower": round(self.lower_80[i], 6),
                "yhat_upper": round(self.upper_80[i], 6),
                "yhat_lower_95": round(self.lower_95[i], 6),
                "yhat_upper_95": round(self.upper_95[i], 6),
            }
            for i in range(len(self.yhat))
        ]
