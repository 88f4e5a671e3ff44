"""The system and resource alerts (src/wedwatch/rules/resources.py): labels, thresholds, live offset, tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest
from rules_support import RULE_TESTS_DIR, load_yaml, run_tool

from wedwatch.config.actions import Resource
from wedwatch.config.model import Config
from wedwatch.config.resources import (
    CacheFamilyConfig,
    DatabaseFamilyConfig,
    DiskFamilyConfig,
    ExporterSelectors,
    FamilyConfig,
    FreeRatioTiers,
    OfflineFamilyConfig,
    ResourcesConfig,
    UsedRatioTiers,
)
from wedwatch.exporter.contract import metric_names
from wedwatch.rules import AlertingRule, rule_files, write_rule_files
from wedwatch.rules.resources import RESOURCE_GROUP, live_thresholds
from wedwatch.rules.upstream import upstream_metric_names

RESOURCE_TESTS = RULE_TESTS_DIR / "resources_test.yml"
SIGNALS = {"saturation", "evictions", "hit_ratio", "down", "offline"}


def _resource_rules(config: Config) -> list[AlertingRule]:
    groups = [g for content in rule_files(config).values() for g in content["groups"] if g["name"] == RESOURCE_GROUP]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]  # type: ignore[misc]


def _exprs(config: Config) -> str:
    return "\n".join(rule["expr"] for rule in _resource_rules(config))


def test_every_resource_alert_carries_resource_signal_and_severity() -> None:
    rules = _resource_rules(Config())
    assert {r["alert"] for r in rules} == {
        "WedwatchDatabaseConnectionsHigh",
        "WedwatchDatabaseDown",
        "WedwatchCacheMemoryHigh",
        "WedwatchCacheEvicting",
        "WedwatchCacheHitRatioLow",
        "WedwatchCacheDown",
        "WedwatchCpuHigh",
        "WedwatchMemoryHigh",
        "WedwatchDiskSpaceLow",
        "WedwatchOfflineCapabilityLost",
    }
    for rule in rules:
        labels = rule["labels"]
        # The receiver's vocabulary (wedwatch.config.actions.Resource) picks the remedy by it.
        assert labels["resource"] in get_args(Resource), rule["alert"]
        assert labels["signal"] in SIGNALS, rule["alert"]
        if labels["signal"] == "down":
            assert labels["severity"] == "critical", rule["alert"]
    resources = {r["labels"]["resource"] for r in rules}
    assert resources == set(get_args(Resource))


@pytest.mark.parametrize(
    ("quiet", "offset", "at_or_above", "live"),
    [
        # The defaults: 95 - 10 is clamped to the high tier's 90, so 85-90 % is high, not critical.
        ([0.95, 0.90, 0.80], 0.10, True, [0.90, 0.80, 0.70]),
        # Disk free: 5 + 10 is clamped to 10; 10 + 10 = 20; 20 + 10 = 30.
        ([0.05, 0.10, 0.20], 0.10, False, [0.10, 0.20, 0.30]),
        # Evenly spaced tiers: the plain offset.
        ([0.90, 0.80, 0.70], 0.10, True, [0.80, 0.70, 0.60]),
        ([0.90, 0.80, 0.70], 0.05, True, [0.85, 0.75, 0.65]),
        ([0.95, 0.90, 0.80], 0.0, True, [0.95, 0.90, 0.80]),
    ],
)
def test_live_thresholds_are_one_severity_earlier(
    quiet: list[float], offset: float, at_or_above: bool, live: list[float]
) -> None:
    assert live_thresholds(quiet, offset, at_or_above=at_or_above) == pytest.approx(live)


@pytest.mark.parametrize("load", [0.70, 0.75, 0.80, 0.85, 0.87, 0.90, 0.92, 0.95, 0.99])
def test_the_same_load_is_at_most_one_severity_higher_while_live(load: float) -> None:
    quiet = [0.95, 0.90, 0.80]
    live = live_thresholds(quiet, 0.10, at_or_above=True)

    def worst(thresholds: list[float]) -> int:  # 0 critical ... 3 nothing
        return next((i for i, t in enumerate(thresholds) if load >= t - 1e-9), 3)

    assert worst(quiet) - worst(live) == 1 or worst(quiet) == 0 == worst(live)


def test_non_default_resources_reach_the_expressions() -> None:
    resources = ResourcesConfig(
        selectors=ExporterSelectors(node='instance=~"web-.*"', postgres='job="pg", env="prod"', redis='job="cache"'),
        used_ratio=UsedRatioTiers(medium=0.6, high=0.75, critical=0.9),
        disk_free_ratio=FreeRatioTiers(medium=0.3, high=0.15, critical=0.08),
        live_offset=0.05,
        database=DatabaseFamilyConfig(for_seconds=120, down_for_seconds=30),
        cache=CacheFamilyConfig(evictions_per_second=2.5, hit_ratio=0.9, min_lookups_per_second=5),
        disk=DiskFamilyConfig(for_seconds=1800, excluded_fstypes=["tmpfs", "fuse.sshfs"]),
        offline=OfflineFamilyConfig(operation="app", step="bundle"),
    )
    config = Config(resources=resources)
    exprs = _exprs(config)
    for fragment in (
        'pg_stat_activity_count{job="pg",env="prod"}',
        'node_cpu_seconds_total{instance=~"web-.*",mode="idle"}',
        'redis_up{job="cache"} == 0',
        ">= 0.9\n",
        ">= 0.85\n",  # live critical: 0.9 - 0.05
        ">= 0.75\n",
        ">= 0.7\n",  # live high
        ">= 0.6\n",
        ">= 0.55\n",  # live medium
        "< 0.08\n",
        "< 0.13\n",  # live critical free: 0.08 + 0.05
        "< 0.35\n",  # live medium free
        'rate(redis_evicted_keys_total{job="cache"}[5m]) > 2.5',
        "< 0.9\n",
        ">= 5\n",
        'fstype!~"tmpfs|fuse\\\\.sshfs"',
        'wedwatch_probe_step_success{operation="app",step="bundle"}',
        'wedwatch_probe_timestamp_seconds{operation="app"}',
    ):
        assert fragment in exprs + "\n", fragment
    for default in ('job="node"', 'job="postgres"', 'job="redis"', ">= 0.95", "< 0.05", "overlay"):
        assert default not in exprs
    fors = {(r["alert"], r["for"]) for r in _resource_rules(config)}
    assert ("WedwatchDatabaseConnectionsHigh", "2m") in fors
    assert ("WedwatchDatabaseDown", "30s") in fors
    assert ("WedwatchDiskSpaceLow", "30m") in fors


def test_disabled_families_leave_no_rules() -> None:
    off = FamilyConfig(enabled=False)
    config = Config(resources=ResourcesConfig(cpu=off, memory=off, disk=DiskFamilyConfig(enabled=False)))
    names = {r["alert"] for r in _resource_rules(config)}
    assert not names & {"WedwatchCpuHigh", "WedwatchMemoryHigh", "WedwatchDiskSpaceLow"}
    assert "WedwatchDatabaseConnectionsHigh" in names
    nothing = ResourcesConfig(
        database=DatabaseFamilyConfig(enabled=False),
        cache=CacheFamilyConfig(enabled=False),
        cpu=off,
        memory=off,
        disk=DiskFamilyConfig(enabled=False),
        offline=OfflineFamilyConfig(enabled=False),
    )
    files = rule_files(Config(resources=nothing))
    assert RESOURCE_GROUP not in {g["name"] for content in files.values() for g in content["groups"]}


def test_promtool_check_rules_is_clean_with_other_resources(promtool: str, tmp_path: Path) -> None:
    resources = ResourcesConfig(
        selectors=ExporterSelectors(node='instance=~"web-.*"', postgres='job="pg",env!="dev"'),
        used_ratio=UsedRatioTiers(medium=0.5, high=0.5, critical=0.7),
        live_offset=0.2,
        disk=DiskFamilyConfig(excluded_fstypes=[]),
    )
    paths = write_rule_files(rule_files(Config(resources=resources)), tmp_path)
    done = run_tool([promtool, "check", "rules", *map(str, paths)])
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------ the promtool unit tests themselves


def _is_live(group: dict[str, Any]) -> bool:
    """Whether the test's input has a wedding live (wedwatch_weddings of a live phase above 0)."""
    for item in group["input_series"]:
        series, values = item["series"], str(item["values"])
        if series.startswith("wedwatch_weddings{") and re.search(r'phase="(ceremony|wedding_day)"', series):
            if not values.startswith("0"):
                return True
    return False


