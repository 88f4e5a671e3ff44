"""Rolling-origin backtest: Prophet against the weekly seasonal-naive, on the series' own history.

Origins are the last `origins` cutoffs, `step` hours apart, each followed by `horizon` hours of
actuals. At each cutoff both forecasts see only the history before it and the calendar as it
stood then (weddings booked later are unknown). Fits run in the executor, in parallel.

Reported: relative MAE (Prophet's absolute errors summed over every scored hour, divided by the
naive's), MASE (each origin's MAE over the in-sample MAE of the naive on its training history,
averaged), the MAE inside ceremony windows, the coverage of the 80 % and 95 % bands, and fit
times. Bands are calibrated as the live forecast's are (see `calibration`): each origin's bands
are scaled by what the earlier origins' errors say, so that no origin is scored with knowledge
of its own errors.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wedwatch.errors import WedwatchError
from wedwatch.forecast.calibration import Calibration, interval_scores, widen
from wedwatch.forecast.model import FitJob, FitResult, fit_predict
from wedwatch.forecast.naive import naive_errors, naive_forecast
from wedwatch.forecast.prediction import Forecast, iso_utc
from wedwatch.forecast.regressors import Booking, calendar_regressors, ceremony_hours, known_at
from wedwatch.forecast.series import HOUR, HourlySeries, mask_outages
from wedwatch.forecast.settings import ModelSettings

__all__ = ["MIN_TRAINING_HOURS", "BacktestError", "BacktestReport", "cutoffs", "run_backtest", "run_fit"]

# Two weeks: the naive needs one to exist and one to be judged on.
MIN_TRAINING_HOURS = 336

Progress = Callable[[int, int], None]


class BacktestError(WedwatchError, ValueError):
    """The history cannot support the backtest asked for."""


@dataclass(frozen=True)
class _Origin:
    cutoff: datetime
    forecast: Forecast
    naive: Forecast
    actual: tuple[float | None, ...]
    in_ceremony: tuple[bool, ...]
    mase_scale: float
    fit_seconds: float
    peak_rss_bytes: int


@dataclass(frozen=True)
class BacktestReport:
    """What the backtest measured, and which model the series should use."""

    series: str
    horizon_hours: int
    origins: int
    step_hours: int
    points: int
    mae: float
    naive_mae: float
    relative_mae: float
    mase: float
    ceremony_points: int
    ceremony_mae: float
    ceremony_naive_mae: float
    coverage_80: float
    coverage_95: float
    fit_seconds_mean: float
    fit_seconds_max: float
    wall_seconds: float
    peak_rss_bytes: int
    calibration: Calibration
    fallback_relative_mae: float
    cutoffs: list[str] = field(default_factory=list)
    # Each origin's forecast with the bands it was scored with (oldest first), for the cost
    # backtest's replay; not part of `to_dict`.
    forecasts: tuple[Forecast, ...] = field(default=(), repr=False, compare=False)

    @property
    def model(self) -> str:
        """`prophet`, or `naive` when Prophet lost (relative MAE above the threshold, or unknown)."""
        ok = math.isfinite(self.relative_mae) and self.relative_mae <= self.fallback_relative_mae
        return "prophet" if ok else "naive"

    def to_dict(self) -> dict[str, Any]:
        """The `backtest --json` object (non-finite numbers become null)."""
        values: dict[str, Any] = {
            "series": self.series,
            "model": self.model,
            "relative_mae": self.relative_mae,
            "mase": self.mase,
            "mae": self.mae,
            "naive_mae": self.naive_mae,
            "ceremony_mae": self.ceremony_mae,
            "ceremony_naive_mae": self.ceremony_naive_mae,
            "ceremony_points": self.ceremony_points,
            "coverage_80": self.coverage_80,
            "coverage_95": self.coverage_95,
            "interval_scale_80": self.calibration.factor_80,
            "interval_scale_95": self.calibration.factor_95,
            "fit_seconds_mean": self.fit_seconds_mean,
            "fit_seconds_max": self.fit_seconds_max,
            "wall_seconds": self.wall_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "horizon_hours": self.horizon_hours,
            "origins": self.origins,
            "step_hours": self.step_hours,
            "points": self.points,
            "fallback_relative_mae": self.fallback_relative_mae,
            "cutoffs": self.cutoffs,
        }
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


def cutoffs(history: HourlySeries, horizon: int, origins: int, step: int) -> list[datetime]:
    """The origins' cutoffs, oldest first; BacktestError when the history is too short."""
    first = len(history) - horizon - (origins - 1) * step
    if origins < 1 or first < MIN_TRAINING_HOURS:
        need = MIN_TRAINING_HOURS + horizon + (max(origins, 1) - 1) * step
        raise BacktestError(
            f"{origins} origins of {horizon} h, {step} h apart, need at least {need} hours of history; "
            f"there are {len(history)}"
        )
    return [history.at(first + i * step) for i in range(origins)]


