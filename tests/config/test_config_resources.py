"""The `resources` section (src/wedwatch/config/resources.py): defaults, strictness, messages naming the field."""

from __future__ import annotations

import pytest

from wedwatch.config import Config, parse_config
from wedwatch.config.resources import ResourcesConfig
from wedwatch.errors import ConfigError


def test_defaults_are_the_seed_numbers() -> None:
    r = Config().resources
    assert (r.used_ratio.medium, r.used_ratio.high, r.used_ratio.critical) == (0.80, 0.90, 0.95)
    assert (r.disk_free_ratio.medium, r.disk_free_ratio.high, r.disk_free_ratio.critical) == (0.20, 0.10, 0.05)
    assert r.live_offset == 0.10
    assert (r.selectors.node, r.selectors.postgres, r.selectors.redis) == (
        'job="node"',
        'job="postgres"',
        'job="redis"',
    )
    assert all(f.enabled for f in (r.database, r.cache, r.cpu, r.memory, r.disk, r.offline))
    assert (r.offline.operation, r.offline.step) == ("mobile", "offline")
    assert "tmpfs" in r.disk.excluded_fstypes and "overlay" in r.disk.excluded_fstypes


def test_a_partial_section_keeps_the_other_defaults() -> None:
    r = parse_config(
        "resources:\n  selectors: {postgres: 'instance=~\"db-.*\"'}\n  cpu: {enabled: false}\n"
    ).config.resources
    assert r.selectors.postgres == 'instance=~"db-.*"'
    assert r.selectors.node == 'job="node"'
    assert r.cpu.enabled is False and r.memory.enabled is True
    assert r == ResourcesConfig.model_validate(
        {"selectors": {"postgres": 'instance=~"db-.*"'}, "cpu": {"enabled": False}}
    )


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("resources: {cpus: {}}", "resources.cpus", "unknown key"),
        ("resources: {cpu: {threshold: 0.9}}", "resources.cpu.threshold", "unknown key"),
        ("resources: {selectors: {node: node}}", "resources.selectors.node",
         "must be PromQL label matchers such as job=\"node\" or instance=~\"db-.*\", got 'node'"),
        ("resources: {selectors: {redis: 'job=\"redis\"}'}}", "resources.selectors.redis",
         "must be PromQL label matchers such as job=\"node\" or instance=~\"db-.*\", got 'job=\"redis\"}'"),
        ("resources: {used_ratio: {medium: 0.9, high: 0.8}}", "resources.used_ratio",
         "must not decrease from medium to high to critical, and medium must be above 0"),
        ("resources: {disk_free_ratio: {medium: 0.05, high: 0.1}}", "resources.disk_free_ratio",
         "must not increase from medium to high to critical, and medium must be below 1"),
        ("resources: {used_ratio: {medium: 1.5}}", "resources.used_ratio.medium", "Input should be less than or equal to 1 (got 1.5)"),
        ("resources: {live_offset: 0.85}", "resources.live_offset", "used_ratio.medium minus live_offset must stay above 0"),
        ("resources: {live_offset: 0.5, disk_free_ratio: {medium: 0.6}}", "resources.live_offset",
         "disk_free_ratio.medium plus live_offset must stay below 1"),
        ("resources: {disk: {excluded_fstypes: ['tmpfs|ext4']}}", "resources.disk.excluded_fstypes",
         "'tmpfs|ext4' is not a filesystem type (lower-case letters, digits, '_', '.', '-')"),
        ("resources: {offline: {step: 'Offline Step'}}", "resources.offline.step", "must match [a-z][a-z0-9_]*, got 'Offline Step'"),
        ("resources: {database: {for_seconds: 0}}", "resources.database.for_seconds", "Input should be greater than 0 (got 0)"),
    ],
)  # fmt: skip
def test_invalid_resources_name_the_field_and_reason(text: str, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert (info.value.field, info.value.reason) == (field, reason)


def test_selectors_are_normalised_matcher_lists() -> None:
    r = ResourcesConfig.model_validate({"selectors": {"node": ' job = "node" ,  env!~"dev|test" '}})
    assert r.selectors.node == 'job = "node",env!~"dev|test"'
