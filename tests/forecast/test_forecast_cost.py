"""The cost backtest: the replay's arithmetic on hand-made hours, bounds, the JSON shape, and the synthetic goals."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wedwatch.calendar.model import Wedding
from wedwatch.cli import main
from wedwatch.config.actions import CapacityBounds, CapacityConfig
from wedwatch.forecast.backtest import BacktestReport
from wedwatch.forecast.calibration import Calibration
from wedwatch.forecast.cost import POLICIES, cost_backtest, replay_origin, score
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.regressors import Booking
from wedwatch.forecast.series import HOUR, HourlySeries
from wedwatch.forecast.settings import CapacityModel, ResourceModel

CUTOFF = datetime(2027, 6, 12, 0, tzinfo=UTC)  # a Saturday
# One resource whose arithmetic reads at a glance: 10 load units per instance, 0.5 an hour.
INSTANCES = CapacityModel(
    resources={"instances": ResourceModel(per_unit=10, per_guest=0.05, step=1, price_per_unit_hour=0.5)}
)
BOUNDS = CapacityConfig(instances=CapacityBounds(min=1, max=4))
ROOMY = CapacityConfig(instances=CapacityBounds(min=1, max=10))


def _history(train: list[float | None], actual: list[float | None]) -> HourlySeries:
    return HourlySeries(CUTOFF - len(train) * HOUR, tuple(train + actual))


def _forecast(upper: list[float]) -> Forecast:
    band = tuple(upper)
    return Forecast(CUTOFF, band, band, band, band, band)


def _wedding(ceremony: datetime, guests: int) -> Wedding:
    return Wedding(f"w-{ceremony:%H%M}", ceremony, "UTC", guests, 8)


def test_each_policy_over_five_hand_made_hours() -> None:
    # Training peak 25 -> 3 instances; needs per hour: 15 -> 2, 38 -> 4, 45 -> 5, no measurement, 12 -> 2.
    history = _history([5, 12, 25, 8], [15, 38, 45, None, 12])
    forecast = _forecast([14, 31, 50, 20, 8])
    replay = replay_origin(history, [], forecast, horizon=5, capacity=INSTANCES, bounds=BOUNDS)
    assert replay.need == {"instances": (2, 4, 5, None, 2)}
    assert replay.capacity == {
        # The upper band sized to whole instances, clamped to 1-4.
        "forecast": {"instances": (2, 4, 4, 2, 1)},
        "static_peak": {"instances": (3, 3, 3, 3, 3)},
        # The previous hour's load: 8 (the last training hour), 15, 38, 45 (5, clamped to 4), then
        # held through the hour without a measurement.
        "reactive": {"instances": (1, 2, 4, 4, 4)},
    }
    assert replay.in_ceremony == (False,) * 5
    report = score([replay], INSTANCES, BOUNDS)
    forecast_score, static, reactive = (report.scores["instances"][p] for p in POLICIES)
    assert (forecast_score.unit_hours, forecast_score.cost) == (13, 6.5)
    assert (static.unit_hours, static.cost) == (15, 7.5)
    assert (reactive.unit_hours, reactive.cost) == (15, 7.5)
    # Hour 2 needs 5: every policy is short, but forecast and reactive are at the upper bound (4),
    # so only static_peak (3) counts it. Hour 3 has no measurement: four hours are scored.
    assert forecast_score.scored_hours == static.scored_hours == reactive.scored_hours == 4
    assert forecast_score.under_provisioned_hours_ratio == 1 / 4  # hour 4: 1 < 2
    assert static.under_provisioned_hours_ratio == 2 / 4  # hours 1 and 2: 3 < 4, 3 < 5
    assert reactive.under_provisioned_hours_ratio == 2 / 4  # hours 0 and 1: 1 < 2, 2 < 4


def test_a_policy_held_at_its_upper_bound_is_never_counted_short() -> None:
    history = _history([5, 40], [45, 60, 80])
    bounds = CapacityConfig(instances=CapacityBounds(min=1, max=4))
    report = score([replay_origin(history, [], _forecast([10, 10, 10]), horizon=3, capacity=INSTANCES, bounds=bounds)],
                   INSTANCES, bounds)  # fmt: skip
    static = report.scores["instances"]["static_peak"]
    assert report.replays[0].capacity["static_peak"]["instances"] == (4, 4, 4)
    assert static.under_provisioned_hours == 0 and static.under_provisioned_hours_ratio == 0
    # The forecast's 1 instance is below its bound: each of the three hours counts.
    assert report.scores["instances"]["forecast"].under_provisioned_hours == 3


@pytest.mark.parametrize("minutes", [0, 30])
def test_the_plan_raises_the_forecast_policy_from_two_hours_before_the_ceremony(minutes: int) -> None:
    # Load 10 (one instance) throughout; a 100-guest ceremony at 04:MM needs 5 by its guests
    # (0.05 each) from 02:MM to 10:MM. A step inside an hour raises the whole hour.
    hours = 14
    history = _history([10] * 4, [10.0] * hours)
    ceremony = CUTOFF + timedelta(hours=4, minutes=minutes)
    replay = replay_origin(history, [_wedding(ceremony, 100)], _forecast([10] * hours), horizon=hours,
                           capacity=INSTANCES, bounds=ROOMY)  # fmt: skip
    last = 10 if minutes else 9
    expected = tuple(5 if 2 <= h <= last else 1 for h in range(hours))
    assert replay.capacity["forecast"]["instances"] == expected
    assert replay.in_ceremony == tuple(v == 5 for v in expected)
    # The other policies know nothing of the calendar.
    assert set(replay.capacity["reactive"]["instances"]) == set(replay.capacity["static_peak"]["instances"]) == {1}


def test_the_plan_sees_a_late_booking_only_from_when_it_was_booked() -> None:
    hours = 12
    history = _history([10] * 4, [10.0] * hours)
    ceremony = CUTOFF + timedelta(hours=4)
    booking = Booking(_wedding(ceremony, 100), known_from=CUTOFF + timedelta(hours=2, minutes=50))
    replay = replay_origin(history, [booking], _forecast([10] * hours), horizon=hours, capacity=INSTANCES,
                           bounds=ROOMY)  # fmt: skip
    # The window opened at 02:00, before anyone knew; each hour is planned with the calendar as it
    # stood when the hour began, so from 03:00 the plan, made again, holds the wedding's capacity.
    assert replay.capacity["forecast"]["instances"][:4] == (1, 1, 1, 5)


def test_every_policy_stays_within_the_bounds() -> None:
    # Loads far below and far above every bound, and a wedding whose guests alone need more
    # than the maximum.
    hours = 24
    history = _history([0.1, 900.0, 0.1], [0.1, 2000.0, 0.5, 700.0] * 6)
    upper = [0.0, 5000.0, 0.2, 900.0] * 6
    weddings = [_wedding(CUTOFF + timedelta(hours=6), 5000)]
    bounds = CapacityConfig()
    replay = replay_origin(history, weddings, _forecast(upper), horizon=hours, capacity=CapacityModel(), bounds=bounds)
    for policy in POLICIES:
        for resource, caps in replay.capacity[policy].items():
            bound = getattr(bounds, resource)
            assert all(bound.min <= c <= bound.max for c in caps), (policy, resource, caps)
            assert len(caps) == hours
    # The need itself is unclamped: that is what under-provisioning is measured against.
    assert max(n for n in replay.need["instances"] if n is not None) > bounds.instances.max


def test_the_json_shape() -> None:
    history = _history([10] * 4, [12.0, 20.0, 30.0])
    report = cost_backtest(history, [], [_forecast([15, 25, 35])], capacity=CapacityModel(), bounds=CapacityConfig())
    data = report.to_dict()
    assert list(data) == ["capacity"]
    assert list(data["capacity"]) == ["instances", "db_connections", "cache_mb"]
    for by_policy in data["capacity"].values():
        assert list(by_policy) == ["forecast", "static_peak", "reactive"]
        for values in by_policy.values():
            assert list(values) == ["unit_hours", "cost", "under_provisioned_hours_ratio"]
            assert all(isinstance(v, float | int) for v in values.values())
    assert json.loads(json.dumps(data)) == data


def _today_keys() -> set[str]:
    # The keys `backtest --json` printed before --capacity: a report's, whatever its values.
    required = [f for f in fields(BacktestReport) if f.default is MISSING and f.default_factory is MISSING]
    values: dict[str, Any] = {f.name: Calibration() if f.name == "calibration" else 0 for f in required}
    return set(BacktestReport(**values).to_dict())


def test_capacity_flags_refuse_what_they_cannot_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--synthetic", "0", "--plot", "x.png"]) == 2
    assert "--plot: draws the capacity replay: add --capacity" in capsys.readouterr().err
    assert main(["backtest", "--synthetic", "0", "--series", "photo_uploads", "--capacity"]) == 2
    assert (
        "--capacity: capacity is sized from forecast.capacity.series (requests), not photo_uploads"
        in capsys.readouterr().err
    )


def test_the_cost_backtest_on_the_synthetic_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `wedwatch backtest --synthetic 0 --capacity`, all 12 origins of 48 h (about 10-20 s here).
    # Measured: instance-hours 2154 against static_peak's 4368 (0.49x); under-provisioned 0.17 %
    # (1 hour of 576) against reactive's 13.0 %.
    png = tmp_path / "capacity.png"
    assert main(["backtest", "--synthetic", "0", "--capacity", "--json", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == _today_keys() | {"source", "capacity"}
    instances = out["capacity"]["instances"]
    forecast, static, reactive = (instances[p] for p in POLICIES)
    assert forecast["unit_hours"] <= 0.6 * static["unit_hours"]
    assert forecast["under_provisioned_hours_ratio"] <= 0.02
    assert forecast["under_provisioned_hours_ratio"] < reactive["under_provisioned_hours_ratio"]
    assert forecast["cost"] == pytest.approx(forecast["unit_hours"] * 0.10)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
