"""The seed's three severity tiers for response time, error rate and availability.

Each tier is its own alert rule with a `severity` label and a plain `> threshold` (not a band such
as `> 3 and <= 5`): when p95 is 6 s all three fire, and Alertmanager's inhibit rules (see
examples/alertmanager.yml) drop high and medium in favour of critical. Bands would leave a gap
while a value crosses a boundary and hide the lower tiers from anyone querying ALERTS.

Per wedding, error rate and availability would be one signal (the last-probe gauge is the only
per-wedding outcome; time-weighted, error ratio = 1 - availability), so weddings get response time
and availability only, and no tier double-fires as its own mirror image.
"""

from __future__ import annotations

from wedwatch.config.model import Config, SeverityThresholds
from wedwatch.rules.names import (
    AVAILABILITY_WINDOW,
    OPERATION_P95,
    SEED_RATE_WINDOW,
    WEDDING_P95,
    WEDDING_QUANTILE_WINDOW,
    operation_error_ratio,
    operation_success_ratio,
    wedding_availability,
)
from wedwatch.rules.shapes import AlertingRule, RuleGroup, alert_rule, human_seconds, num, percent

__all__ = ["severity_groups", "SEVERITY_FOR"]

# Long enough that one slow or failed probe does not page, short enough to act within a ceremony.
SEVERITY_FOR = "5m"


def _tiers(config: Config) -> list[tuple[str, SeverityThresholds]]:
    t = config.thresholds
    return [("critical", t.critical), ("high", t.high), ("medium", t.medium)]


def _operation_alerts(config: Config, base: str) -> list[AlertingRule]:
    rules: list[AlertingRule] = []
    op, tier = "{{ $labels.operation }}", "{{ $labels.tier }}"
    for severity, th in _tiers(config):
        rules.append(
            alert_rule(
                name="WedwatchOperationSlow",
                expr=f"{OPERATION_P95} > {num(th.p95_seconds)}",
                for_=SEVERITY_FOR,
                severity=severity,
                summary=f"{op} p95 above {human_seconds(th.p95_seconds)} (tier {tier})",
                description=(
                    f"The 95th percentile of {op} probe durations in tier {tier} was"
                    f" {{{{ $value | humanizeDuration }}}} over the last {SEED_RATE_WINDOW},"
                    f" above the {severity} threshold of {human_seconds(th.p95_seconds)}."
                ),
                runbook_base_url=base,
            )
        )
    for severity, th in _tiers(config):
        rules.append(
            alert_rule(
                name="WedwatchOperationErrors",
                expr=f"{operation_error_ratio(SEED_RATE_WINDOW)} > {num(th.error_ratio)}",
                for_=SEVERITY_FOR,
                severity=severity,
                summary=f"{op} error rate above {percent(th.error_ratio)} (tier {tier})",
                description=(
                    f"{{{{ $value | humanizePercentage }}}} of {op} probes in tier {tier} failed over the last"
                    f" {SEED_RATE_WINDOW}, above the {severity} threshold of {percent(th.error_ratio)}."
                ),
                runbook_base_url=base,
            )
        )
    for severity, th in _tiers(config):
        rules.append(
            alert_rule(
                name="WedwatchOperationUnavailable",
                expr=f"{operation_success_ratio(AVAILABILITY_WINDOW)} < {num(th.availability)}",
                for_=SEVERITY_FOR,
                severity=severity,
                summary=f"{op} availability below {percent(th.availability)} (tier {tier})",
                description=(
                    f"Only {{{{ $value | humanizePercentage }}}} of {op} probes in tier {tier} succeeded over the"
                    f" last {AVAILABILITY_WINDOW} (probe-count availability), below the {severity}"
                    f" threshold of {percent(th.availability)}."
                ),
                runbook_base_url=base,
            )
        )
    return rules


def _wedding_alerts(config: Config, base: str) -> list[AlertingRule]:
    rules: list[AlertingRule] = []
    wedding, op = "{{ $labels.wedding_id }}", "{{ $labels.operation }}"
    for severity, th in _tiers(config):
        rules.append(
            alert_rule(
                name="WedwatchWeddingSlow",
                expr=f"{WEDDING_P95} > {num(th.p95_seconds)}",
                for_=SEVERITY_FOR,
                severity=severity,
                summary=f"Wedding {wedding}: {op} p95 above {human_seconds(th.p95_seconds)}",
                description=(
                    f"The 95th percentile of wedding {wedding}'s {op} probe durations was"
                    f" {{{{ $value | humanizeDuration }}}} over the last {WEDDING_QUANTILE_WINDOW},"
                    f" above the {severity} threshold of {human_seconds(th.p95_seconds)}."
                ),
                runbook_base_url=base,
            )
        )
    for severity, th in _tiers(config):
        rules.append(
            alert_rule(
                name="WedwatchWeddingUnavailable",
                expr=f"{wedding_availability(AVAILABILITY_WINDOW)} < {num(th.availability)}",
                for_=SEVERITY_FOR,
                severity=severity,
                summary=f"Wedding {wedding}: {op} availability below {percent(th.availability)}",
                description=(
                    f"Wedding {wedding}'s {op} probes were succeeding {{{{ $value | humanizePercentage }}}} of the"
                    f" last {AVAILABILITY_WINDOW} (time-weighted), below the {severity} threshold of"
                    f" {percent(th.availability)}."
                ),
                runbook_base_url=base,
            )
        )
    return rules


def severity_groups(config: Config, runbook_base_url: str) -> list[RuleGroup]:
    """Alert groups for the seed's tiers, per operation and tier and per tracked wedding."""
    return [
        {"name": "wedwatch.severity.operations", "rules": list(_operation_alerts(config, runbook_base_url))},
        {"name": "wedwatch.severity.weddings", "rules": list(_wedding_alerts(config, runbook_base_url))},
    ]