async def run_fit(executor: Executor | None, job: FitJob) -> FitResult:
    """Run one fit in the executor (or, without one, in a thread: never on the event loop)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, fit_predict, job)


async def run_backtest(
    name: str,
    history: HourlySeries,
    bookings: Sequence[Booking],
    *,
    settings: ModelSettings,
    horizon: int = 48,
    origins: int = 12,
    step: int | None = None,
    fallback_relative_mae: float = 1.0,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> BacktestReport:
    """Backtest `history` at `origins` cutoffs; the fits run in `executor`."""
    step = step or horizon
    started = time.perf_counter()
    points = cutoffs(history, horizon, origins, step)
    weddings = [b.wedding for b in bookings]

    async def one(seq: int, cutoff: datetime) -> _Origin:
        train, _ = mask_outages(history.head(cutoff), ratio=settings.outage_ratio)
        regressors = calendar_regressors(known_at(bookings, cutoff), train.start, len(train) + horizon)
        result = await run_fit(executor, FitJob(name, train, regressors, horizon, settings, seed=seq))
        errors = naive_errors(train)
        return _Origin(
            cutoff=cutoff,
            forecast=result.forecast,
            naive=naive_forecast(train, cutoff, horizon),
            actual=history.window(cutoff, cutoff + horizon * HOUR).values,
            in_ceremony=tuple(ceremony_hours(weddings, cutoff, horizon)),
            mase_scale=statistics.fmean(abs(e) for e in errors) if errors else math.nan,
            fit_seconds=result.fit_seconds,
            peak_rss_bytes=result.peak_rss_bytes,
        )

    tasks = [asyncio.ensure_future(one(i, c)) for i, c in enumerate(points)]
    try:
        done = 0
        for next_done in asyncio.as_completed(tasks):
            await next_done
            done += 1
            if progress is not None:
                progress(done, len(tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    results = sorted((t.result() for t in tasks), key=lambda o: o.cutoff)
    return _score(name, results, settings, horizon, step, fallback_relative_mae, time.perf_counter() - started)


def _score(
    name: str,
    results: Sequence[_Origin],
    settings: ModelSettings,
    horizon: int,
    step: int,
    fallback: float,
    wall_seconds: float,
) -> BacktestReport:
    log = settings.log_transform
    err = naive_err = cer_err = cer_naive = 0.0
    n = cer_n = in80 = in95 = 0
    mases: list[float] = []
    scores_80: list[float] = []
    scores_95: list[float] = []
    forecasts: list[Forecast] = []
    for origin in results:
        # Calibrated on the earlier origins only: their horizons ended by this cutoff.
        forecast = widen(origin.forecast, Calibration.from_scores(scores_80, scores_95), log=log)
        forecasts.append(forecast)
        origin_err, origin_n = 0.0, 0
        for i, y in enumerate(origin.actual):
            if y is None:
                continue
            e, ne = abs(forecast.yhat[i] - y), abs(origin.naive.yhat[i] - y)
            err, naive_err, n = err + e, naive_err + ne, n + 1
            origin_err, origin_n = origin_err + e, origin_n + 1
            in80 += forecast.lower_80[i] <= y <= forecast.upper_80[i]
            in95 += forecast.lower_95[i] <= y <= forecast.upper_95[i]
            if origin.in_ceremony[i]:
                cer_err, cer_naive, cer_n = cer_err + e, cer_naive + ne, cer_n + 1
        if origin_n and origin.mase_scale > 0:
            mases.append(origin_err / origin_n / origin.mase_scale)
        s80, s95 = interval_scores(origin.forecast, origin.actual, log=log)
        scores_80 += s80
        scores_95 += s95
    fits = [o.fit_seconds for o in results]
    return BacktestReport(
        series=name,
        horizon_hours=horizon,
        origins=len(results),
        step_hours=step,
        points=n,
        mae=err / n if n else math.nan,
        naive_mae=naive_err / n if n else math.nan,
        relative_mae=_ratio(err, naive_err),
        mase=statistics.fmean(mases) if mases else math.nan,
        ceremony_points=cer_n,
        ceremony_mae=cer_err / cer_n if cer_n else math.nan,
        ceremony_naive_mae=cer_naive / cer_n if cer_n else math.nan,
        coverage_80=in80 / n if n else math.nan,
        coverage_95=in95 / n if n else math.nan,
        fit_seconds_mean=statistics.fmean(fits) if fits else math.nan,
        fit_seconds_max=max(fits, default=math.nan),
        wall_seconds=wall_seconds,
        peak_rss_bytes=max((o.peak_rss_bytes for o in results), default=0),
        # For the live forecast: every origin's errors.
        calibration=Calibration.from_scores(scores_80, scores_95),
        fallback_relative_mae=fallback,
        cutoffs=[iso_utc(o.cutoff) for o in results],
        forecasts=tuple(forecasts),
    )


def _ratio(err: float, naive_err: float) -> float:
    if naive_err > 0:
        return err / naive_err
    # A perfect naive: Prophet can only tie it.
    return 1.0 if err == 0 else math.inf
