"""Capacity sizing and the pre-ceremony plan (pure), and dispatching due steps once (both store back ends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wedwatch.calendar.model import Wedding
from wedwatch.config.actions import CapacityBounds, CapacityConfig
from wedwatch.forecast.dispatch import dispatch_due, due_steps
from wedwatch.forecast.plan import PlanStep, plan
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.recommendations import recommend, size
from wedwatch.forecast.settings import CapacityModel, PlanSettings, ResourceModel
from wedwatch.store import Store

LONDON = ZoneInfo("Europe/London")
START = datetime(2027, 6, 10, 0, tzinfo=UTC)  # Thursday
BOUNDS = CapacityConfig()
MODEL = CapacityModel()


def _flat(level: float, hours: int = 7 * 24, peak_at: int | None = None, peak: float = 0.0) -> Forecast:
    yhat = [level] * hours
    if peak_at is not None:
        yhat[peak_at] = peak
    upper = tuple(y * 1.2 for y in yhat)
    lower = tuple(y * 0.8 for y in yhat)
    return Forecast(START, tuple(yhat), lower, upper, tuple(v * 0.9 for v in lower), tuple(v * 1.1 for v in upper))


def _wedding(wid: str, local: datetime, guests: int = 150) -> Wedding:
    return Wedding(wid, local.replace(tzinfo=LONDON), "Europe/London", guests, 10)


@pytest.mark.parametrize(
    ("demand", "guests", "target", "bound", "capped"),
    [
        (0.0, 0, 2, "min", False),  # nothing to serve: the lower bound
        (30.0, 0, 3, None, False),  # 30 / 12 = 2.5 -> the smallest count that covers it: 3
        (36.0, 0, 3, None, False),  # exactly three instances' worth
        (100.0, 0, 9, None, False),
        (500.0, 0, 10, "max", True),  # would need 42: capped at 10 and said so
        (10.0, 150, 8, None, False),  # 150 guests x 0.05 = 7.5 -> 8: the guest floor wins
    ],
)  # fmt: skip
def test_instances_are_the_smallest_count_that_covers_within_bounds(
    demand: float, guests: int, target: float, bound: str | None, capped: bool
) -> None:
    rec = size("instances", demand, guests, MODEL.resources["instances"], BOUNDS.instances)
    assert (rec.target, rec.bound, rec.capped) == (target, bound, capped)
    assert rec.cost_per_hour == pytest.approx(target * 0.10)
    assert rec.max_cost_per_hour == pytest.approx(10 * 0.10)
    assert BOUNDS.instances.min <= rec.target <= BOUNDS.instances.max


def test_cache_comes_in_steps_and_respects_its_bounds() -> None:
    model = MODEL.resources["cache_mb"]  # 0.125 forecast units per MB, 64 MB steps
    assert size("cache_mb", 50.0, 0, model, BOUNDS.cache_mb).target == 448  # 400 MB -> 7 steps
    big = size("cache_mb", 1000.0, 0, model, BOUNDS.cache_mb)
    assert (big.target, big.need, big.capped) == (1024, 8000, True)
    custom = CapacityBounds(min=20, max=40)
    assert size("db_connections", 300.0, 0, ResourceModel(per_unit=1.0), custom).target == 40


def test_recommendations_size_for_the_peak_of_the_upper_bound_in_the_window() -> None:
    forecast = _flat(20.0, peak_at=30, peak=180.0)
    recs = {r.resource: r for r in recommend(forecast, MODEL, BOUNDS, start=START, end=START + timedelta(hours=24))}
    assert recs["instances"].demand == pytest.approx(24.0)  # the peak at hour 30 is outside the window
    recs = {r.resource: r for r in recommend(forecast, MODEL, BOUNDS, start=START, end=START + timedelta(hours=48))}
    assert recs["instances"].demand == pytest.approx(216.0)
    assert recs["instances"].at == "2027-06-11T06:00:00Z"
    assert all(r.capped and r.bound == "max" for r in recs.values())
    assert {r: recs[r].target for r in recs} == {"db_connections": 100, "cache_mb": 1024, "instances": 10}
    wider = recommend(forecast, MODEL.model_copy(update={"quantile": 0.95}), BOUNDS, start=START, end=START + timedelta(hours=48))
    assert wider[0].demand == pytest.approx(237.6)


def test_plan_warms_on_the_eve_scales_up_two_hours_before_and_down_after() -> None:
    wedding = _wedding("w-sat", datetime(2027, 6, 12, 14, 0), guests=200)  # 13:00 UTC (BST)
    steps = plan(_flat(20.0), [wedding], now=START, capacity=MODEL, bounds=BOUNDS)
    got = [(s.kind, s.action, s.at) for s in steps]
    assert got == [
        ("eve_warm", "cache_warm", datetime(2027, 6, 11, 17, 0, tzinfo=UTC)),  # 18:00 London on the Friday
        ("pre_ceremony_warm", "cache_warm", datetime(2027, 6, 12, 11, 0, tzinfo=UTC)),
        ("scale_up", "scale", datetime(2027, 6, 12, 11, 0, tzinfo=UTC)),  # two hours before the ceremony
        ("scale_down", "scale", datetime(2027, 6, 12, 19, 0, tzinfo=UTC)),  # the window (+6 h) has closed
    ]
    up, down = steps[2], steps[3]
    assert all(s.wedding_id == "w-sat" for s in steps)
    assert up.targets["instances"] == 10  # 200 guests x 0.05 per guest
    assert up.targets["db_connections"] == 60  # 200 x 0.3
    # After the window only the forecast counts: upper 24 -> 2 instances; the others at their floors.
    assert down.targets == {"db_connections": 20, "cache_mb": 256, "instances": 2}
    assert up.targets["instances"] > down.targets["instances"]
    assert "ceremony window of w-sat opens" in up.reason and "closed" in down.reason


def test_overlapping_weddings_keep_capacity_until_the_last_window_closes() -> None:
    a = _wedding("w-a", datetime(2027, 6, 12, 13, 0), guests=100)
    b = _wedding("w-b", datetime(2027, 6, 12, 16, 0), guests=100)
    scale = [s for s in plan(_flat(10.0), [a, b], now=START, capacity=MODEL, bounds=BOUNDS) if s.action == "scale"]
    assert [(s.kind, s.wedding_id, s.at.hour, s.targets["db_connections"]) for s in scale] == [
        ("scale_up", "w-a", 10, 30),  # 100 guests live
        ("scale_up", "w-b", 13, 60),  # both live
        ("scale_down", "w-a", 18, 30),  # w-b still live: not back to the floor
        ("scale_down", "w-b", 21, 20),
    ]


def test_capped_plan_steps_say_which_resource_hit_its_bound() -> None:
    wedding = _wedding("w-big", datetime(2027, 6, 12, 14, 0), guests=1000)
    up = next(s for s in plan(_flat(20.0), [wedding], now=START, capacity=MODEL, bounds=BOUNDS) if s.kind == "scale_up")
    assert set(up.capped) == {"db_connections", "cache_mb", "instances"}
    assert up.targets == {"db_connections": 100, "cache_mb": 1024, "instances": 10}


def test_plan_keys_do_not_depend_on_the_forecast() -> None:
    wedding = _wedding("w-sat", datetime(2027, 6, 12, 14, 0))
    low = plan(_flat(10.0), [wedding], now=START, capacity=MODEL, bounds=BOUNDS)
    high = plan(_flat(90.0), [wedding], now=START, capacity=MODEL, bounds=BOUNDS)
    assert [s.key for s in low] == [s.key for s in high]
    assert [s.targets for s in low] != [s.targets for s in high]
    assert low[2].key == "forecast-plan:scale_up:w-sat:2027-06-12T11:00Z"


def test_due_steps_are_those_whose_time_has_come_and_not_long_gone() -> None:
    wedding = _wedding("w-sat", datetime(2027, 6, 12, 14, 0))
    steps = plan(_flat(10.0), [wedding], now=START, capacity=MODEL, bounds=BOUNDS)
    at = datetime(2027, 6, 12, 11, 30, tzinfo=UTC)
    assert [s.kind for s in due_steps(steps, at, timedelta(hours=1))] == ["pre_ceremony_warm", "scale_up"]
    assert due_steps(steps, at + timedelta(hours=1), timedelta(hours=1)) == []
    # A plan made late still carries the steps that are due (within the allowed lateness).
    late = plan(_flat(10.0), [wedding], now=at, capacity=MODEL, bounds=BOUNDS, settings=PlanSettings())
    assert [s.kind for s in late][:2] == ["pre_ceremony_warm", "scale_up"]


def _due_plan() -> tuple[list[PlanStep], datetime]:
    wedding = _wedding("w-sat", datetime(2027, 6, 12, 14, 0))
    now = datetime(2027, 6, 12, 11, 5, tzinfo=UTC)
    return plan(_flat(10.0), [wedding], now=now, capacity=MODEL, bounds=BOUNDS), now


async def test_act_mode_enqueues_each_due_step_once(store: Store, count_rows: object) -> None:
    steps, now = _due_plan()
    first = await dispatch_due(store, steps, now=now, mode="act")
    assert len(first.new) == 2 and first.known == []
    # Planning again (a fresh forecast, new targets) and dispatching again changes nothing.
    again, _ = _due_plan()
    second = await dispatch_due(store, again, now=now + timedelta(minutes=5), mode="act")
    assert second.new == [] and sorted(second.known) == sorted(first.new)
    assert await count_rows("action_outbox") == 2  # type: ignore[operator]
    claimed = await store.claim_actions("w1", 10, 60, now + timedelta(minutes=10))
    assert sorted(r["action"] for r in claimed) == ["cache_warm", "scale"]
    scale = next(r for r in claimed if r["action"] == "scale")
    assert scale["incident_id"] is None
    assert scale["params"]["targets"]["instances"] == 8 and scale["params"]["wedding_id"] == "w-sat"
    assert scale["idempotency_key"] == "forecast-plan:scale_up:w-sat:2027-06-12T11:00Z"


async def test_recommend_mode_records_without_enqueuing(store: Store, count_rows: object) -> None:
    steps, now = _due_plan()
    first = await dispatch_due(store, steps, now=now, mode="recommend")
    second = await dispatch_due(store, steps, now=now, mode="recommend")
    assert len(first.new) == 2 and second.new == []
    assert await count_rows("action_outbox") == 0  # type: ignore[operator]
    rows = await store.list_optimizations()
    assert sorted((r["kind"], r["resource"]) for r in rows) == [
        ("cache_warm", "cache_mb"), ("scale", "cache_mb"), ("scale", "db_connections"), ("scale", "instances"),
    ]  # fmt: skip
    assert {r["outcome"] for r in rows} == {"recommended"}
