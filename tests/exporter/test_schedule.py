"""The timetable with a controllable clock: interval per phase, re-tiering, the tracked cap."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.calendar import Phase, plan
from wedwatch.calendar.demo import DEMO_PHASES, demo_weddings
from wedwatch.config.model import FeaturesConfig, ScheduleConfig
from wedwatch.exporter.schedule import STARTUP_SPREAD_SECONDS, Schedule

NOW = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
OPS = ("guest_list", "mobile")


def run_for(schedule: Schedule, start: float, seconds: float, step: float = 0.5) -> dict[tuple[str, str], list[float]]:
    """Advance a fake clock, collecting when each job became due."""
    fired: dict[tuple[str, str], list[float]] = {}
    t = start
    while t <= start + seconds:
        for job in schedule.pop_due(t):
            fired.setdefault((job.wedding_id, job.operation), []).append(job.due)
        t += step
    return fired


def test_each_phase_is_probed_at_its_interval() -> None:
    statuses = plan(demo_weddings(NOW), NOW, ScheduleConfig(), FeaturesConfig())
    schedule = Schedule(jitter_ratio=0.0, rng=random.Random(1))
    schedule.update(statuses, OPS, now=0.0)
    fired = run_for(schedule, 0.0, 3600.0, step=1.0)
    expected = {wid: ScheduleConfig().intervals.get(phase) for wid, phase in DEMO_PHASES.items()}
    for wid, interval in expected.items():
        for op in OPS:
            dues = fired.get((wid, op), [])
            if interval is None:
                assert dues == [], f"{wid} is archived and must not be probed"
                continue
            gaps = {round(b - a, 6) for a, b in zip(dues, dues[1:], strict=False)}
            assert gaps == {interval}, (wid, op, gaps)
            tracked = next(st.tracked for st in statuses if st.wedding.id == wid)
            assert dues[0] <= (min(interval, STARTUP_SPREAD_SECONDS) if tracked else interval)


def test_a_restart_with_a_huge_calendar_starts_tracked_weddings_first() -> None:
    # 200 weddings this week (tracked), 20,000 months away (untracked, every 900 s): the first
    # 30 s hold every tracked probe and only their share of the far-out ones, not all of them.
    base = demo_weddings(NOW)[0]
    near = [replace(base, id=f"near-{i}", ceremony_at=NOW + timedelta(days=3)) for i in range(200)]
    far = [replace(base, id=f"far-{i}", ceremony_at=NOW + timedelta(days=120)) for i in range(20_000)]
    statuses = plan(near + far, NOW, ScheduleConfig(), FeaturesConfig())
    assert sum(s.tracked for s in statuses) == 200 and {s.interval_seconds for s in statuses if not s.tracked} == {900.0}
    schedule = Schedule(jitter_ratio=0.0, rng=random.Random(3))
    schedule.update(statuses, OPS, now=0.0)
    first = schedule.pop_due(STARTUP_SPREAD_SECONDS)
    assert {j.wedding_id for j in first if j.wedding_id.startswith("near-")} == {f"near-{i}" for i in range(200)}
    far_share = sum(j.wedding_id.startswith("far-") for j in first) / (20_000 * len(OPS))
    assert far_share == pytest.approx(STARTUP_SPREAD_SECONDS / 900.0, abs=0.01)
    rest = schedule.pop_due(900.0)
    assert {j.wedding_id for j in first + rest if j.wedding_id.startswith("far-")} == {f"far-{i}" for i in range(20_000)}


def test_jitter_keeps_average_interval_and_spreads_probes() -> None:
    statuses = [s for s in plan(demo_weddings(NOW), NOW, ScheduleConfig(), FeaturesConfig()) if s.phase is Phase.CEREMONY]
    schedule = Schedule(jitter_ratio=0.1, rng=random.Random(7))
    schedule.update(statuses, OPS, now=0.0)
    dues = run_for(schedule, 0.0, 2000.0, step=0.25)[("demo-ceremony", "guest_list")]
    gaps = [b - a for a, b in zip(dues, dues[1:], strict=False)]
    assert all(9.0 <= g <= 11.0 for g in gaps)
    assert len({round(g, 3) for g in gaps}) > 10
    assert sum(gaps) / len(gaps) == pytest.approx(10.0, rel=0.02)


def test_retiering_when_a_wedding_enters_its_ceremony() -> None:
    # Three hours before the ceremony the wedding is on its day (15 s); at -2 h it enters the ceremony (10 s).
    wedding = demo_weddings(NOW)[0]
    before = wedding.ceremony_utc - timedelta(hours=2, minutes=1)
    config = ScheduleConfig(intervals={Phase.WEDDING_DAY: 120.0})
    schedule = Schedule(jitter_ratio=0.0, rng=random.Random(3))
    schedule.update(plan([wedding], before, config, FeaturesConfig()), OPS, now=0.0)
    assert schedule.interval(wedding.id, "guest_list") == 120.0
    fired = run_for(schedule, 0.0, 60.0)
    last = fired[(wedding.id, "guest_list")][-1]
    # One minute later the calendar refresh sees the ceremony phase.
    schedule.update(plan([wedding], before + timedelta(minutes=1), config, FeaturesConfig()), OPS, now=60.0)
    assert schedule.interval(wedding.id, "guest_list") == 10.0
    # Counted from the last probe, not after the 120 s interval runs out.
    assert schedule.due(wedding.id, "guest_list") == max(60.0, last + 10.0)
    dues = run_for(schedule, 60.0, 60.0)[(wedding.id, "guest_list")]
    assert {round(b - a, 6) for a, b in zip(dues, dues[1:], strict=False)} == {10.0}


def test_archived_and_removed_weddings_leave_the_timetable() -> None:
    weddings = demo_weddings(NOW)
    schedule = Schedule(jitter_ratio=0.0, rng=random.Random(5))
    schedule.update(plan(weddings, NOW, ScheduleConfig(), FeaturesConfig()), OPS, now=0.0)
    assert schedule.interval("demo-archived", "mobile") is None
    assert len(schedule) == (len(weddings) - 1) * len(OPS)
    schedule.update(plan(weddings[:2], NOW, ScheduleConfig(), FeaturesConfig()), OPS, now=1.0)
    assert len(schedule) == 2 * len(OPS)
    assert all(job.wedding_id in {"demo-ceremony", "demo-wedding-day"} for job in schedule.pop_due(10_000.0))


def test_far_behind_does_not_burst() -> None:
    statuses = [s for s in plan(demo_weddings(NOW), NOW, ScheduleConfig(), FeaturesConfig()) if s.phase is Phase.CEREMONY]
    schedule = Schedule(jitter_ratio=0.0, rng=random.Random(2))
    schedule.update(statuses, ("guest_list",), now=0.0)
    schedule.pop_due(100.0)
    # Paused for ten minutes: one job fires, not sixty.
    assert len(schedule.pop_due(700.0)) == 1
    assert len(schedule.pop_due(700.0)) == 0


def test_tracked_cap_keeps_the_nearest_ceremonies() -> None:
    # 15 weddings a day apart around now: the cap of 5 keeps those closest to now, either side.
    base = demo_weddings(NOW)[0]
    weddings = [replace(base, id=f"w{d:+03d}", ceremony_at=base.ceremony_at + timedelta(days=d, hours=1)) for d in range(-7, 8)]
    statuses = plan(weddings, NOW, ScheduleConfig(max_tracked_weddings=5), FeaturesConfig())
    tracked = sorted(s.wedding.id for s in statuses if s.tracked)
    assert tracked == ["w+00", "w+01", "w+02", "w-01", "w-02"]
    # Untracked weddings are still probed (they count in the per-operation aggregates).
    schedule = Schedule(jitter_ratio=0.0)
    schedule.update(statuses, OPS, now=0.0)
    assert schedule.interval("w+06", "mobile") == 60.0
