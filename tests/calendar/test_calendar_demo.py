"""Generated calendars: `todays_weddings` puts every wedding on its day for the whole run, at any hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.calendar import Phase, phase_at
from wedwatch.calendar.demo import todays_weddings

# Ceremonies from 6.5 hours ago (its window has closed: wedding_day) to 8 hours ahead.
OFFSETS = [timedelta(minutes=m) for m in range(-390, 481, 15)]
STAY = timedelta(minutes=35)
ON_THE_DAY = {Phase.CEREMONY, Phase.WEDDING_DAY}


@pytest.mark.parametrize("hour", range(0, 24, 1))
@pytest.mark.parametrize("day", ["2027-03-28", "2027-06-12", "2027-10-31", "2027-12-31"])  # two DST changes among them
def test_every_wedding_is_on_its_day_for_the_whole_stay(day: str, hour: int) -> None:
    now = datetime.fromisoformat(f"{day}T{hour:02d}:17:31").replace(tzinfo=UTC)
    weddings = todays_weddings(now, OFFSETS, stay=STAY)
    assert len({w.id for w in weddings}) == len(OFFSETS)
    for w, offset in zip(weddings, OFFSETS, strict=True):
        assert w.ceremony_utc == (now + offset).replace(second=0, microsecond=0)
        for at in (now, now + STAY / 2, now + STAY):
            assert phase_at(w, at) in ON_THE_DAY, (w, at)
        expected = Phase.CEREMONY if -timedelta(hours=6) < offset <= timedelta(hours=2) else Phase.WEDDING_DAY
        assert phase_at(w, now) is expected, (w, offset)


def test_same_seed_same_calendar_and_zones_vary() -> None:
    now = datetime(2027, 6, 12, 9, 0, tzinfo=UTC)
    first, again = todays_weddings(now, OFFSETS, seed=3), todays_weddings(now, OFFSETS, seed=3)
    assert first == again
    assert len({w.timezone for w in first}) > 3


def test_offsets_no_local_day_can_hold_are_refused() -> None:
    now = datetime(2027, 6, 12, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="one local day"):
        todays_weddings(now, [timedelta(hours=1), timedelta(hours=-25)])
