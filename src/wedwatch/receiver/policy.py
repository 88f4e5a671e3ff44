"""The decision for one alert: a pure function of the alert, the calendar at `now`, and config.

A wedding is *live* on its day (phases `wedding_day` and `ceremony`). An alert about one wedding
(`wedding_id` label) is judged by that wedding; a platform-wide alert by whether any wedding is
live. Live raises the severity one level. The strategy follows the final severity:
critical while live -> emergency; critical or high -> urgent; medium -> standard; low -> log.
Flapping alerts (too many starts in the flap window) only notify, whatever their strategy.

System and resource alerts (a `resource` label: database, cache, cpu, memory, disk, offline; a
`signal`: saturation, evictions, hit_ratio, down, offline) are NOT raised while live: their rules
already fire one severity higher on the day (used-ratio thresholds 10 points lower while any wedding
is live; evictions, hit ratio and a wedding's offline capability medium, high while live). Raising
it again here would count the day twice (75 % connections used while live is medium by the rule;
raised, it would be high, two levels above the quiet day's nothing). They are platform-wide (any
wedding live), but for offline capability, which names its wedding. A critical one while live is
still an emergency, and runs the emergency strategy's own actions (all capacity to the upper bounds).
For urgent and standard, `actions.resources` replaces the strategy's remedies: a database alert
scales `db_connections` only, a cache alert scales `cache_mb` and warms caches, cpu and memory
scale `instances`, disk and offline only notify; a dependency down (`signal="down"`) notifies,
since capacity does not bring it back. The strategy's `log` and notify actions are kept; `notify`
in a resource response means every notify action defined (`log` when none). Low stays log only.
A `resource` value outside the contract is treated as any other alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.config.actions import NOTIFY, ActionsConfig, NotifyAction, ResourceResponse, Strategy
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
    resource: str | None = None  # a resource alert's `resource` label (known resources only)
    capacity: tuple[str, ...] = ()  # what its `scale` sizes; empty: all (every other response)

    def details(self) -> dict[str, object]:
        """The decision as stored on the response."""
        return {
            "severity": self.severity,
            "escalated_severity": self.escalated_severity,
            "live": self.live,
            "actions": list(self.actions),
            "reasons": list(self.reasons),
            "guests": self.guests,
            "resource": self.resource,
            "capacity": list(self.capacity),
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


def _resource_actions(
    response: ResourceResponse, down: bool, strategy_actions: Sequence[str], actions: ActionsConfig
) -> tuple[str, ...]:
    """The resource's remedies (or its `down` response), then the strategy's notify and `log` actions."""
    chosen: list[str] = []
    for name in response.down if down else response.actions:
        chosen += _notify_actions(actions) if name == NOTIFY and name not in actions.definitions else [name]
    chosen += [name for name in strategy_actions if actions.kind(name) in ("notify", "log")]
    return tuple(dict.fromkeys(chosen))  # each once, first place kept


def _liveness(wedding_id: str | None, statuses: Sequence[WeddingStatus], reasons: list[str]) -> tuple[bool, int]:
    """(live, guests): the alert's own wedding, or any live wedding (the largest) for a platform-wide alert."""
    if wedding_id is not None:
        status = next((s for s in statuses if s.wedding.id == wedding_id), None)
        if status is None:
            reasons.append(f"wedding {wedding_id} is not in the calendar")
            return False, 0
        reasons.append(f"wedding {wedding_id} is in phase {status.phase.value}")
        return is_live(status.phase), status.wedding.guests
    live_weddings = [s for s in statuses if is_live(s.phase)]
    reasons.append(f"platform-wide alert; {len(live_weddings)} wedding(s) live")
    return bool(live_weddings), max((s.wedding.guests for s in live_weddings), default=0)


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
    live, guests = _liveness(wedding_id, statuses, reasons)
    raw_resource = labels.get("resource", "").lower()
    response = actions.response_to(raw_resource)
    resource = raw_resource if response is not None else None
    if raw_resource and resource is None:
        reasons.append(f"unknown resource {raw_resource!r}: decided as any other alert")
    escalated = escalate(severity, live and resource is None)
    if escalated != severity:
        reasons.append(f"raised from {severity} to {escalated}: a wedding is live")
    elif resource is not None and live:
        reasons.append("resource alert: not raised, its rule's thresholds are already lower while a wedding is live")
    strategy = strategy_for(escalated, live)
    chosen = tuple(actions.strategies.get(strategy, ["log"]))
    capacity: tuple[str, ...] = ()
    if response is not None and strategy in ("urgent", "standard"):
        signal = labels.get("signal", "").lower()
        down = signal == "down"
        chosen = _resource_actions(response, down, chosen, actions)
        capacity = () if down else tuple(response.capacity)
        sizes = f"; scale sizes {', '.join(capacity)}" if capacity else ""
        reasons.append(
            f"{resource} alert ({signal or 'no signal'}): its resource response replaces the {strategy} remedies{sizes}"
        )
    if flapping:
        chosen = _notify_actions(actions)
        capacity = ()
        reasons.append("flapping: notify instead of act")
    return Decision(severity, escalated, strategy, chosen, live, wedding_id, guests, tuple(reasons), resource, capacity)
