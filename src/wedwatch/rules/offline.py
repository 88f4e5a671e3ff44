"""Offline capability: the mobile probe's offline step failed in a tracked wedding's last 3 probes.

The exporter reports `wedwatch_probe_step_success{operation="mobile",step="offline"}` per tracked
wedding: the app's offline bundle manifest is present, parseable and fresh. Losing it matters
whatever the wedding's phase (guests download the bundle in the days before), most on the day,
when a venue's network fails: the alert is high while the wedding is live, medium otherwise (the
receiver does not raise resource alerts again). It carries `resource="offline"`,
`signal="offline"`, `wedding_id` and `operation`, and joins the `wedwatch.resources` group.

Three consecutive probes, as the live fast path counts them (rules/live.py), per phase with that
phase's probe interval: the step failed at every scrape of the last 2.5 intervals, and at least 3
distinct probes ended in the last 4.5; one failed probe among good ones never fires.
"""

from __future__ import annotations

from wedwatch.calendar.phases import LIVE_PHASES, TRACKED_PHASES, probe_interval
from wedwatch.config.model import Config, Phase
from wedwatch.rules.live import CONSECUTIVE_PROBES, live_window_seconds
from wedwatch.rules.resource_signals import offline_step_success
from wedwatch.rules.shapes import AlertingRule, alert_rule

__all__ = ["offline_alerts", "OFFLINE_PHASES"]

# Per-wedding series exist for tracked weddings only; in enum order, so the rules are deterministic.
OFFLINE_PHASES = tuple(p for p in Phase if p in TRACKED_PHASES)


def offline_alerts(config: Config, base: str) -> list[AlertingRule]:
    """The offline step failed in each of a tracked wedding's last 3 probes: high while it is live."""
    o = config.resources.offline
    step = offline_step_success(config.resources)
    stamps = f'wedwatch_probe_timestamp_seconds{{operation="{o.operation}"}}'
    rules: list[AlertingRule] = []
    for severity, live in (("high", True), ("medium", False)):
        parts = []
        for phase in OFFLINE_PHASES:
            interval = probe_interval(phase, config.schedule, config.features)
            if (phase in LIVE_PHASES) != live or interval is None:
                continue
            # The windows of the live fast path (rules/live.py): the step failed at every scrape of
            # 2.5 probe intervals, and at least 3 distinct probes ended in the last 4.5 intervals.
            window, probes = live_window_seconds(interval), live_window_seconds(interval, extra=1.5)
            parts.append(
                "(\n"
                f"  max by (wedding_id, operation) (max_over_time({step}[{window}s])) == 0\n"
                f"  and on (wedding_id, operation) changes({stamps}[{probes}s]) >= {CONSECUTIVE_PROBES - 1}\n"
                f'  and on (wedding_id) wedwatch_wedding_info{{phase="{phase.value}"}}\n'
                ")"
            )
        if not parts:
            continue
        on_its_day = "is live (on its day)" if live else "is not live (tracked, not on its day)"
        rules.append(
            alert_rule(
                name="WedwatchOfflineCapabilityLost",
                expr="\nor\n".join(parts),
                for_="0s",
                severity=severity,
                labels={"resource": "offline", "signal": "offline"},
                summary="Wedding {{ $labels.wedding_id }}: the mobile app's offline capability is lost",
                description=(
                    f"The {o.step} step of wedding {{{{ $labels.wedding_id }}}}'s last {CONSECUTIVE_PROBES}"
                    f" {o.operation} probes failed: guests whose phones lose the venue's network will have no"
                    f" guest list or timeline. The wedding {on_its_day}."
                ),
                runbook_base_url=base,
            )
        )
    return rules
