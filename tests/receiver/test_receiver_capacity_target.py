"""The capacity target's decision and sizing (receiver/capacity_target.py), pure: `now` passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wedwatch.calendar.model import Wedding
from wedwatch.config.actions import CapacityConfig
from wedwatch.forecast.persist import PredictionSet
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.settings import CapacityModel, PlanSettings
from wedwatch.receiver.capacity_target import capacity_target, forecast_targets, plan_targets

NOW = datetime(2027, 6, 12, 13, 30, tzinfo=UTC)
BOUNDS = CapacityConfig()  # instances 2-10, db_connections 20-100, cache_mb 256-1024
MODEL = CapacityModel()  # instances: 12 req/s each, 0.05 per guest; db 1.5 req/s, 0.3 per guest; cache 64 MB steps
NONE: dict[str, float] = {}


@pytest.mark.parametrize(
    ("emergency", "plans", "forecast", "expected"),
    [
        # Nothing applies: the lower bounds.
        (False, NONE, NONE, {"instances": (2, "minimum"), "db_connections": (20, "minimum"), "cache_mb": (256, "minimum")}),
        # Emergency: the upper bounds, over any plan or forecast.
        (True, {"instances": 9, "db_connections": 100, "cache_mb": 1024}, {"instances": 10},
         {"instances": (10, "emergency"), "db_connections": (100, "emergency"), "cache_mb": (1024, "emergency")}),
        # The plan over a smaller forecast; the forecast over a smaller plan (the largest wins).
        (False, {"instances": 6, "db_connections": 40}, {"instances": 4, "db_connections": 60},
         {"instances": (6, "plan"), "db_connections": (60, "forecast"), "cache_mb": (256, "minimum")}),
        # Ties go to the earlier reason: plan over forecast, emergency over both.
        (False, {"instances": 5}, {"instances": 5}, {"instances": (5, "plan")}),
        (True, {"instances": 10}, {"instances": 10}, {"instances": (10, "emergency")}),
        # A plan at the minimum is still the plan (a window is open), not "minimum".
        (False, {"instances": 2}, NONE, {"instances": (2, "plan")}),
        # Bounds clamp: above the max, below the min.
        (False, {"instances": 14, "cache_mb": 4096}, {"db_connections": 3},
         {"instances": (10, "plan"), "cache_mb": (1024, "plan"), "db_connections": (20, "forecast")}),
    ],
)  # fmt: skip
def test_precedence_and_bounds(
    emergency: bool, plans: dict[str, float], forecast: dict[str, float], expected: dict[str, tuple[float, str]]
) -> None:
    targets = capacity_target(NOW, emergency, plans, forecast, BOUNDS)
    for resource, (value, reason) in expected.items():
        assert (targets[resource].value, targets[resource].reason) == (value, reason), resource
    assert [t.resource for t in targets.targets] == ["instances", "db_connections", "cache_mb"]


def test_bounds_follow_the_config() -> None:
    bounds = CapacityConfig.model_validate({"instances": {"min": 3, "max": 6}})
    targets = capacity_target(NOW, False, {"instances": 9}, NONE, bounds)
    assert targets["instances"].value == 6 and targets["instances"].bounds == (3, 6)
    assert capacity_target(NOW, False, NONE, NONE, bounds)["instances"].value == 3


def test_api_entry_shape() -> None:
    data = capacity_target(NOW, False, {"instances": 6}, NONE, BOUNDS).to_dict()
    assert data == {
        "instances": {"target": 6, "reason": "plan", "bounds": [2, 10]},
        "db_connections": {"target": 20, "reason": "minimum", "bounds": [20, 100]},
        "cache_mb": {"target": 256, "reason": "minimum", "bounds": [256, 1024]},
    }
    assert all(isinstance(entry["target"], int) for entry in data.values())


def _wedding(guests: int, ceremony: datetime, wid: str = "w-1") -> Wedding:
    return Wedding(wid, ceremony.astimezone(ZoneInfo("Europe/London")), "Europe/London", guests, 5)


CEREMONY = datetime(2027, 6, 12, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "weddings", "expected"),
    [
        # Before the two-hour lead: no plan.
        (CEREMONY - timedelta(hours=2, seconds=1), [_wedding(120, CEREMONY)], NONE),
        # From two hours before: 120 guests x 0.05 = 6 instances, x 0.3 = 36 connections,
        # x 2 MB = 240 MB (the 256 MB floor).
        (CEREMONY - timedelta(hours=2), [_wedding(120, CEREMONY)],
         {"instances": 6, "db_connections": 36, "cache_mb": 256}),
        # Through the ceremony window (to six hours after)...
        (CEREMONY + timedelta(hours=5, minutes=59), [_wedding(120, CEREMONY)],
         {"instances": 6, "db_connections": 36, "cache_mb": 256}),
        # ...and not after it.
        (CEREMONY + timedelta(hours=6), [_wedding(120, CEREMONY)], NONE),
        # Two windows open: sized for both weddings' guests (300 x 0.05 = 15, capped at 10).
        (CEREMONY, [_wedding(120, CEREMONY), _wedding(180, CEREMONY + timedelta(hours=1), "w-2")],
         {"instances": 10, "db_connections": 90, "cache_mb": 640}),
        # A wedding far away does nothing.
        (CEREMONY, [_wedding(500, CEREMONY + timedelta(days=3))], NONE),
    ],
)  # fmt: skip
def test_plan_in_force_without_forecast(now: datetime, weddings: list[Wedding], expected: dict[str, float]) -> None:
    assert plan_targets(now, weddings, None, MODEL, PlanSettings(), BOUNDS) == expected


def _forecast(start: datetime, upper: list[float]) -> Forecast:
    values = tuple(upper)
    return Forecast(start, values, values, values, values, values)


def test_plan_is_sized_by_the_forecast_peak_of_its_window() -> None:
    # 96 req/s in the window's busiest hour: 96 / 12 = 8 instances, above 120 guests' 6.
    start = CEREMONY - timedelta(hours=4)
    forecast = _forecast(start, [10.0] * 4 + [96.0] + [10.0] * 20)
    planned = plan_targets(CEREMONY - timedelta(hours=1), [_wedding(120, CEREMONY)], forecast, MODEL, PlanSettings(), BOUNDS)
    assert planned["instances"] == 8


def _set(start: datetime, upper: list[float], recommendations: list[dict[str, Any]] | None = None) -> PredictionSet:
    pset = PredictionSet.from_forecast("requests", _forecast(start, upper), created_at=start)
    return PredictionSet(**{**pset.__dict__, "recommendations": recommendations or []})


HOUR0 = datetime(2027, 6, 12, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "pset", "expected"),
    [
        (HOUR0, None, NONE),
        # The current hour's upper band, hour by hour: 24 req/s -> 2 instances, 60 -> 5; the
        # peak of the day (120 -> 10) only in its own hour.
        (HOUR0 + timedelta(minutes=59), _set(HOUR0, [24.0, 60.0, 120.0]), {"instances": 2}),
        (HOUR0 + timedelta(hours=1, minutes=30), _set(HOUR0, [24.0, 60.0, 120.0]), {"instances": 5}),
        (HOUR0 + timedelta(hours=2), _set(HOUR0, [24.0, 60.0, 120.0]), {"instances": 10}),
        # Outside the set's horizon: stale, nothing.
        (HOUR0 + timedelta(hours=3), _set(HOUR0, [24.0, 60.0, 120.0]), NONE),
        (HOUR0 - timedelta(minutes=1), _set(HOUR0, [24.0, 60.0, 120.0]), NONE),
    ],
)  # fmt: skip
def test_forecast_follows_the_band_hour_by_hour(
    now: datetime, pset: PredictionSet | None, expected: dict[str, float]
) -> None:
    got = forecast_targets(now, pset, MODEL, BOUNDS)
    for resource, value in expected.items():
        assert got[resource] == value
    if not expected:
        assert got == {}


def test_forecast_falls_back_to_the_stored_recommendation_without_hourly_values() -> None:
    pset = _set(HOUR0, [24.0, 60.0], [{"resource": "instances", "target": 7}, {"resource": "bogus", "target": 1}])
    pset = PredictionSet(**{**pset.__dict__, "points": [{"ts": "garbage"}]})
    assert forecast_targets(HOUR0 + timedelta(minutes=5), pset, MODEL, BOUNDS) == {"instances": 7.0}
