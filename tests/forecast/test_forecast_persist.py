"""Prediction sets in the store (both back ends) and the samples the receiver exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wedwatch.forecast.forecaster import forecast_from_points
from wedwatch.forecast.persist import PredictionSet, forecast_samples, latest_prediction_sets, save_prediction_set
from wedwatch.forecast.prediction import Forecast
from wedwatch.store import Store

START = datetime(2027, 6, 12, 0, tzinfo=UTC)


def _forecast(offset: float = 0.0, hours: int = 48) -> Forecast:
    yhat = tuple(10.0 + i + offset for i in range(hours))
    return Forecast(
        START,
        yhat,
        tuple(y - 1 for y in yhat),
        tuple(y + 1 for y in yhat),
        tuple(y - 2 for y in yhat),
        tuple(y + 2 for y in yhat),
    )


def test_samples_are_the_hour_containing_now() -> None:
    pset = PredictionSet.from_forecast("requests", _forecast(), created_at=START)
    now = START + timedelta(hours=5, minutes=59, seconds=59)
    assert forecast_samples([pset], now) == [("requests", "lower", 14.0), ("requests", "upper", 16.0), ("requests", "yhat", 15.0)]


def test_no_samples_outside_the_horizon() -> None:
    pset = PredictionSet.from_forecast("requests", _forecast(), created_at=START)
    assert forecast_samples([pset], START - timedelta(seconds=1)) == []
    assert forecast_samples([pset], START + timedelta(hours=48)) == []


async def test_prediction_sets_round_trip_and_the_latest_per_series_is_exported(store: Store) -> None:
    old = PredictionSet.from_forecast("requests", _forecast(), created_at=START, metrics={"relative_mae": 0.6})
    new = PredictionSet.from_forecast(
        "requests", _forecast(offset=100), created_at=START + timedelta(hours=6),
        recommendations=[{"resource": "instances", "target": 4.0, "capped": False}],
    )  # fmt: skip
    other = PredictionSet.from_forecast("photo_uploads", _forecast(offset=-5), created_at=START)
    for pset in (old, new, other):
        assert await save_prediction_set(store, pset) > 0
    latest = sorted(await latest_prediction_sets(store), key=lambda p: p.series)
    assert [p.series for p in latest] == ["photo_uploads", "requests"]
    assert latest[1].points == new.points and latest[1].recommendations == new.recommendations
    assert latest[1].horizon_start == START and latest[1].horizon_end == START + timedelta(hours=48)
    # The collector may hand over the store's rows as they are.
    rows = await store.latest_prediction_sets()
    samples = forecast_samples(rows, START + timedelta(hours=1, minutes=30))
    assert ("requests", "yhat", 111.0) in samples and ("photo_uploads", "upper", 7.0) in samples
    assert len(samples) == 6
    assert forecast_from_points(latest[1]) == Forecast(
        START, _forecast(100).yhat, _forecast(100).lower_80, _forecast(100).upper_80,
        _forecast(100).lower_95, _forecast(100).upper_95,
    )  # fmt: skip
