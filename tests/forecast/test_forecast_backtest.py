"""The rolling-origin backtest on the generator's data, and the naive fallback when Prophet loses."""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest

from wedwatch.config.actions import CapacityConfig
from wedwatch.forecast.backtest import BacktestError, cutoffs, run_backtest
from wedwatch.forecast.pipeline import forecast_series
from wedwatch.forecast.series import HourlySeries
from wedwatch.forecast.settings import BacktestSettings, ForecastSettings, ModelSettings
from wedwatch.forecast.synthetic import generate_history


async def test_prophet_beats_the_weekly_seasonal_naive_with_calibrated_bands(pool: ProcessPoolExecutor) -> None:
    # Seed 0, 10 weeks, 6 origins of 48 h measured: relative MAE 0.56, 80 % coverage 0.81, 95 % 0.94.
    syn = generate_history(0, hours=10 * 168)
    progress: list[tuple[int, int]] = []
    report = await run_backtest(
        "requests", syn.series, syn.bookings, settings=ModelSettings(timezone=syn.timezone),
        horizon=48, origins=6, executor=pool, progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    assert report.relative_mae <= 0.85
    assert 0.75 <= report.coverage_80 <= 0.88
    assert 0.88 <= report.coverage_95 <= 0.99
    assert report.mase < 1
    assert report.ceremony_points > 0 and report.ceremony_mae < report.ceremony_naive_mae
    assert report.model == "prophet"
    assert report.points == 6 * 48 - sum(v is None for v in syn.series.values[-6 * 48 :])
    assert progress == [(i, 6) for i in range(1, 7)]
    data = report.to_dict()
    assert {"relative_mae", "mase", "coverage_80", "coverage_95", "fit_seconds_mean", "model"} <= set(data)


def _weekly_noise(weeks: int, seed: int = 3) -> HourlySeries:
    # An hour-of-week pattern with no smooth shape, repeated almost exactly: "same hour last week"
    # is nearly perfect, Prophet's smooth seasonalities cannot follow it.
    rng = random.Random(seed)
    pattern = [rng.uniform(5, 100) for _ in range(168)]
    values = tuple(pattern[i % 168] * rng.uniform(0.99, 1.01) for i in range(weeks * 168))
    return HourlySeries(datetime(2027, 1, 4, tzinfo=UTC), values)


async def test_a_series_where_prophet_loses_falls_back_to_the_naive(pool: ProcessPoolExecutor) -> None:
    history = _weekly_noise(4)
    settings = ForecastSettings(
        model=ModelSettings(uncertainty_samples=200), backtest=BacktestSettings(origins=2, horizon_hours=24)
    )
    result = await forecast_series(
        "photo_uploads", history, [], now=history.end, horizon=48, settings=settings,
        bounds=CapacityConfig(), executor=pool,
    )  # fmt: skip
    assert result.backtest is not None and result.backtest.relative_mae > 1
    assert result.backtest.model == "naive"
    assert result.forecast.model == "naive" and result.prediction_set.model == "naive"
    assert result.fit is None
    assert "falls back to the seasonal-naive" in result.reason
    # The naive is the same hour a week earlier.
    assert result.forecast.yhat[:24] == history.values[-168 : -168 + 24]
    assert result.prediction_set.metrics["backtest"]["relative_mae"] > 1


async def test_a_short_history_uses_the_naive_without_fitting() -> None:
    history = _weekly_noise(1)
    result = await forecast_series(
        "requests", history, [], now=history.end, horizon=24, settings=ForecastSettings(), bounds=CapacityConfig()
    )
    assert result.forecast.model == "naive" and result.backtest is None
    assert "168 of 168 hours known, under two weeks" in result.reason
    assert len(result.prediction_set.recommendations) == 3


def test_cutoffs_are_spaced_and_leave_two_weeks_of_training() -> None:
    history = _weekly_noise(3)
    points = cutoffs(history, 48, 3, 24)
    assert points == [history.at(len(history) - 48 - 48), history.at(len(history) - 48 - 24), history.at(len(history) - 48)]
    with pytest.raises(BacktestError, match="need at least 720 hours of history; there are 504"):
        cutoffs(history, 48, 8, 48)
