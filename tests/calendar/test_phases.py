"""The phase table at its exact boundaries, across time zones and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.calendar import Phase, Wedding, parse_entry, phase_at, plan, probe_interval, tier_of
from wedwatch.calendar.demo import DEMO_PHASES, demo_weddings
from wedwatch.config.model import FeaturesConfig, ScheduleConfig

SECOND = timedelta(seconds=1)


def wedding(ceremony_at: str, timezone: str, wid: str = "w") -> Wedding:
    parsed = parse_entry(0, {"id": wid, "ceremony_at": ceremony_at, "timezone": timezone, "guests": 100})
    assert isinstance(parsed, Wedding), parsed
    return parsed


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def assert_boundary(w: Wedding, at: datetime, before: Phase, after: Phase) -> None:
    assert phase_at(w, at - SECOND) is before, f"{at - SECOND}"
    assert phase_at(w, at) is after, f"{at}"
    assert phase_at(w, at + SECOND) is after, f"{at + SECOND}"


# Ceremony 2027-02-10 15:00 in Berlin (CET, UTC+1) is 14:00Z; no DST change within a month of it.
BERLIN = ("2027-02-10T15:00", "Europe/Berlin")


@pytest.mark.parametrize(
    ("instant", "before", "after"),
    [
        ("2027-01-11T14:00:00", Phase.PLANNING, Phase.MONTH),  # 30 days before
        ("2027-02-03T14:00:00", Phase.MONTH, Phase.WEEK),  # 7 days before
        ("2027-02-08T23:00:00", Phase.WEEK, Phase.EVE),  # local midnight starting the 9th
        ("2027-02-09T23:00:00", Phase.EVE, Phase.WEDDING_DAY),  # local midnight starting the 10th
        ("2027-02-10T12:00:00", Phase.WEDDING_DAY, Phase.CEREMONY),  # ceremony - 2 h
        ("2027-02-10T20:00:00", Phase.CEREMONY, Phase.WEDDING_DAY),  # ceremony + 6 h
        ("2027-02-10T23:00:00", Phase.WEDDING_DAY, Phase.AFTER),  # local midnight ending the day
        ("2027-02-17T14:00:00", Phase.AFTER, Phase.ARCHIVED),  # ceremony + 7 days
    ],
)
def test_every_boundary_of_the_phase_table(instant: str, before: Phase, after: Phase) -> None:
    assert_boundary(wedding(*BERLIN), utc(instant), before, after)


def test_new_york_wedding_on_the_spring_forward_day() -> None:
    # 2027-03-14: clocks jump 02:00 EST -> 03:00 EDT, so the local day is 23 hours long.
    w = wedding("2027-03-14T15:00", "America/New_York")
    assert w.ceremony_utc == utc("2027-03-14T19:00:00")  # EDT, UTC-4
    assert_boundary(w, utc("2027-03-14T05:00:00"), Phase.EVE, Phase.WEDDING_DAY)  # 00:00 EST
    assert_boundary(w, utc("2027-03-14T17:00:00"), Phase.WEDDING_DAY, Phase.CEREMONY)
    assert_boundary(w, utc("2027-03-15T01:00:00"), Phase.CEREMONY, Phase.WEDDING_DAY)
    assert_boundary(w, utc("2027-03-15T04:00:00"), Phase.WEDDING_DAY, Phase.AFTER)  # 00:00 EDT


def test_ceremony_window_across_the_clock_change_is_six_real_hours() -> None:
    # 01:30 EST is 06:30Z; six elapsed hours later is 12:30Z = 08:30 EDT (wall clock says 7 hours).
    w = wedding("2027-03-14T01:30", "America/New_York")
    # The window opens at 23:30 EST on the eve.
    assert_boundary(w, utc("2027-03-14T04:30:00"), Phase.EVE, Phase.CEREMONY)
    assert_boundary(w, utc("2027-03-14T12:30:00"), Phase.CEREMONY, Phase.WEDDING_DAY)


def test_week_before_is_wall_clock_days_across_dst() -> None:
    # A week before 2027-03-20 15:00 EDT is 2027-03-13 15:00 EST = 20:00Z, not 19:00Z.
    w = wedding("2027-03-20T15:00", "America/New_York")
    assert_boundary(w, utc("2027-03-13T20:00:00"), Phase.MONTH, Phase.WEEK)


def test_ambiguous_fall_back_time_takes_the_first_occurrence() -> None:
    # 2026-11-01 01:30 happens twice in New York; the first (EDT) one is meant.
    assert wedding("2026-11-01T01:30", "America/New_York").ceremony_utc == utc("2026-11-01T05:30:00")


def test_time_skipped_by_dst_is_a_bad_entry() -> None:
    error = parse_entry(3, {"id": "gap", "ceremony_at": "2027-03-14T02:30", "timezone": "America/New_York", "guests": 1})
    assert str(error) == "entry 3 (id 'gap'): ceremony_at: 2027-03-14T02:30:00 does not exist in America/New_York (DST gap)"


def test_auckland_wedding_day_starts_the_previous_utc_day() -> None:
    # 2027-01-09 16:00 NZDT (UTC+13) is 03:00Z; the local day began at 2027-01-08T11:00Z.
    w = wedding("2027-01-09T16:00", "Pacific/Auckland")
    assert w.ceremony_utc == utc("2027-01-09T03:00:00")
    assert_boundary(w, utc("2027-01-07T11:00:00"), Phase.WEEK, Phase.EVE)
    assert_boundary(w, utc("2027-01-08T11:00:00"), Phase.EVE, Phase.WEDDING_DAY)
    assert_boundary(w, utc("2027-01-09T01:00:00"), Phase.WEDDING_DAY, Phase.CEREMONY)
    assert_boundary(w, utc("2027-01-09T09:00:00"), Phase.CEREMONY, Phase.WEDDING_DAY)
    assert_boundary(w, utc("2027-01-09T11:00:00"), Phase.WEDDING_DAY, Phase.AFTER)
    assert_boundary(w, utc("2027-01-16T03:00:00"), Phase.AFTER, Phase.ARCHIVED)


def test_late_ceremony_window_crosses_local_midnight() -> None:
    # 22:30 BST is 21:30Z; the window runs to 03:30Z, past local midnight (23:00Z).
    w = wedding("2027-06-12T22:30", "Europe/London")
    assert phase_at(w, utc("2027-06-12T23:30:00")) is Phase.CEREMONY  # 00:30 local on the 13th
    assert_boundary(w, utc("2027-06-13T03:30:00"), Phase.CEREMONY, Phase.AFTER)  # never wedding_day again


def test_entry_with_offset_is_shown_in_its_own_zone() -> None:
    w = wedding("2027-06-12T14:00:00+02:00", "Europe/London")
    assert w.ceremony_at.isoformat() == "2027-06-12T13:00:00+01:00"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        phase_at(wedding(*BERLIN), datetime(2027, 2, 10, 12))


@pytest.mark.parametrize(
    ("phase", "tier"),
    [(Phase.CEREMONY, "wedding_day"), (Phase.WEDDING_DAY, "wedding_day")]
    + [(p, "standard") for p in Phase if p not in (Phase.CEREMONY, Phase.WEDDING_DAY)],
)
def test_tier(phase: Phase, tier: str) -> None:
    assert tier_of(phase) == tier


@pytest.mark.parametrize(
    ("phase", "seconds"),
    [(Phase.CEREMONY, 10), (Phase.WEDDING_DAY, 15), (Phase.EVE, 30), (Phase.AFTER, 300),
     (Phase.WEEK, 60), (Phase.MONTH, 300), (Phase.PLANNING, 900), (Phase.ARCHIVED, None)],
)  # fmt: skip
def test_default_intervals(phase: Phase, seconds: float | None) -> None:
    assert probe_interval(phase, ScheduleConfig(), FeaturesConfig()) == seconds


def test_enhanced_monitoring_off_collapses_wedding_day_to_week_interval() -> None:
    features = FeaturesConfig(wedding_day_enhanced_monitoring=False)
    schedule = ScheduleConfig(intervals={Phase.WEEK: 45})
    assert probe_interval(Phase.CEREMONY, schedule, features) == 45
    assert probe_interval(Phase.WEDDING_DAY, schedule, features) == 45
    assert probe_interval(Phase.EVE, schedule, features) == 30


def test_plan_tracks_only_near_phases_and_cap_keeps_nearest_ceremonies() -> None:
    now = utc("2027-05-01T12:00:00")
    weddings = demo_weddings(now)
    statuses = plan(weddings, now, ScheduleConfig(), FeaturesConfig())
    assert {s.wedding.id: s.phase for s in statuses} == DEMO_PHASES
    tracked = {s.wedding.id for s in statuses if s.tracked}
    assert tracked == {"demo-ceremony", "demo-wedding-day", "demo-eve", "demo-after", "demo-week"}
    assert [s.wedding.ceremony_utc for s in statuses] == sorted(w.ceremony_utc for w in weddings)

    capped = plan(weddings, now, ScheduleConfig(max_tracked_weddings=3), FeaturesConfig())
    # Nearest ceremonies: 30 min ahead, 7 h ago, about 1.3 days ahead; not 3 days ago or 4 ahead.
    assert {s.wedding.id for s in capped if s.tracked} == {"demo-ceremony", "demo-wedding-day", "demo-eve"}


@pytest.mark.parametrize("hours", range(0, 24 * 14, 5))
def test_demo_calendar_covers_every_phase_at_any_hour(hours: int) -> None:
    now = utc("2027-03-08T00:17:00") + timedelta(hours=hours)
    assert {w.id: phase_at(w, now) for w in demo_weddings(now)} == DEMO_PHASES
