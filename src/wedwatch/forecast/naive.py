"""The weekly seasonal-naive forecast: the same hour last week. The baseline to beat, and the fallback.

A missing or masked hour last week is taken from the week before, and so on; only when no
earlier week has the hour does the last known value stand in. Intervals come from the
empirical quantiles of the baseline's own week-on-week errors in the history, which is what
"same hour last week" is usually wrong by.
"""

from __future__ import annotations

from datetime import datetime

from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.series import WEEK_HOURS, HourlySeries, floor_hour

__all__ = ["naive_forecast", "naive_errors", "seasonal_value"]


def seasonal_value(values: list[float | None], index: int, known: int) -> float | None:
    """The value `index` had one (or more) weeks back, looking only at indices below `known`."""
    j = index - WEEK_HOURS
    while j >= 0:
        if j < known and (v := values[j]) is not None:
            return v
        j -= WEEK_HOURS
    return None


def naive_errors(history: HourlySeries) -> list[float]:
    """In-sample errors y(t) - y(t - 1 week) where both are known (the MASE scale uses these)."""
    values = history.values
    return [
        v - w
        for i in range(WEEK_HOURS, len(values))
        if (v := values[i]) is not None and (w := values[i - WEEK_HOURS]) is not None
    ]


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def naive_forecast(history: HourlySeries, start: datetime, hours: int) -> Forecast:
    """Forecast `hours` hours from `start` (at or after the history's end) by the weekly seasonal-naive."""
    start = floor_hour(start)
    offset = history.index_of(start)
    if offset < len(history):
        raise ValueError("the naive forecast starts after the history ends")
    values = list(history.values)
    last = next((v for v in reversed(values) if v is not None), 0.0)
    # Looking back only into the history, a horizon beyond a week repeats the last known week.
    yhat = [v if (v := seasonal_value(values, i, len(values))) is not None else last for i in range(offset, offset + hours)]
    # Errors grow with the level, so the bands scale with yhat: quantiles of the relative error.
    rel = sorted(e / w for e, w in _relative_pairs(history) if w > 0)
    q = {p: _quantile(rel, p) for p in (0.025, 0.1, 0.9, 0.975)}

    def bound(p: float) -> tuple[float, ...]:
        # A band never excludes the point itself, whatever the history's errors were.
        return tuple(max(0.0, y * (1 + q[p])) if (p < 0.5) == (q[p] <= 0) else y for y in yhat)

    return Forecast(
        start=start,
        yhat=tuple(yhat),
        lower_80=bound(0.1),
        upper_80=bound(0.9),
        lower_95=bound(0.025),
        upper_95=bound(0.975),
        model="naive",
    )


def _relative_pairs(history: HourlySeries) -> list[tuple[float, float]]:
    values = history.values
    return [
        (v - w, w)
        for i in range(WEEK_HOURS, len(values))
        if (v := values[i]) is not None and (w := values[i - WEEK_HOURS]) is not None
    ]

