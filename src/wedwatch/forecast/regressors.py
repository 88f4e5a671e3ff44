"""Calendar regressors: what the wedding calendar says about each hour, known in advance.

Prophet's holidays are whole days, but a wedding's load has an hourly shape around the
ceremony, so the shape is given as regressors, one per hour of the ceremony window:
`ceremony_m2` holds the guests of the weddings whose ceremony starts two hours after this hour,
`ceremony_p0` those starting in it, up to `ceremony_p5`. Prophet learns one coefficient per
offset, which is the ceremony's hourly profile. Two more carry the rest of the wedding day and
its eve (local days in each wedding's own zone), and `weddings` counts ceremony windows open.

Backtests must not see the future: a `Booking` says since when a wedding was known, and
`known_at(bookings, cutoff)` is the calendar as it stood at a cutoff. Weddings from a calendar
file carry no booking time and count as always known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wedwatch.calendar.model import Wedding
from wedwatch.forecast.series import HOUR, floor_hour

__all__ = [
    "CEREMONY_OFFSETS",
    "REGRESSOR_NAMES",
    "Booking",
    "calendar_regressors",
    "ceremony_hours",
    "known_at",
]

# The ceremony window of DESIGN.md section 1 is -2 h to +6 h; the last two hours of it carry
# little load of their own and share `ceremony_p5`.
CEREMONY_OFFSETS = tuple(range(-2, 6))
_OFFSET_NAMES = {k: f"ceremony_{'m' if k < 0 else 'p'}{abs(k)}" for k in CEREMONY_OFFSETS}
REGRESSOR_NAMES = (*_OFFSET_NAMES.values(), "wedding_day_guests", "eve_guests", "weddings")


@dataclass(frozen=True, slots=True)
class Booking:
    """A wedding and the instant it entered the calendar (None: always known)."""

    wedding: Wedding
    known_from: datetime | None = None


def known_at(bookings: Iterable[Booking | Wedding], cutoff: datetime) -> list[Wedding]:
    """The weddings the calendar held at `cutoff`."""
    out = []
    for item in bookings:
        if isinstance(item, Wedding):
            out.append(item)
        elif item.known_from is None or item.known_from <= cutoff:
            out.append(item.wedding)
    return out


def ceremony_hours(weddings: Iterable[Wedding], start: datetime, hours: int) -> list[bool]:
    """For each hour from `start`, whether some wedding's ceremony window (-2 h, +6 h) overlaps it."""
    first = floor_hour(start)
    flags = [False] * hours
    for wedding in weddings:
        ceremony = wedding.ceremony_utc
        lo = int((floor_hour(ceremony - timedelta(hours=2)) - first) // HOUR)
        hi = int((floor_hour(ceremony + timedelta(hours=6) - timedelta(microseconds=1)) - first) // HOUR)
        for i in range(max(0, lo), min(hours, hi + 1)):
            flags[i] = True
    return flags


def calendar_regressors(weddings: Sequence[Wedding], start: datetime, hours: int) -> dict[str, list[float]]:
    """Hourly regressor columns (raw guest counts) for `hours` hours from `start`."""
    first = floor_hour(start)
    columns = {name: [0.0] * hours for name in REGRESSOR_NAMES}
    last = first + hours * HOUR
    for wedding in weddings:
        ceremony = floor_hour(wedding.ceremony_utc)
        zone = wedding.ceremony_at.tzinfo
        day = wedding.ceremony_at.date()
        # Only hours from the eve to the day after can carry this wedding's load.
        lo = max(first, ceremony - timedelta(hours=48))
        hi = min(last, ceremony + timedelta(hours=48))
        at = lo
        while at < hi:
            i = int((at - first) // HOUR)
            offset = int((at - ceremony) // HOUR)
            if offset in _OFFSET_NAMES:
                columns[_OFFSET_NAMES[offset]][i] += wedding.guests
                columns["weddings"][i] += 1
            else:
                local_day = at.astimezone(zone).date()
                if local_day == day:
                    columns["wedding_day_guests"][i] += wedding.guests
                elif local_day == day - timedelta(days=1):
                    columns["eve_guests"][i] += wedding.guests
            at += HOUR
    return columns
