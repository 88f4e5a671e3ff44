"""What the resource alerts measure (src/wedwatch/rules/resource_signals.py): known names, configured selectors."""

from __future__ import annotations

from collections.abc import Callable

import promql_parser
import pytest

from wedwatch.config.model import Config
from wedwatch.config.resources import ResourcesConfig
from wedwatch.exporter.contract import metric_names
from wedwatch.rules import resource_signals as s
from wedwatch.rules.upstream import upstream_metric_names

Signal = Callable[[ResourcesConfig], str]

# Signal -> the selectors field whose matchers every series it reads must carry (None: wedwatch's own).
SIGNALS: dict[str, tuple[Signal, str | None]] = {
    "connections_used": (s.connections_used, "postgres"),
    "database_up": (s.database_up, "postgres"),
    "cache_memory_used": (s.cache_memory_used, "redis"),
    "cache_evictions": (s.cache_evictions, "redis"),
    "cache_hit_ratio": (s.cache_hit_ratio, "redis"),
    "cache_lookups": (s.cache_lookups, "redis"),
    "cache_up": (s.cache_up, "redis"),
    "cpu_used": (s.cpu_used, "node"),
    "memory_used": (s.memory_used, "node"),
    "disk_free": (s.disk_free, "node"),
    "writable_filesystems": (s.writable_filesystems, "node"),
    "offline_step_success": (s.offline_step_success, None),
}

CUSTOM = Config.model_validate(
    {
        "resources": {
            "selectors": {"node": 'job="hosts",env="prod"', "postgres": 'instance=~"db-.*"', "redis": 'job="cache"'},
            "disk": {"excluded_fstypes": ["tmpfs", "fuse.lxcfs"]},
            "offline": {"operation": "app", "step": "bundle"},
        }
    }
).resources


def _selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def _matchers(node: promql_parser.VectorSelector) -> set[tuple[str, str, str]]:
    return {(m.name, str(m.op), m.value) for m in node.matchers.matchers}


def test_the_module_exports_every_signal() -> None:
    assert set(SIGNALS) <= set(s.__all__)


@pytest.mark.parametrize("name", sorted(SIGNALS))
@pytest.mark.parametrize("resources", [Config().resources, CUSTOM], ids=["defaults", "custom"])
def test_each_signal_reads_known_names_with_the_configured_matchers(name: str, resources: ResourcesConfig) -> None:
    signal, field = SIGNALS[name]
    selectors = _selectors(signal(resources))
    assert selectors
    known = upstream_metric_names() if field else metric_names()
    for node in selectors:
        assert node.name in known, node.name
        if field:
            configured = _selectors("{" + getattr(resources.selectors, field) + "}")[0]
            assert _matchers(configured) <= _matchers(node), (node.name, field)


def test_filesystems_are_filtered_as_configured() -> None:
    (avail, size) = _selectors(s.disk_free(CUSTOM))
    (readonly,) = _selectors(s.writable_filesystems(CUSTOM))
    for node in (avail, size, readonly):
        fstypes = [(m.op, m.value) for m in node.matchers.matchers if m.name == "fstype"]
        assert [v for op, v in fstypes if op == promql_parser.MatchOp.NotEqual] == [""]
        (excluded,) = [v for op, v in fstypes if op == promql_parser.MatchOp.NotRe]
        # The `.` of fuse.lxcfs is escaped: a regex dot would also drop `fuseXlxcfs`.
        assert excluded == "tmpfs|fuse\\.lxcfs"
    assert s.writable_filesystems(CUSTOM).endswith("== 0")


def test_the_offline_step_takes_extra_matchers() -> None:
    (node,) = _selectors(s.offline_step_success(CUSTOM, 'wedding_id="w1"'))
    assert {(m.name, m.value) for m in node.matchers.matchers} == {
        ("operation", "app"),
        ("step", "bundle"),
        ("wedding_id", "w1"),
    }
