"""Every PromQL query of the dashboards parses (promtool) and reads only metrics and labels that exist.

promtool 2.42 has no "parse this expression" command, so each query (Grafana variables replaced)
becomes a recording rule's expr in a generated rule file, and `promtool check rules` parses it.
The metrics and labels a query reads come from promql-parser's syntax tree (dashboards_support).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from checkout import stack_config
from dashboards_support import known_labels, recorded_labels, selectors
from grafana_queries import Query, all_queries

from wedwatch.config.model import Config

# Prometheus' own series: alert state (any label an alert carries) and scrape health.
BUILTIN: dict[str, frozenset[str] | None] = {"ALERTS": None, "ALERTS_FOR_STATE": None, "up": frozenset({"instance", "job"})}

CONFIGS = {"stack": stack_config, "defaults": Config}


def _promql(config_name: str) -> list[Query]:
    return [q for q in all_queries(CONFIGS[config_name]()) if q.datasource == "prometheus"]


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_every_promql_query_parses(config_name: str, promtool: str, tmp_path: Path) -> None:
    queries = _promql(config_name)
    # One group per query: promtool names the group of a bad expression, and the group is the panel.
    # Distinct record names: promtool's lint rejects two rules recording the same series.
    groups = [
        {"name": str(q), "rules": [{"record": f"dashboard:query_{i}:check", "expr": q.promql()}]}
        for i, q in enumerate(queries)
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=10_000), encoding="utf-8")
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(queries)} rules found" in done.stdout


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_every_metric_a_query_names_is_in_a_contract_or_recorded(config_name: str) -> None:
    known: dict[str, frozenset[str] | None] = {**known_labels(), **recorded_labels(), **BUILTIN}
    problems: list[str] = []
    for query in _promql(config_name):
        found = selectors(query.promql())
        if not found:
            problems.append(f"{query}: reads no metric")
        for selector in found:
            if selector.metric not in known:
                problems.append(f"{query}: {selector.metric} is in no contract and no recording rule")
                continue
            allowed = known[selector.metric]
            unknown = sorted(set(selector.labels) - allowed) if allowed is not None else []
            if unknown:
                problems.append(f"{query}: {selector.metric} has no label {', '.join(unknown)}")
    assert not problems, "\n".join(problems)


def test_the_selectors_are_metrics_not_functions_or_labels() -> None:
    expr = (
        'max by (wedding_id, phase) (a_total{x="}", y=~"a|b"} offset 1h) * on (w) group_left b:c:d'
        ' / ignoring (z) sum(rate(c_bucket[5m:1m])) or label_replace(vector(0), "up", "$1", "job", "(.*)") > bool 1e3'
        ' or {__name__="d_total", tier="x"}'
    )
    assert [(s.metric, s.labels) for s in selectors(expr)] == [
        ("a_total", ("x", "y")),
        ("b:c:d", ()),
        ("c_bucket", ()),
        ("d_total", ("tier",)),
    ]


def test_a_query_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(ValueError):
        selectors("sum(rate(a_total[5m])")


def test_recorded_labels_follow_the_level_of_the_name() -> None:
    recorded = recorded_labels()
    assert recorded["operation_tier:wedwatch_operation_duration_seconds:p95_rate5m"] == {"operation", "tier"}
    assert recorded["wedding_id_operation:wedwatch_probe_success:avg5m"] == {"wedding_id", "operation"}
