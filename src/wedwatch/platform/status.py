"""The live status of a wedding's critical path, derived from where the wedding stands at `now`.

Check-in follows an S-curve over the two hours before the ceremony (the `ceremony` phase's lead),
vendors confirm as the day nears (most in the last weeks), and the day's milestones slip a little
more as the day goes on, as real weddings do. Everything is a pure function of the wedding, the
seed and `now`, so every instant of any wedding can be tested.
"""

from __future__ import annotations

import bisect
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from wedwatch.calendar import Wedding, phase_at
from wedwatch.calendar.phases import CEREMONY_LEAD
from wedwatch.platform.faults import FAULTS, operation
from wedwatch.platform.state import CLOCK, SETTINGS, iso

__all__ = ["MILESTONES", "Milestone", "LiveStatus", "live_status", "routes"]

MILESTONES: tuple[tuple[str, timedelta], ...] = (
    ("vendor_setup", timedelta(hours=-4)),
    ("doors_open", -CEREMONY_LEAD),
    ("ceremony", timedelta(0)),
    ("photos", timedelta(minutes=45)),
    ("reception", timedelta(hours=1, minutes=30)),
    ("dinner", timedelta(hours=2, minutes=30)),
    ("first_dance", timedelta(hours=4)),
    ("send_off", timedelta(hours=6)),
)
_DAY = timedelta(days=1)
# Vendors confirm between 60 days and 6 hours ahead, skewed late (squared uniform): about 30 %
# have confirmed a month out, two thirds a week out, nine in ten on the eve, all by the ceremony.
_CONFIRM_LEAD_MIN_DAYS = 0.25
_CONFIRM_LEAD_SPAN_DAYS = 60.0


@dataclass(frozen=True, slots=True)
class Milestone:
    """The next point of the day's plan and how late it is running."""

    name: str
    scheduled_at: datetime
    delay_seconds: float


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """What the platform reports about a wedding's critical path."""

    wedding_id: str
    phase: str
    at: datetime
    guests_checked_in: int
    guests_expected: int
    next_milestone: Milestone | None
    vendors_confirmed: int
    vendors_booked: int
    open_incidents: int
    incident_response_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `GET /api/weddings/{id}/status`."""
        milestone = self.next_milestone
        return {
            "wedding_id": self.wedding_id,
            "phase": self.phase,
            "at": iso(self.at),
            "guests_checked_in": self.guests_checked_in,
            "guests_expected": self.guests_expected,
            "next_milestone": None
            if milestone is None
            else {
                "name": milestone.name,
                "scheduled_at": iso(milestone.scheduled_at),
                "delay_seconds": milestone.delay_seconds,
            },
            "vendors_confirmed": self.vendors_confirmed,
            "vendors_booked": self.vendors_booked,
            "open_incidents": self.open_incidents,
            "incident_response_seconds": self.incident_response_seconds,
        }


@dataclass(frozen=True, slots=True)
class _Profile:
    attendance: int
    confirm_leads_days: tuple[float, ...]  # sorted
    slip_seconds: tuple[float, ...]  # per milestone


@functools.lru_cache(maxsize=4096)
def _profile(wedding: Wedding, seed: int) -> _Profile:
    rng = random.Random(f"{seed}:status:{wedding.id}")
    attendance = round(wedding.guests * rng.uniform(0.88, 0.98))
    leads = sorted(_CONFIRM_LEAD_MIN_DAYS + _CONFIRM_LEAD_SPAN_DAYS * rng.random() ** 2 for _ in range(wedding.vendors))
    slips: list[float] = []
    running = 0.0
    for _, offset in MILESTONES:
        # Set-up runs to plan; from the ceremony on, every milestone inherits the last one's slip.
        if offset >= timedelta(0):
            running += rng.uniform(0, 300)
        slips.append(round(running, 1))
    return _Profile(attendance, tuple(leads), tuple(slips))


def live_status(
    wedding: Wedding,
    now: datetime,
    *,
    seed: int = 0,
    extra_delay_seconds: float = 0.0,
    incidents_opened_at: Sequence[datetime] = (),
) -> LiveStatus:
    """The wedding's critical path at `now`; extra delay and open incidents come from injected faults."""
    profile = _profile(wedding, seed)
    ceremony = wedding.ceremony_utc
    doors = ceremony - CEREMONY_LEAD

    if now < doors:
        checked_in = 0
    elif now >= ceremony:
        checked_in = profile.attendance
    else:
        x = (now - doors) / CEREMONY_LEAD
        checked_in = round(profile.attendance * x * x * (3 - 2 * x))  # smoothstep: a trickle, a rush, stragglers

    days_left = (ceremony - now) / _DAY
    confirmed = len(profile.confirm_leads_days) - bisect.bisect_left(profile.confirm_leads_days, days_left)

    # Before doors open nothing has slipped yet: the plan is the plan.
    started = now >= doors
    next_milestone = None
    for (name, offset), slip in zip(MILESTONES, profile.slip_seconds, strict=True):
        delay = (slip if started else 0.0) + extra_delay_seconds
        scheduled = ceremony + offset
        if scheduled + timedelta(seconds=delay) > now:
            next_milestone = Milestone(name, scheduled, delay)
            break

    # Injected incidents are unanswered, so the response time is the age of the oldest one.
    oldest = min(incidents_opened_at, default=None)
    return LiveStatus(
        wedding_id=wedding.id,
        phase=phase_at(wedding, now).value,
        at=now,
        guests_checked_in=checked_in,
        guests_expected=wedding.guests,
        next_milestone=next_milestone,
        vendors_confirmed=confirmed,
        vendors_booked=wedding.vendors,
        open_incidents=len(incidents_opened_at),
        incident_response_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


routes = web.RouteTableDef()


@routes.get("/api/weddings/{wedding_id}/status")
@operation("critical_path")
async def get_status(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """The wedding's live critical-path status."""
    faults = request.config_dict[FAULTS].matching("critical_path", wedding.id)
    status = live_status(
        wedding,
        request.config_dict[CLOCK](),
        seed=request.config_dict[SETTINGS].seed,
        extra_delay_seconds=sum(f.spec.milestone_delay_seconds for f in faults),
        incidents_opened_at=[f.created_at for f in faults for _ in range(f.spec.open_incidents)],
    )
    return web.json_response(status.to_dict())
