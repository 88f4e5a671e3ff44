"""A synthetic wedding platform's traffic, for tests, benchmarks and the demo.

Hourly requests per second of a platform whose users live in one zone: quiet nights, busy
evenings, more traffic at weekends and from spring to early autumn, slow growth, and on top the
load of each wedding in a generated calendar (its eve, its day and, mostly, the hours around the
ceremony, in proportion to its guests). Weddings are mostly on Saturdays and mostly in summer.
Multiplicative log-normal noise (sigma 0.1, about 8 % mean absolute error for a perfect model),
an occasional outage (traffic falls to a few per cent for 1-3 hours) and a few scrape gaps.

Deterministic for a seed; returns the series and the calendar that produced it, with the time
each wedding was booked (a few are booked days before, which backtests must not foresee).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wedwatch.calendar.model import Wedding
from wedwatch.forecast.regressors import Booking, calendar_regressors
from wedwatch.forecast.series import HOUR, HourlySeries, floor_hour

__all__ = ["SyntheticHistory", "generate_history", "NOISE_SIGMA"]

NOISE_SIGMA = 0.1
# Relative traffic by local hour: night trough, working day, evening peak of couples planning.
_DAILY = (
    0.30, 0.22, 0.18, 0.16, 0.16, 0.20, 0.32, 0.50, 0.70, 0.85, 0.92, 0.95,
    0.97, 0.95, 0.93, 0.93, 0.95, 1.00, 1.08, 1.18, 1.22, 1.12, 0.85, 0.52,
)  # fmt: skip
_WEEKLY = (1.0, 0.98, 1.0, 1.03, 1.08, 1.15, 1.12)  # Monday first
# Requests per second per guest around the ceremony (hours -2..+5): arrivals and directions,
# phones away during the vows, then the photo upload rush of the reception.
_CEREMONY_PROFILE = (0.020, 0.032, 0.012, 0.045, 0.055, 0.045, 0.032, 0.020)
_DAY_PER_GUEST = 0.006
_EVE_PER_GUEST = 0.004
# Expected weddings per day in high season: Monday..Sunday.
_WEDDINGS_PER_DAY = (0.1, 0.1, 0.2, 0.4, 1.5, 5.0, 1.2)


@dataclass(frozen=True)
class SyntheticHistory:
    """A generated series, the calendar behind it and the zone its users live in."""

    series: HourlySeries
    bookings: list[Booking]
    timezone: str

    @property
    def weddings(self) -> list[Wedding]:
        """Every wedding of the calendar, booked early or late."""
        return [b.wedding for b in self.bookings]


def _season(day: date) -> float:
    # 1.0 in deep winter, 1.35 at midsummer.
    phase = 2 * math.pi * (day.timetuple().tm_yday - 172) / 365.25
    return 1.0 + 0.35 * (0.5 + 0.5 * math.cos(phase))


def _calendar(rng: random.Random, first: date, last: date, zone: ZoneInfo) -> list[Booking]:
    bookings = []
    day = first
    while day <= last:
        # Wedding season follows the traffic season, only steeper.
        expected = _WEDDINGS_PER_DAY[day.weekday()] * (0.15 + 0.85 * (_season(day) - 1.0) / 0.35)
        count = _poisson(rng, expected)
        for n in range(count):
            minutes = rng.choice(range(11 * 60, 16 * 60 + 1, 30))
            local = datetime.combine(day, time(minutes // 60, minutes % 60), zone)
            guests = int(rng.triangular(30, 260, 120))
            wedding = Wedding(
                id=f"syn-{day.isoformat()}-{n}",
                ceremony_at=local,
                timezone=zone.key,
                guests=guests,
                vendors=rng.randint(4, 16),
            )
            # Most couples book a year ahead; one in twenty books in the last few days.
            lead_days = rng.uniform(0.5, 5.0) if rng.random() < 0.05 else rng.uniform(30, 500)
            bookings.append(Booking(wedding, local.astimezone(UTC) - timedelta(days=lead_days)))
        day += timedelta(days=1)
    return bookings


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates used here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate_history(
    seed: int = 0,
    *,
    start: datetime = datetime(2026, 3, 2, tzinfo=UTC),
    hours: int = 12 * 168,
    future_hours: int = 14 * 24,
    timezone: str = "Europe/London",
    level: float = 20.0,
    outages: bool = True,
) -> SyntheticHistory:
    """Generate `hours` of hourly traffic from `start`, and a calendar reaching `future_hours` beyond it."""
    rng = random.Random(seed)
    zone = ZoneInfo(timezone)
    first = floor_hour(start)
    end = first + hours * HOUR
    bookings = _calendar(
        rng, (first - timedelta(days=3)).astimezone(zone).date(), (end + future_hours * HOUR).astimezone(zone).date(), zone
    )
    regs = calendar_regressors([b.wedding for b in bookings], first, hours)
    values: list[float | None] = []
    for i in range(hours):
        at = first + i * HOUR
        local = at.astimezone(zone)
        years = (at - first) / timedelta(days=365.25)
        base = (
            level * (1 + 0.12 * years) * _season(local.date()) * _WEEKLY[local.weekday()] * _DAILY[local.hour]
        )
        weddings = sum(
            _CEREMONY_PROFILE[k] * regs[name][i]
            for k, name in enumerate(("ceremony_m2", "ceremony_m1", "ceremony_p0", "ceremony_p1",
                                      "ceremony_p2", "ceremony_p3", "ceremony_p4", "ceremony_p5"))
        )  # fmt: skip
        weddings += _DAY_PER_GUEST * regs["wedding_day_guests"][i] * _DAILY[local.hour]
        weddings += _EVE_PER_GUEST * regs["eve_guests"][i] * _DAILY[local.hour]
        values.append((base + weddings) * math.exp(rng.gauss(0.0, NOISE_SIGMA)))
    if outages:
        _break(rng, values)
    return SyntheticHistory(HourlySeries(first, tuple(values)), bookings, timezone)


def _break(rng: random.Random, values: list[float | None]) -> None:
    # About one outage every three weeks and one scrape gap every two weeks.
    n = len(values)
    for _ in range(max(1, n // 504)):
        at, length = rng.randrange(n), rng.randint(1, 3)
        for i in range(at, min(n, at + length)):
            v = values[i]
            values[i] = None if v is None else v * rng.uniform(0.02, 0.08)
    for _ in range(max(1, n // 336)):
        at, length = rng.randrange(n), rng.choice((1, 1, 2, 6))
        for i in range(at, min(n, at + length)):
            values[i] = None
