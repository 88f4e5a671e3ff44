"""Wedding-day guarantees: response times per operation, and the error and availability budgets.

They apply to tier `wedding_day` (per operation) and to each tracked wedding on its day, found by
joining with `wedwatch_wedding_info{tier="wedding_day"}`. The budgets are burn-rate alerts
(burnrate.py); the response-time guarantees are plain p95 thresholds.

Severity `medium`: the receiver raises every alert about a live wedding one level, so a breached
guarantee becomes `high` (scale and optimise) without paging anyone; the budget burns page.
"""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.rules.burnrate import burn_rate_alerts
from wedwatch.rules.names import OPERATION_P95, SEED_RATE_WINDOW, WEDDING_P95, WEDDING_QUANTILE_WINDOW
from wedwatch.rules.shapes import AlertingRule, RuleGroup, alert_rule, human_seconds, num

__all__ = ["wedding_day_groups", "latency_guarantees", "operation_guarantees", "guarantee_text", "GUARANTEE_FOR", "GUARANTEE_SEVERITY"]

GUARANTEE_FOR = "5m"
GUARANTEE_SEVERITY = "medium"


def operation_guarantees(config: Config) -> dict[str, float]:
    """The operations with a latency guarantee of their own: thresholds' operation_seconds, then each operation's guarantee_seconds."""
    g = config.thresholds.wedding_day
    own: dict[str, float] = {}
    for op in config.operations.names():
        seconds = g.operation_seconds.get(op, config.operations.get(op).guarantee_seconds)
        if seconds is not None:
            own[op] = seconds
    return own


def latency_guarantees(config: Config) -> list[tuple[str, float]]:
    """(operation matcher, seconds) pairs: each specific operation, then the rest at response_seconds."""
    g = config.thresholds.wedding_day
    own = operation_guarantees(config)
    specific = list(own)
    pairs = [(f'operation="{op}"', own[op]) for op in specific]
    # Every operation without its own guarantee gets the general one; a regex keeps new
    # operations covered without regenerating.
    rest = f'operation!~"{"|".join(specific)}"' if specific else 'operation=~".+"'
    pairs.append((rest, g.response_seconds))
    return pairs


def guarantee_text(config: Config) -> str:
    # One rule per alert name (promtool rejects two rules with equal name and labels), so the
    # description picks the operation's own guarantee with a Go template conditional.
    g = config.thresholds.wedding_day
    text = ""
    for op, seconds in operation_guarantees(config).items():
        keyword = "if" if not text else "else if"
        text += f'{{{{ {keyword} eq $labels.operation "{op}" }}}}{human_seconds(seconds)}'
    if not text:
        return human_seconds(g.response_seconds)
    return text + f"{{{{ else }}}}{human_seconds(g.response_seconds)}{{{{ end }}}}"


def _operation_alert(config: Config, base: str) -> AlertingRule:
    op = "{{ $labels.operation }}"
    guarantee = guarantee_text(config)
    expr = "\nor\n".join(
        f'{OPERATION_P95}{{tier="wedding_day",{matcher}}} > {num(seconds)}' for matcher, seconds in latency_guarantees(config)
    )
    return alert_rule(
        name="WedwatchWeddingDayOperationSlow",
        expr=expr,
        for_=GUARANTEE_FOR,
        severity=GUARANTEE_SEVERITY,
        summary=f"{op} p95 above the wedding-day guarantee of {guarantee}",
        description=(
            f"The 95th percentile of {op} probe durations for weddings on their day was"
            f" {{{{ $value | humanizeDuration }}}} over the last {SEED_RATE_WINDOW};"
            f" couples are promised under {guarantee}."
        ),
        runbook_base_url=base,
    )


def _wedding_alert(config: Config, base: str) -> AlertingRule:
    wedding, op = "{{ $labels.wedding_id }}", "{{ $labels.operation }}"
    guarantee = guarantee_text(config)
    slow = "\nor\n".join(f"{WEDDING_P95}{{{matcher}}} > {num(seconds)}" for matcher, seconds in latency_guarantees(config))
    return alert_rule(
        name="WedwatchWeddingDaySlow",
        expr=f'(\n{_indent(slow)}\n)\nand on (wedding_id)\n  wedwatch_wedding_info{{tier="wedding_day"}}',
        for_=GUARANTEE_FOR,
        severity=GUARANTEE_SEVERITY,
        summary=f"Wedding {wedding}: {op} p95 above the wedding-day guarantee of {guarantee}",
        description=(
            f"On its wedding day, wedding {wedding}'s {op} probes had a 95th percentile of"
            f" {{{{ $value | humanizeDuration }}}} over the last {WEDDING_QUANTILE_WINDOW};"
            f" the couple is promised under {guarantee}."
        ),
        runbook_base_url=base,
    )


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.split("\n"))


def wedding_day_groups(config: Config, runbook_base_url: str) -> list[RuleGroup]:
    """The wedding-day guarantee alerts: latency per operation and per wedding, then the budget burns."""
    rules = [_operation_alert(config, runbook_base_url), _wedding_alert(config, runbook_base_url)]
    rules += burn_rate_alerts(config, runbook_base_url)
    return [{"name": "wedwatch.wedding_day", "rules": list(rules)}]
