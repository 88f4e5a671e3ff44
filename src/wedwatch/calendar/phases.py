"""Phases, tiers, probe intervals and the tracked set: pure functions of weddings, config and `now`.

Hour-sized offsets (the ceremony window, -2 h to +6 h) are elapsed time, so a party that runs
across a DST change still gets six real hours. Day-sized offsets (eve, the 7- and 30-day
horizons, the week after) are wall-clock days in the wedding's own zone: "a week before" means
the same local time seven calendar days earlier, whatever the clocks did in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from wedwatch.calendar.model import Wedding
from wedwatch.config.model import FeaturesConfig, Phase, ScheduleConfig

__all__ = [
    "Phase",
    "WeddingStatus",
    "phase_at",
    "tier_of",
    "probe_interval",
    "is_live",
    "plan",
    "TRACKED_PHASES",
    "LIVE_PHASES",
    "CEREMONY_LEAD",
    "CEREMONY_TAIL",
]

CEREMONY_LEAD = timedelta(hours=2)
CEREMONY_TAIL = timedelta(hours=6)
TRACKED_PHASES = frozenset({Phase.WEEK, Phase.EVE, Phase.WEDDING_DAY, Phase.CEREMONY, Phase.AFTER})
LIVE_PHASES = frozenset({Phase.WEDDING_DAY, Phase.CEREMONY})


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def phase_at(wedding: Wedding, now: datetime) -> Phase:
    """The wedding's phase at instant `now` (DESIGN.md section 1; first match wins)."""
    _require_aware(now)
    ceremony = wedding.ceremony_utc
    if ceremony - CEREMONY_LEAD <= now < ceremony + CEREMONY_TAIL:
        return Phase.CEREMONY
    local = wedding.ceremony_at  # aware, in the wedding's zone: arithmetic on it is wall-clock
    today = now.astimezone(local.tzinfo).date()
    day = local.date()
    if today == day:
        return Phase.WEDDING_DAY
    if today == day - timedelta(days=1):
        return Phase.EVE
    if today > day:
        return Phase.AFTER if now < local + timedelta(days=7) else Phase.ARCHIVED
    if now >= local - timedelta(days=7):
        return Phase.WEEK
    if now >= local - timedelta(days=30):
        return Phase.MONTH
    return Phase.PLANNING


def tier_of(phase: Phase) -> str:
    """`wedding_day` for the ceremony and the rest of its day, else `standard`."""
    return "wedding_day" if phase in LIVE_PHASES else "standard"


def is_live(phase: Phase) -> bool:
    """A wedding is live on its day: escalation and emergency mode apply."""
    return phase in LIVE_PHASES


def probe_interval(phase: Phase, schedule: ScheduleConfig, features: FeaturesConfig) -> float | None:
    """Seconds between probes in `phase`; None when the wedding is not probed."""
    if phase is Phase.ARCHIVED:
        return None
    if phase in LIVE_PHASES and not features.wedding_day_enhanced_monitoring:
        return schedule.intervals[Phase.WEEK]
    return schedule.intervals[phase]


@dataclass(frozen=True, slots=True)
class WeddingStatus:
    """A wedding's standing at one instant."""

    wedding: Wedding
    phase: Phase
    tier: str
    tracked: bool
    interval_seconds: float | None

    def to_dict(self) -> dict[str, object]:
        """The `wedwatch weddings --json` shape."""
        return {
            "wedding_id": self.wedding.id,
            "phase": self.phase.value,
            "tier": self.tier,
            "tracked": self.tracked,
            "probe_interval_seconds": self.interval_seconds,
            "ceremony_at": self.wedding.ceremony_utc.isoformat().replace("+00:00", "Z"),
        }


def plan(
    weddings: Iterable[Wedding],
    now: datetime,
    schedule: ScheduleConfig,
    features: FeaturesConfig,
) -> list[WeddingStatus]:
    """Every wedding's status at `now`, sorted by ceremony; the tracked cap keeps the nearest ceremonies."""
    _require_aware(now)
    now = now.astimezone(UTC)
    phased = [(w, phase_at(w, now)) for w in weddings]
    candidates = sorted(
        (w for w, p in phased if p in TRACKED_PHASES),
        key=lambda w: (abs((w.ceremony_utc - now).total_seconds()), w.id),
    )
    tracked = {w.id for w in candidates[: schedule.max_tracked_weddings]}
    statuses = [
        WeddingStatus(
            wedding=w,
            phase=p,
            tier=tier_of(p),
            tracked=w.id in tracked,
            interval_seconds=probe_interval(p, schedule, features),
        )
        for w, p in phased
    ]
    statuses.sort(key=lambda s: (s.wedding.ceremony_utc, s.wedding.id))
    return statuses
