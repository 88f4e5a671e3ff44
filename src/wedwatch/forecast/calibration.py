"""Interval calibration: scale Prophet's bands by how wrong it was out of sample.

Prophet's intervals come from the in-sample noise and the trend's uncertainty; its MAP fit
ignores the uncertainty of its own coefficients, and a wedding calendar keeps changing, so
out-of-sample errors run wider (on the synthetic data 80 % bands covered ~72 % with 10 weeks
of history). Split-conformal scaling fixes that without assuming a distribution: for each past
out-of-sample point, score = |error| / half-width of the band on the error's side, measured on
the model's own scale (log1p when the log transform is on). The band scaled by the score's 80th
percentile would have covered 80 % of those points; the same for 95 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wedwatch.forecast.prediction import Forecast

__all__ = ["MIN_SCORES", "Calibration", "interval_scores", "widen"]

# Fewer scored points than this leave the bands as Prophet drew them.
MIN_SCORES = 24
# Never shrink or stretch a band beyond these factors: a handful of freak hours must not
# make the bands useless.
_MIN_FACTOR, _MAX_FACTOR = 0.5, 3.0


def _g(value: float, log: bool) -> float:
    return math.log1p(max(0.0, value)) if log else value


def _g_inv(value: float, log: bool) -> float:
    return max(0.0, math.expm1(value) if log else value)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _clamp(factor: float) -> float:
    return min(_MAX_FACTOR, max(_MIN_FACTOR, factor))


@dataclass(frozen=True, slots=True)
class Calibration:
    """Factors for the 80 % and 95 % half-widths, from the scores seen so far."""

    factor_80: float = 1.0
    factor_95: float = 1.0

    @classmethod
    def from_scores(cls, scores_80: Sequence[float], scores_95: Sequence[float]) -> Calibration:
        """The factors that would have made the scored bands cover 80 % and 95 %."""
        if len(scores_80) < MIN_SCORES:
            return cls()
        return cls(_clamp(_quantile(scores_80, 0.8)), _clamp(_quantile(scores_95, 0.95)))


def interval_scores(
    forecast: Forecast, actual: Sequence[float | None], *, log: bool
) -> tuple[list[float], list[float]]:
    """Each known actual's |error| over the 80 % and the 95 % band's half-width on that side."""
    s80: list[float] = []
    s95: list[float] = []
    for i, y in enumerate(actual):
        if y is None:
            continue
        center = _g(forecast.yhat[i], log)
        error = _g(y, log) - center
        if error >= 0:
            w80, w95 = _g(forecast.upper_80[i], log) - center, _g(forecast.upper_95[i], log) - center
        else:
            w80, w95 = center - _g(forecast.lower_80[i], log), center - _g(forecast.lower_95[i], log)
        s80.append(abs(error) / w80 if w80 > 0 else (0.0 if error == 0 else math.inf))
        s95.append(abs(error) / w95 if w95 > 0 else (0.0 if error == 0 else math.inf))
    return s80, s95


def widen(forecast: Forecast, calibration: Calibration, *, log: bool) -> Forecast:
    """The forecast with each band's half-widths scaled by the calibration's factor."""
    if calibration == Calibration():
        return forecast

    def scale(bound: tuple[float, ...], factor: float) -> tuple[float, ...]:
        return tuple(
            _g_inv(_g(y, log) + factor * (_g(b, log) - _g(y, log)), log)
            for y, b in zip(forecast.yhat, bound, strict=True)
        )

    lower_80, upper_80 = scale(forecast.lower_80, calibration.factor_80), scale(forecast.upper_80, calibration.factor_80)
    lower_95, upper_95 = scale(forecast.lower_95, calibration.factor_95), scale(forecast.upper_95, calibration.factor_95)
    # Separate factors could cross the bands: the 95 % band always contains the 80 % one.
    return Forecast(
        start=forecast.start,
        yhat=forecast.yhat,
        lower_80=lower_80,
        upper_80=upper_80,
        lower_95=tuple(map(min, lower_95, lower_80)),
        upper_95=tuple(map(max, upper_95, upper_80)),
        model=forecast.model,
    )
