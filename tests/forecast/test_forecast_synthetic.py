"""The generator (deterministic, Saturday peaks, summer season, its calendar) and the calendar regressors."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from wedwatch.calendar.model import Wedding
from wedwatch.forecast.regressors import Booking, calendar_regressors, ceremony_hours, known_at
from wedwatch.forecast.synthetic import generate_history

LONDON = ZoneInfo("Europe/London")


def test_same_seed_same_history_other_seed_other_history() -> None:
    a, b, c = generate_history(1, hours=500), generate_history(1, hours=500), generate_history(2, hours=500)
    assert a.series == b.series and a.bookings == b.bookings
    assert a.series != c.series


def test_saturdays_peak_and_summer_is_busier_than_winter() -> None:
    syn = generate_history(0, start=datetime(2026, 1, 5, tzinfo=UTC), hours=52 * 168, outages=False)
    by_day: dict[int, list[float]] = {}
    for at, value in zip(syn.series.timestamps(), syn.series.values, strict=True):
        if value is not None:
            by_day.setdefault(at.astimezone(LONDON).weekday(), []).append(value)
    means = {day: statistics.fmean(values) for day, values in by_day.items()}
    assert max(means, key=lambda d: means[d]) == 5  # Saturday
    june = [v for at, v in zip(syn.series.timestamps(), syn.series.values, strict=True) if at.month == 6 and v]
    january = [v for at, v in zip(syn.series.timestamps(), syn.series.values, strict=True) if at.month == 1 and v]
    assert statistics.fmean(june) > 1.3 * statistics.fmean(january)
    saturdays = [b.wedding for b in syn.bookings if b.wedding.ceremony_at.weekday() == 5]
    assert len(saturdays) > len(syn.bookings) / 2


def test_outages_and_gaps_are_present_and_the_calendar_reaches_past_the_history() -> None:
    syn = generate_history(4, hours=8 * 168, future_hours=14 * 24)
    assert 0 < len(syn.series) - syn.series.present() < 40
    assert max(w.ceremony_utc for w in syn.weddings) > syn.series.end + timedelta(days=7)
    late = [b for b in syn.bookings if b.known_from and b.wedding.ceremony_utc - b.known_from < timedelta(days=6)]
    assert late, "some weddings are booked at short notice"


def test_regressors_carry_the_ceremony_profile_hour_by_hour() -> None:
    wedding = Wedding("w", datetime(2027, 6, 12, 14, 30, tzinfo=LONDON), "Europe/London", 120, 8)
    start = datetime(2027, 6, 11, 0, tzinfo=UTC)
    regs = calendar_regressors([wedding], start, 72)
    ceremony_index = 13 + 24  # 14:30 BST is 13:30 UTC on the 12th: the hour from 13:00
    assert regs["ceremony_p0"][ceremony_index] == 120
    assert regs["ceremony_m2"][ceremony_index - 2] == 120 and regs["ceremony_p5"][ceremony_index + 5] == 120
    assert regs["weddings"][ceremony_index - 3] == 0 and regs["weddings"][ceremony_index + 6] == 0
    assert sum(regs["weddings"]) == 8
    assert regs["wedding_day_guests"][ceremony_index + 7] == 120  # later that day
    assert regs["eve_guests"][12] == 120 and regs["eve_guests"][ceremony_index - 24] == 120
    assert regs["eve_guests"][50] == 0
    flags = ceremony_hours([wedding], start, 72)
    # The window 11:30-19:30 UTC overlaps the hours from 11:00 to 19:00.
    assert [i - ceremony_index for i, f in enumerate(flags) if f] == list(range(-2, 7))


def test_the_calendar_as_known_at_a_cutoff_leaves_later_bookings_out() -> None:
    w1 = Wedding("early", datetime(2027, 6, 12, 14, 0, tzinfo=LONDON), "Europe/London", 100, 5)
    w2 = Wedding("late", datetime(2027, 6, 12, 15, 0, tzinfo=LONDON), "Europe/London", 80, 5)
    booked = [Booking(w1, datetime(2026, 6, 1, tzinfo=UTC)), Booking(w2, datetime(2027, 6, 10, tzinfo=UTC)), w1]
    assert [w.id for w in known_at(booked, datetime(2027, 6, 9, tzinfo=UTC))] == ["early", "early"]
    assert [w.id for w in known_at(booked, datetime(2027, 6, 10, tzinfo=UTC))] == ["early", "late", "early"]