def test_every_resource_alert_fires_in_a_test_with_a_wedding_live_and_in_one_without() -> None:
    tests = load_yaml(RESOURCE_TESTS)["tests"]
    seen: dict[str, set[bool]] = {}
    for group in tests:
        for case in group.get("alert_rule_test", []):
            if case.get("exp_alerts"):
                seen.setdefault(case["alertname"], set()).add(_is_live(group))
    for rule in _resource_rules(Config()):
        if rule["labels"]["resource"] == "offline":
            continue  # per wedding: its phase decides (both severities are tested)
        assert seen.get(rule["alert"]) == {True, False}, (
            f"{rule['alert']}: fired live and not live? {seen.get(rule['alert'])}"
        )


def test_resource_unit_tests_feed_series_named_as_the_exporters_name_them() -> None:
    known = upstream_metric_names() | metric_names()
    used: set[str] = set()
    for group in load_yaml(RESOURCE_TESTS)["tests"]:
        for item in group["input_series"]:
            name = item["series"].split("{", 1)[0]
            assert name in known, f"{name} is neither an upstream exporter's name nor wedwatch's"
            used.add(name)
    assert upstream_metric_names() <= used, f"never fed to a test: {sorted(upstream_metric_names() - used)}"


def test_resource_unit_tests_carry_the_exporters_usual_labels() -> None:
    usual = {
        "pg_stat_activity_count": {"job", "instance", "datname", "state"},
        "node_filesystem_avail_bytes": {"job", "instance", "device", "fstype", "mountpoint"},
        "node_cpu_seconds_total": {"job", "instance", "cpu", "mode"},
        "redis_up": {"job", "instance"},
        "pg_up": {"job", "instance"},
    }
    for group in load_yaml(RESOURCE_TESTS)["tests"]:
        for item in group["input_series"]:
            name, _, rest = item["series"].partition("{")
            labels = set(re.findall(r"(\w+)=", rest))
            assert usual.get(name, set()) <= labels, item["series"]
