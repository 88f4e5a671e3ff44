"""The decision for one alert: a pure function of the alert, the calendar at `now`, and config.

A wedding is *live* on its day (phases `wedding_day` and `ceremony`). An alert about one wedding
(`wedding_id` label) is judged by that wedding; a platform-wide alert by whether any wedding is
live. Live raises the severity one level. The strategy follows the final severity:
critical while live -> emergency; critical or high -> urgent; medium -> standard; low -> log.
Flapping alerts (too many starts in the flap window) only notify, whatever their strategy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.config.actions import ActionsConfig, NotifyAction, Strategy
from wedwatch.severity import SEVERITIES

__all__ = ["Decision", "decide", "escalate", "strategy_for"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do about one firing alert."""

    severity: str  # as the alert said (normalised)
    escalated_severity: str
    strategy: Strategy
    actions: tuple[str, ...]
    live: bool
    wedding_id: str | None
    guests: int
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def details(self) -> dict[str, object]:
        """The decision as stored on the response."""
        return {
            "severity": self.severity,
            "escalated_severity": self.escalated_severity,
            "live": self.live,
            "actions": list(self.actions),
            "reasons": list(self.reasons),
            "guests": self.guests,
        }


def escalate(severity: str, live: bool) -> str:
    """One level up while live, never above critical."""
    if not live:
        return severity
    return SEVERITIES[max(SEVERITIES.index(severity) - 1, 0)]  # most severe first


_BY_SEVERITY: dict[str, Strategy] = {"high": "urgent", "medium": "standard"}


def strategy_for(severity: str, live: bool) -> Strategy:
    """The seed's strategy table."""
    if severity == "critical":
        return "emergency" if live else "urgent"
    return _BY_SEVERITY.get(severity, "log")


def _notify_actions(actions: ActionsConfig) -> tuple[str, ...]:
    names = tuple(name for name, d in actions.definitions.items() if isinstance(d, NotifyAction))
    return names or ("log",)


def decide(
    labels: Mapping[str, str],
    statuses: Sequence[WeddingStatus],
    actions: ActionsConfig,
    *,
    flapping: bool = False,
) -> Decision:
    """Decide severity, strategy and actions for a firing alert with `labels` given the weddings' statuses."""
    reasons: list[str] = []
    raw = labels.get("severity", "").lower()
    severity = raw if raw in SEVERITIES else "low"
    if raw != severity:
        reasons.append(f"unknown severity {raw!r} treated as low")
    wedding_id = labels.get("wedding_id") or None
    if wedding_id is not None:
        status = next((s for s in statuses if s.wedding.id == wedding_id), None)
        live = status is not None and is_live(status.phase)
        guests = status.wedding.guests if status is not None else 0
        if status is None:
            reasons.append(f"wedding {wedding_id} is not in the calendar")
        else:
            reasons.append(f"wedding {wedding_id} is in phase {status.phase.value}")
    else:
        live_weddings = [s for s in statuses if is_live(s.phase)]
        live = bool(live_weddings)
        guests = max((s.wedding.guests for s in live_weddings), default=0)
        reasons.append(f"platform-wide alert; {len(live_weddings)} wedding(s) live")
    escalated = escalate(severity, live)
    if escalated != severity:
        reasons.append(f"raised from {severity} to {escalated}: a wedding is live")
    strategy = strategy_for(escalated, live)
    chosen = tuple(actions.strategies.get(strategy, ["log"]))
    if flapping:
        chosen = _notify_actions(actions)
        reasons.append("flapping: notify instead of act")
    return Decision(severity, escalated, strategy, chosen, live, wedding_id, guests, tuple(reasons))
