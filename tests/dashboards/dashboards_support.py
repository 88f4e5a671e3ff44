"""Helpers for the dashboard tests: what a PromQL query reads (with a real PromQL parser), and what exists.

`selectors` walks the syntax tree promql-parser builds (the Rust port of Prometheus' own parser),
so functions, aggregations, label lists of by/on/group_left and string arguments are never taken
for metric names.
"""

from __future__ import annotations

from dataclasses import dataclass

import promql_parser
from checkout import RULES_DIR, load_yaml

from wedwatch.exporter.contract import METRICS
from wedwatch.receiver.contract import RECEIVER_METRICS
from wedwatch.rules.upstream import upstream_metric_names

__all__ = ["Selector", "selectors", "known_labels", "recorded_labels", "upstream_labels", "UPSTREAM_LABELS"]

# The labels node_exporter, postgres_exporter and redis_exporter put on the series the resource rules
# read (wedwatch.rules.upstream names them), besides the target's `instance` and `job`. Their names
# come from that table; this one only says which labels a dashboard may match on.
UPSTREAM_LABELS: dict[str, tuple[str, ...]] = {
    "node_cpu_seconds_total": ("cpu", "mode"),
    "node_memory_MemAvailable_bytes": (),
    "node_memory_MemTotal_bytes": (),
    # device_error: node_exporter 1.8 and later.
    "node_filesystem_avail_bytes": ("device", "fstype", "mountpoint", "device_error"),
    "node_filesystem_size_bytes": ("device", "fstype", "mountpoint", "device_error"),
    "node_filesystem_readonly": ("device", "fstype", "mountpoint", "device_error"),
    "pg_up": (),
    "pg_stat_activity_count": ("datname", "state"),
    "pg_settings_max_connections": (),
    "redis_up": (),
    "redis_memory_used_bytes": (),
    "redis_memory_max_bytes": (),
    "redis_evicted_keys_total": (),
    "redis_keyspace_hits_total": (),
    "redis_keyspace_misses_total": (),
}


@dataclass(frozen=True)
class Selector:
    """A metric a PromQL expression reads, and the label names its matchers use."""

    metric: str
    labels: tuple[str, ...]


def selectors(expr: str) -> list[Selector]:
    """The vector selectors of a PromQL expression, in the order they appear; ValueError when it does not parse."""
    found: list[Selector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [*node.matchers.matchers, *(m for group in node.matchers.or_matchers for m in group)]
            # `{__name__="x"}` names its metric with a matcher; the parser leaves `name` empty then.
            name = node.name or next(m.value for m in matchers if m.name == "__name__")
            found.append(Selector(name, tuple(m.name for m in matchers if m.name != "__name__")))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def known_labels() -> dict[str, frozenset[str]]:
    """Metric name -> label names it carries, for the exporter's and the receiver's contracts."""
    out: dict[str, frozenset[str]] = {}
    target = {"instance", "job"}
    for spec in (*METRICS, *RECEIVER_METRICS):
        labels = frozenset({*spec.labels, *target})
        out[spec.name] = labels
        if spec.type == "histogram":
            out[f"{spec.name}_bucket"] = labels | {"le"}
            out[f"{spec.name}_sum"] = labels
            out[f"{spec.name}_count"] = labels
    return out


def recorded_labels() -> dict[str, frozenset[str]]:
    """Recording rule name -> labels it keeps (its `level`, by Prometheus' naming convention)."""
    out: dict[str, frozenset[str]] = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    level = rule["record"].split(":")[0]
                    out[rule["record"]] = frozenset(name for name in ("wedding_id", "operation", "tier") if name in level)
    return out


def upstream_labels() -> dict[str, frozenset[str]]:
    """Upstream metric name (wedwatch.rules.upstream) -> label names it carries; KeyError when a name has no entry."""
    target = {"instance", "job"}
    return {name: frozenset({*UPSTREAM_LABELS[name], *target}) for name in sorted(upstream_metric_names())}
