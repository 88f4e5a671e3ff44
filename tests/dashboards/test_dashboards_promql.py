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
from dashboards_support import UPSTREAM_LABELS, known_labels, recorded_labels, selectors, upstream_labels
from grafana_queries import Query, all_queries

from wedwatch.config.model import Config
from wedwatch.rules.upstream import upstream_metric_names

# Prometheus' own series: alert state (any label an alert carries) and scrape health.
BUILTIN: dict[str, frozenset[str] | None] = {"ALERTS": None, "ALERTS_FOR_STATE": None, "up": frozenset({"instance", "job"})}

CONFIGS = {"stack": stack_config, "defaults": Config}


def _promql_of(config: Config) -> list[Query]:
    return [q for q in all_queries(config) if q.datasource == "prometheus"]


def _promql(config_name: str) -> list[Query]:
    return _promql_of(CONFIGS[config_name]())


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
    # The exporters' names the resource rules read are known through wedwatch.rules.upstream, the rules' table.
    known: dict[str, frozenset[str] | None] = {**known_labels(), **recorded_labels(), **upstream_labels(), **BUILTIN}
    problems: list[str] = []
    for query in _promql(config_name):
        found = selectors(query.promql())
        if not found:
            problems.append(f"{query}: reads no metric")
        for selector in found:
            if selector.metric not in known:
                problems.append(f"{query}: {selector.metric} is in no contract, rule or wedwatch.rules.upstream")
                continue
            allowed = known[selector.metric]
            unknown = sorted(set(selector.labels) - allowed) if allowed is not None else []
            if unknown:
                problems.append(f"{query}: {selector.metric} has no label {', '.join(unknown)}")
    assert not problems, "\n".join(problems)


def test_the_upstream_labels_cover_exactly_the_rules_upstream_names() -> None:
    assert set(UPSTREAM_LABELS) == upstream_metric_names()
    assert not upstream_metric_names() & set(known_labels()), "an upstream name is also wedwatch's own"


def test_an_upstream_name_outside_the_rules_table_is_unknown() -> None:
    # node_load1 is node_exporter's, but no resource rule reads it: a dashboard may not either.
    assert "node_load1" not in upstream_labels()
    assert upstream_labels()["node_cpu_seconds_total"] == {"cpu", "mode", "instance", "job"}


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


# The tier lines of the resources row: (quiet, live) per tier, most severe first, for the config below.
_USED_LINES = [(0.9, 0.75), (0.75, 0.6), (0.6, 0.4)]
_FREE_LINES = [(0.08, 0.15), (0.15, 0.25), (0.25, 0.45)]


def test_the_resource_tier_lines_drop_to_the_live_thresholds_while_live(promtool: str, tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "resources": {
                "used_ratio": {"medium": 0.6, "high": 0.75, "critical": 0.9},
                "disk_free_ratio": {"medium": 0.25, "high": 0.15, "critical": 0.08},
                "live_offset": 0.2,
            }
        }
    )
    panels = ("Database connections used", "Disk free, fullest filesystem")
    # Target A is the measurement; the tier lines follow it, most severe first.
    lines = [q for q in _promql_of(config) if q.panel in panels and q.ref_id != "A"]
    assert [q.panel for q in lines] == [panels[0]] * 3 + [panels[1]] * 3
    rules = tmp_path / "lines.yml"
    records = [{"record": f"dashboard:line_{i}:check", "expr": q.promql()} for i, q in enumerate(lines)]
    groups = {"groups": [{"name": "lines", "rules": records}]}
    rules.write_text(yaml.safe_dump(groups, sort_keys=False), encoding="utf-8")

    def expect(at: str, column: int) -> list[dict[str, object]]:
        values = [pair[column] for pair in (*_USED_LINES, *_FREE_LINES)]
        return [
            {"expr": name, "eval_time": at, "exp_samples": [{"labels": name, "value": v}]}
            for name, v in ((f"dashboard:line_{i}:check", v) for i, v in enumerate(values))
        ]

    quiet, live = 0, 1
    tests = {
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "tests": [
            {
                # A wedding in its ceremony from minute 2; weddings in other phases never count.
                "interval": "1m",
                "input_series": [
                    {"series": 'wedwatch_weddings{phase="ceremony"}', "values": "0 0 1 1"},
                    {"series": 'wedwatch_weddings{phase="week"}', "values": "4 4 4 4"},
                ],
                "promql_expr_test": [*expect("1m", quiet), *expect("3m", live)],
            },
            # Without wedwatch's own series the quiet-day thresholds hold, as in the rules.
            {"interval": "1m", "input_series": [], "promql_expr_test": expect("1m", quiet)},
        ],
    }
    test_file = tmp_path / "lines_test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    argv = [promtool, "test", "rules", str(test_file)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
