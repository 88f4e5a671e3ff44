"""One series from history to prediction set: backtest, choose, fit, calibrate, recommend.

The steps the CLI and the receiver's forecaster share:

1. hide outages from the fit (`series.mask_outages`);
2. backtest Prophet against the weekly seasonal-naive; a series whose relative MAE is above the
   threshold (1.0: Prophet lost) falls back to the naive forecast, as does a history too short
   to fit (under two weeks);
3. fit on the whole (recent) history with the calendar as known now, predict only the horizon,
   and widen the bands by the backtest's calibration;
4. size capacity for the peak of the next window of the sizing series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wedwatch.config.actions import CapacityConfig
from wedwatch.forecast.backtest import (
    MIN_TRAINING_HOURS,
    BacktestError,
    BacktestReport,
    Progress,
    run_backtest,
    run_fit,
)
from wedwatch.forecast.calibration import Calibration, widen
from wedwatch.forecast.model import FitJob, FitResult
from wedwatch.forecast.naive import naive_forecast
from wedwatch.forecast.persist import PredictionSet
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.recommendations import recommend
from wedwatch.forecast.regressors import Booking, calendar_regressors, known_at
from wedwatch.forecast.series import HOUR, WEEK_HOURS, HourlySeries, floor_hour, mask_outages
from wedwatch.forecast.settings import ForecastSettings

__all__ = ["SeriesForecast", "forecast_series"]


@dataclass(frozen=True)
class SeriesForecast:
    """A series' forecast, the prediction set made of it, and the evidence behind the choice."""

    series: str
    history: HourlySeries
    forecast: Forecast
    prediction_set: PredictionSet
    backtest: BacktestReport | None
    fit: FitResult | None
    reason: str


async def forecast_series(
    name: str,
    history: HourlySeries,
    bookings: Sequence[Booking],
    *,
    now: datetime,
    horizon: int,
    settings: ForecastSettings,
    bounds: CapacityConfig,
    executor: Executor | None = None,
    origins: int | None = None,
    progress: Progress | None = None,
) -> SeriesForecast:
    """Forecast `horizon` hours past `now` (from where the history ends) and size capacity."""
    if len(history) == 0 or history.present() == 0:
        raise BacktestError(f"series {name}: no history")
    start = history.end
    # The forecast runs from the end of the history through `now` and the horizon after it.
    hours = horizon + max(0, int((floor_hour(now) - start) // HOUR))
    clean, _ = mask_outages(history, ratio=settings.model.outage_ratio)
    origins = settings.backtest.origins if origins is None else origins
    report: BacktestReport | None = None
    fit: FitResult | None = None
    # Two weeks of hours, at least one week of them with data, or there is nothing to fit.
    too_short = len(history) < MIN_TRAINING_HOURS or clean.present() < WEEK_HOURS
    if too_short:
        reason = f"{clean.present()} of {len(history)} hours known, under two weeks: the seasonal-naive"
    else:
        reason = "Prophet (no backtest asked for)"
        if origins > 0:
            try:
                report = await run_backtest(
                    name, history, bookings, settings=settings.model,
                    horizon=settings.backtest.horizon_hours, origins=origins, step=settings.backtest.step_hours,
                    fallback_relative_mae=settings.backtest.fallback_relative_mae, executor=executor, progress=progress,
                )  # fmt: skip
                reason = f"backtest relative MAE {report.relative_mae:.3f} over {report.origins} origins"
            except BacktestError as exc:
                reason = f"Prophet (no backtest: {exc})"
    use_naive = too_short or (report is not None and report.model == "naive")
    if use_naive:
        forecast = naive_forecast(clean, start, hours)
        if report is not None:
            reason += f" > {report.fallback_relative_mae:g}: falls back to the seasonal-naive"
    else:
        regressors = calendar_regressors(known_at(bookings, now), clean.start, len(clean) + hours)
        job = FitJob(name, clean, regressors, hours, settings.model, return_model=settings.model_dir is not None)
        fit = await run_fit(executor, job)
        calibration = report.calibration if report is not None else Calibration()
        forecast = widen(fit.forecast, calibration, log=settings.model.log_transform)
        if fit.model_json is not None and settings.model_dir is not None:
            _save_model(Path(settings.model_dir), name, fit.model_json)
    metrics: dict[str, Any] = {"choice": reason, "history_hours": len(history), "history_present": history.present()}
    if report is not None:
        metrics["backtest"] = report.to_dict()
    if fit is not None:
        metrics.update(fit_seconds=round(fit.fit_seconds, 3), predict_seconds=round(fit.predict_seconds, 3))
    recommendations = []
    if name == settings.capacity.series:
        window_end = max(floor_hour(now), start) + settings.capacity.window_hours * HOUR
        recs = recommend(forecast, settings.capacity, bounds, start=max(floor_hour(now), start), end=window_end)
        recommendations = [r.to_dict() for r in recs]
    pset = PredictionSet.from_forecast(name, forecast, created_at=now, metrics=_finite(metrics),
                                       recommendations=recommendations)  # fmt: skip
    return SeriesForecast(name, history, forecast, pset, report, fit, reason)


def _finite(value: Any) -> Any:
    # The store refuses NaN (JSONB cannot hold it): unknown numbers are stored as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _save_model(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a model.
    tmp = directory / f".{name}.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(directory / f"{name}.json")
