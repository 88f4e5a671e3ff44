"""The rule generator (src/wedwatch/rules/): checked-in output, metric names, labels, thresholds."""

from __future__ import annotations

import re
from typing import Any

import promql_parser
import pytest
import yaml
from rules_support import REPO, RULES_DIR, all_rules

from wedwatch.config.model import Config, SeverityThresholds, ThresholdsConfig, WeddingDayGuarantees
from wedwatch.errors import ConfigError
from wedwatch.exporter.contract import metric_names
from wedwatch.rules import (
    BURN_WINDOWS,
    DEFAULT_RUNBOOK_BASE_URL,
    SEVERITIES,
    alert_names,
    alerting_rules,
    render,
    rule_files,
    stale_files,
)
from wedwatch.rules.upstream import UPSTREAM_METRICS, upstream_metric_names

# A raw metric name: wedwatch_..., not inside a recording rule's name (those contain colons).
_METRIC = re.compile(r"(?<![\w:])wedwatch_[a-z0-9_]+(?![\w:])")
_RECORDED = re.compile(r"(?<![\w:])[a-z_]+:[a-z0-9_]+:[a-z0-9_]+(?![\w:])")


def _metric_names_in(expr: str) -> set[str]:
    """Every metric (or recorded series) name an expression selects, from promql-parser's syntax tree."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def _exprs(files: dict[str, Any]) -> list[str]:
    return [rule["expr"] for rule in all_rules(files)]


def test_checked_in_rules_are_what_the_generator_writes() -> None:
    files = rule_files(Config())
    stale = stale_files(files, RULES_DIR)
    assert not stale, f"{[str(p) for p in stale]} differ from the generator: run `wedwatch rules --output-dir rules/`"
    assert sorted(p.name for p in RULES_DIR.glob("*.yml")) == sorted(files), "rules/ holds files the generator does not write"


def test_rendering_is_deterministic_and_parses_back() -> None:
    first, second = rule_files(Config()), rule_files(Config())
    for name, content in first.items():
        text = render(content)
        assert text == render(second[name])
        assert yaml.safe_load(text) == content


def test_every_metric_an_expression_names_is_in_the_contract_or_recorded() -> None:
    files = rule_files(Config())
    recorded = {rule["record"] for rule in all_rules(dict(files)) if "record" in rule}
    contract = metric_names()
    upstream = upstream_metric_names()
    for expr in _exprs(dict(files)):
        for name in _METRIC.findall(expr):
            assert name in contract, f"{name} (in {expr!r}) is not in wedwatch.exporter.contract"
        for name in _RECORDED.findall(expr):
            assert name in recorded, f"{name} (in {expr!r}) is not a recording rule in rules/"
        # Any other name belongs to node_exporter, postgres_exporter or redis_exporter, and must
        # be in their table (wedwatch.rules.upstream), spelt as they expose it.
        for name in _metric_names_in(expr):
            assert name in contract | recorded | upstream, (
                f"{name} (in {expr!r}) is in neither wedwatch's contract, a recording rule nor wedwatch.rules.upstream"
            )


def test_the_name_finder_sees_every_kind_of_name() -> None:
    expr = (
        'sum without (datname, state) (pg_stat_activity_count{job="postgres",state!~"idle"})\n/ on (job) group_left ()'
        ' pg_settings_max_connections >= 0.8 and on () (sum(wedwatch_weddings{phase=~"a|b"}) > bool 0)'
        " or rate(node_cpu_seconds_total[5m] offset 1h) * 1e3 unless a:b:c"
    )
    assert _metric_names_in(expr) == {
        "pg_stat_activity_count",
        "pg_settings_max_connections",
        "wedwatch_weddings",
        "node_cpu_seconds_total",
        "a:b:c",
    }


def test_upstream_names_are_the_exporters_spelling() -> None:
    # Counters keep `_total` as the exporters expose them; every name is theirs, none is wedwatch's.
    for exporter, names in UPSTREAM_METRICS.items():
        prefix = {"node_exporter": "node_", "postgres_exporter": "pg_", "redis_exporter": "redis_"}[exporter]
        assert all(name.startswith(prefix) for name in names), exporter
    assert not upstream_metric_names() & metric_names()


def test_every_alert_carries_severity_and_the_three_annotations() -> None:
    for rule in alerting_rules(rule_files(Config())):
        assert rule["labels"]["severity"] in SEVERITIES
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert rule["annotations"]["runbook_url"] == f"{DEFAULT_RUNBOOK_BASE_URL}#{rule['alert'].lower()}"
        assert re.fullmatch(r"\d+[smh]", rule["for"])


def test_every_runbook_url_has_a_section_in_docs_runbooks() -> None:
    text = (REPO / "docs" / "runbooks.md").read_text(encoding="utf-8")
    headings = {line[3:].strip().lower() for line in text.splitlines() if line.startswith("## ")}
    for name in alert_names(rule_files(Config())):
        assert name.lower() in headings, f"docs/runbooks.md has no '## {name}' section"


def test_runbook_base_url_is_an_option() -> None:
    files = rule_files(Config(), runbook_base_url="https://wiki.example.org/runbooks")
    urls = {rule["annotations"]["runbook_url"] for rule in alerting_rules(files)}
    assert urls and all(u.startswith("https://wiki.example.org/runbooks#") for u in urls)


def test_non_default_thresholds_reach_the_expressions() -> None:
    thresholds = ThresholdsConfig(
        critical=SeverityThresholds(p95_seconds=7.5, error_ratio=0.25, availability=0.9),
        high=SeverityThresholds(p95_seconds=4.5, error_ratio=0.15, availability=0.93),
        medium=SeverityThresholds(p95_seconds=2.5, error_ratio=0.03, availability=0.985),
        wedding_day=WeddingDayGuarantees(
            response_seconds=0.35,
            availability=0.995,
            error_ratio=0.002,
            operation_seconds={"guest_list": 0.8, "mobile": 0.6},
        ),
        stall_intervals=4,
        milestone_delay_seconds=600,
        checkin_lag_ratio=0.3,
    )
    exprs = "\n".join(_exprs(dict(rule_files(Config(thresholds=thresholds)))))
    for fragment in (
        "p95_rate5m > 7.5",
        "p95_rate5m > 4.5",
        "p95_rate5m > 2.5",
        "ratio_rate5m > 0.25",
        "ratio_rate5m > 0.15",
        "ratio_rate5m > 0.03",
        "success_ratio_rate1h < 0.9",
        "success_ratio_rate1h < 0.93",
        "success_ratio_rate1h < 0.985",
        'operation="guest_list"} > 0.8',
        'operation="mobile"} > 0.6',
        'operation!~"guest_list|mobile"} > 0.35',
        '{tier="wedding_day"} / 0.002 > 14.4',
        "/ 0.005 > 14.4",
        "4 * max by (wedding_id) (wedwatch_probe_interval_seconds)",
        "(wedwatch_timeline_delay_seconds) > 600",
        "/ 7200 - 0.3",
    ):
        assert fragment in exprs
    for default in ("> 5\n", "> 0.1\n", "< 0.95", "/ 0.001 ", "> 900"):
        assert default not in exprs + "\n"


def test_a_hundred_percent_objective_is_refused() -> None:
    thresholds = ThresholdsConfig(wedding_day=WeddingDayGuarantees(availability=1.0))
    with pytest.raises(ConfigError, match="thresholds.wedding_day.availability"):
        rule_files(Config(thresholds=thresholds))


@pytest.mark.parametrize(
    ("severity", "spent", "lasts_seconds"),
    [("critical", 0.05, 6000), ("high", 0.125, 14400)],
)
def test_burn_windows_match_the_documented_arithmetic(severity: str, spent: float, lasts_seconds: float) -> None:
    (window,) = [w for w in BURN_WINDOWS if w.severity == severity]
    assert window.budget_spent() == pytest.approx(spent)
    assert window.exhaustion_seconds() == pytest.approx(lasts_seconds)


def test_a_configured_operation_gets_its_own_wedding_day_guarantee() -> None:
    step = {"name": "load", "request": {"url": "{base_url}/rest/v1/rsvps"}}
    config = Config.model_validate(
        {"operations": {"rsvp": {"guarantee_seconds": 0.75, "steps": [step]}, "seating": {"steps": [step]}}}
    )
    exprs = "\n".join(_exprs(dict(rule_files(config))))
    assert 'operation="rsvp"} > 0.75' in exprs
    # Without its own guarantee a new operation is held to response_seconds with every other one.
    assert 'operation!~"guest_list|photo_upload|timeline_sync|rsvp"} > 0.5' in exprs
