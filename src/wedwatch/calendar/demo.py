"""A generated calendar holding a wedding in every phase at a given instant (for the demo and tests)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wedwatch.calendar.model import Wedding
from wedwatch.config.model import Phase

__all__ = ["demo_weddings", "todays_weddings"]

# Zones spread around the globe: at any instant one of them has a local hour that fits.
_ZONES = (
    "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Auckland", "Asia/Kolkata", "America/Sao_Paulo", "Europe/Berlin", "Asia/Dubai",
    "Pacific/Honolulu", "America/Chicago",
)  # fmt: skip


def _zone_where(now: datetime, lo: int, hi: int) -> ZoneInfo:
    """The first zone whose local hour at `now` lies in [lo, hi)."""
    for name in _ZONES:
        zone = ZoneInfo(name)
        if lo <= now.astimezone(zone).hour < hi:
            return zone
    raise AssertionError("the zone list covers every hour")  # pragma: no cover


def _wedding(wid: str, name: str, at: datetime, guests: int, vendors: int, venue: str) -> Wedding:
    # Calendars hold whole minutes; rounding down keeps every phase's boundary math intact.
    at = at.replace(second=0, microsecond=0)
    return Wedding(wid, at, str(at.tzinfo), guests, vendors, name=name, venue=venue)


def demo_weddings(now: datetime) -> list[Wedding]:
    """Weddings whose phases at `now` cover every phase, the ceremony one starting in 30 minutes."""
    now = now.astimezone(UTC)
    london = ZoneInfo("Europe/London")
    day_zone = _zone_where(now, 8, 23)
    local_day = now.astimezone(day_zone)
    eve_zone = ZoneInfo("America/New_York")
    tomorrow = now.astimezone(eve_zone).date() + timedelta(days=1)
    return [
        _wedding("demo-ceremony", "Asha & Tom", (now + timedelta(minutes=30)).astimezone(london), 180, 12, "Kew Gardens"),
        _wedding("demo-wedding-day", "Mei & Jonas", local_day - timedelta(hours=7), 120, 9, "Lakeside Barn"),
        _wedding(
            "demo-eve", "Priya & Sam", datetime.combine(tomorrow, time(20, 0), eve_zone), 95, 7, "Brooklyn Loft"
        ),
        _wedding("demo-after", "Lena & Omar", (now - timedelta(days=3)).astimezone(london), 150, 10, "Old Rectory"),
        _wedding("demo-week", "Chloe & Ade", (now + timedelta(days=4)).astimezone(london), 210, 14, "Castle Howard"),
        _wedding("demo-month", "Nia & Luca", (now + timedelta(days=20)).astimezone(london), 80, 6, "Vineyard"),
        _wedding("demo-planning", "Ivy & Raj", (now + timedelta(days=200)).astimezone(london), 300, 18, "Grand Hotel"),
        _wedding("demo-archived", "Ella & Finn", (now - timedelta(days=30)).astimezone(london), 60, 5, "Town Hall"),
    ]


def todays_weddings(
    now: datetime, offsets: Sequence[timedelta], *, stay: timedelta = timedelta(0), seed: int = 0, prefix: str = "day"
) -> list[Wedding]:
    """Weddings on their day at `now`, the i-th ceremony `offsets[i]` from now (to the minute), for load simulation.

    Each wedding gets a zone (drawn with `seed` among those that fit) where now, its ceremony and
    now + `stay` fall on one local day, so it is in phase `ceremony` or `wedding_day` for the whole
    run. Offsets within about ±8 hours always find one; wider ones raise ValueError.
    """
    now = now.astimezone(UTC)
    rng = random.Random(seed)
    out: list[Wedding] = []
    for i, offset in enumerate(offsets):
        at = (now + offset).replace(second=0, microsecond=0)
        fits = [z for z in map(ZoneInfo, _ZONES) if len({t.astimezone(z).date() for t in (now, at, now + stay)}) == 1]
        if not fits:
            raise ValueError(f"no zone has {now:%H:%M}Z, the ceremony at {at:%H:%M}Z and +{stay} on one local day")
        zone = rng.choice(fits)
        out.append(
            Wedding(f"{prefix}-{i:04d}", at.astimezone(zone), str(zone), rng.randint(40, 250), rng.randint(4, 15))
        )
    return out


DEMO_PHASES: dict[str, Phase] = {
    "demo-ceremony": Phase.CEREMONY,
    "demo-wedding-day": Phase.WEDDING_DAY,
    "demo-eve": Phase.EVE,
    "demo-after": Phase.AFTER,
    "demo-week": Phase.WEEK,
    "demo-month": Phase.MONTH,
    "demo-planning": Phase.PLANNING,
    "demo-archived": Phase.ARCHIVED,
}
