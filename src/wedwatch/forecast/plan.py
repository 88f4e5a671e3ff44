"""The pre-ceremony plan: plain data saying when to warm caches and scale, for which wedding, to what.

For each wedding: warm its caches on its eve (at a local time, 18:00 by default) and again when
its ceremony window opens, two hours before the ceremony; scale up then, sized by the forecast's
upper bound over the window and the guests of every wedding live in it; scale back down when the
window closes (ceremony + 6 h). Overlapping weddings are handled by sizing each change point for
everything live from it to the next one, so one wedding's scale-down never strands another.

A step's idempotency key comes from its kind, wedding and time, not from its targets: planning
again with a newer forecast yields the same keys, so a due step is enqueued once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import CEREMONY_TAIL
from wedwatch.config.actions import CapacityConfig
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.recommendations import RESOURCES, Recommendation, peak, size
from wedwatch.forecast.settings import CapacityModel, PlanSettings

__all__ = ["PlanStep", "StepKind", "plan"]

StepKind = Literal["eve_warm", "pre_ceremony_warm", "scale_up", "scale_down"]
_ACTIONS: dict[StepKind, Literal["scale", "cache_warm"]] = {
    "eve_warm": "cache_warm",
    "pre_ceremony_warm": "cache_warm",
    "scale_up": "scale",
    "scale_down": "scale",
}


def _minute(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One planned action: at `at`, do `action` for `wedding_id` with these resource targets."""

    at: datetime
    kind: StepKind
    wedding_id: str | None
    targets: dict[str, float]
    reason: str
    capped: tuple[str, ...] = field(default=())

    @property
    def action(self) -> Literal["scale", "cache_warm"]:
        """The receiver action that carries the step out."""
        return _ACTIONS[self.kind]

    @property
    def key(self) -> str:
        """The idempotency key: kind, wedding and minute (never the targets)."""
        return f"forecast-plan:{self.kind}:{self.wedding_id or '-'}:{_minute(self.at)}"

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-friendly data (also the outbox entry's params)."""
        return {
            "at": _minute(self.at),
            "action": self.action,
            "kind": self.kind,
            "wedding_id": self.wedding_id,
            "targets": dict(self.targets),
            "capped": list(self.capped),
            "reason": self.reason,
            "idempotency_key": self.key,
        }


def _size_all(
    forecast: Forecast, start: datetime, end: datetime, guests: int, capacity: CapacityModel, bounds: CapacityConfig
) -> list[Recommendation]:
    demand, at = peak(forecast, start, end, capacity.quantile)
    return [
        size(r, demand, guests, capacity.resources[r], getattr(bounds, r), at=at) for r in RESOURCES if r in capacity.resources
    ]


def plan(
    forecast: Forecast,
    weddings: Sequence[Wedding],
    *,
    now: datetime,
    capacity: CapacityModel,
    bounds: CapacityConfig,
    settings: PlanSettings | None = None,
) -> list[PlanStep]:
    """Every step from `now` minus the allowed lateness to the end of the forecast, in time order."""
    settings = settings or PlanSettings()
    lead = timedelta(hours=settings.lead_hours)
    since = now - timedelta(seconds=settings.max_lateness_seconds)
    until = forecast.start + len(forecast) * timedelta(hours=1)
    steps: list[PlanStep] = []
    warm_at = time.fromisoformat(settings.eve_warm_local_time)
    for w in weddings:
        eve = datetime.combine(w.ceremony_at.date() - timedelta(days=1), warm_at, w.ceremony_at.tzinfo)
        opens = w.ceremony_utc - lead
        moments: tuple[tuple[StepKind, datetime], ...] = (("eve_warm", eve), ("pre_ceremony_warm", opens))
        for kind, at in moments:
            if since <= at < until:
                cache = _size_all(forecast, at, w.ceremony_utc + CEREMONY_TAIL, w.guests, capacity, bounds)
                targets = {r.resource: r.target for r in cache if r.resource == "cache_mb"}
                when = "on its eve" if kind == "eve_warm" else f"{settings.lead_hours:g} h before the ceremony"
                reason = f"warm caches for {w.id} ({w.guests} guests) {when}"
                steps.append(PlanStep(at.astimezone(UTC), kind, w.id, targets, reason))
    steps += _scale_steps(forecast, weddings, lead, since, until, capacity, bounds)
    return sorted(steps, key=lambda s: (s.at, s.kind, s.wedding_id or ""))


def _scale_steps(
    forecast: Forecast,
    weddings: Sequence[Wedding],
    lead: timedelta,
    since: datetime,
    until: datetime,
    capacity: CapacityModel,
    bounds: CapacityConfig,
) -> list[PlanStep]:
    windows = [(w.ceremony_utc - lead, w.ceremony_utc + CEREMONY_TAIL, w) for w in weddings]
    points = sorted({t for lo, hi, _ in windows for t in (lo, hi)})
    cap = timedelta(hours=capacity.window_hours)
    steps: list[PlanStep] = []
    for n, at in enumerate(points):
        if not since <= at < until:
            continue
        end = min(points[n + 1] if n + 1 < len(points) else at + cap, at + cap)
        live = [w for lo, hi, w in windows if lo <= at < hi]
        guests = sum(w.guests for w in live)
        opening = sorted(w.id for lo, _, w in windows if lo == at)
        closing = sorted(w.id for _, hi, w in windows if hi == at)
        recs = _size_all(forecast, at, end, guests, capacity, bounds)
        demand = recs[0].demand if recs else 0.0
        if opening:
            kind: StepKind = "scale_up"
            wedding_id = opening[0]
            why = f"ceremony window of {', '.join(opening)} opens"
        else:
            kind, wedding_id = "scale_down", closing[0]
            why = f"ceremony window of {', '.join(closing)} closed"
        reason = f"{why}; {len(live)} wedding(s) live, {guests} guests, forecast upper {demand:.4g}"
        steps.append(
            PlanStep(
                at=at.astimezone(UTC),
                kind=kind,
                wedding_id=wedding_id,
                targets={r.resource: r.target for r in recs},
                reason=reason,
                capped=tuple(r.resource for r in recs if r.capped),
            )
        )
    return steps
