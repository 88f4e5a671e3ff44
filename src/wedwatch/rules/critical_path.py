"""Alerts about one wedding's live state: stalled probes, a late milestone, a lagging check-in."""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.rules.shapes import AlertingRule, RuleGroup, alert_rule, human_seconds, num, percent

__all__ = ["critical_path_groups", "CHECKIN_RAMP_SECONDS"]

# The ceremony phase starts 2 h before the ceremony (DESIGN.md section 1); guests are expected
# to check in linearly over those 2 h, reaching 100 % at the ceremony.
CHECKIN_RAMP_SECONDS = 7200


def _stall(config: Config, base: str) -> AlertingRule:
    n = config.thresholds.stall_intervals
    # max by: the newest probe across shards wins; the interval is per wedding, shared by
    # its operations, hence group_left. `for: 1m` absorbs scrape lag: the scraped timestamp can
    # be a scrape interval older than the probe, which matters at 3 x 10 s in the ceremony.
    return alert_rule(
        name="WedwatchProbesStalled",
        expr=(
            "time() - max by (wedding_id, operation) (wedwatch_probe_timestamp_seconds)\n"
            "> on (wedding_id) group_left ()\n"
            f"{num(n)} * max by (wedding_id) (wedwatch_probe_interval_seconds)"
        ),
        for_="1m",
        severity="medium",
        summary="Wedding {{ $labels.wedding_id }}: {{ $labels.operation }} probes stalled",
        description=(
            "The last {{ $labels.operation }} probe of wedding {{ $labels.wedding_id }} ended"
            f" {{{{ $value | humanizeDuration }}}} ago, more than {num(n)} probe intervals. Its per-wedding"
            " gauges still show that old result, so every other alert about them judges stale data."
        ),
        runbook_base_url=base,
    )


def _milestone(config: Config, base: str) -> AlertingRule:
    limit = config.thresholds.milestone_delay_seconds
    return alert_rule(
        name="WedwatchMilestoneDelayed",
        expr=(
            f"max by (wedding_id) (wedwatch_timeline_delay_seconds) > {num(limit)}\n"
            'and on (wedding_id)\n  wedwatch_wedding_info{phase="ceremony"}'
        ),
        for_="2m",
        severity="medium",
        labels={"operation": "critical_path"},
        summary=f"Wedding {{{{ $labels.wedding_id }}}}: next milestone more than {human_seconds(limit)} late",
        description=(
            "The next timeline milestone of wedding {{ $labels.wedding_id }} is"
            f" {{{{ $value | humanizeDuration }}}} late during the ceremony window (threshold {human_seconds(limit)})."
        ),
        runbook_base_url=base,
    )


def _checkin(config: Config, base: str) -> AlertingRule:
    lag = config.thresholds.checkin_lag_ratio
    ramp = CHECKIN_RAMP_SECONDS
    ceremony = "max by (wedding_id) (wedwatch_wedding_ceremony_timestamp_seconds)"
    # Expected ratio at time t: (t - (ceremony - ramp)) / ramp, i.e. 0 at ceremony - 2 h and
    # 1 at the ceremony. Only inside that window: before it nobody is expected, after it the
    # ceremony has started and late guests are no platform problem.
    return alert_rule(
        name="WedwatchCheckinLagging",
        expr=(
            "max by (wedding_id) (wedwatch_guests_checked_in_ratio)\n"
            "< on (wedding_id)\n"
            f"(time() - {ceremony} + {ramp}) / {ramp} - {num(lag)}\n"
            "and on (wedding_id)\n"
            f"({ceremony} - time() > 0)\n"
            "and on (wedding_id)\n"
            f"({ceremony} - time() <= {ramp})"
        ),
        for_="5m",
        severity="medium",
        labels={"operation": "critical_path"},
        summary="Wedding {{ $labels.wedding_id }}: guest check-in lagging",
        description=(
            "Only {{ $value | humanizePercentage }} of wedding {{ $labels.wedding_id }}'s guests have checked in,"
            f" more than {percent(lag)} behind a linear ramp from 0 at {human_seconds(ramp)} before the"
            " ceremony to 100% at the ceremony."
        ),
        runbook_base_url=base,
    )


def critical_path_groups(config: Config, runbook_base_url: str) -> list[RuleGroup]:
    """Per-wedding liveness and critical-path alerts."""
    return [
        {"name": "wedwatch.probes", "rules": [_stall(config, runbook_base_url)]},
        {
            "name": "wedwatch.critical_path",
            "rules": [_milestone(config, runbook_base_url), _checkin(config, runbook_base_url)],
        },
    ]
