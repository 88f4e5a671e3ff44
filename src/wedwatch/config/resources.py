"""The `resources` section: system and resource alerts on the ecosystem exporters' own metrics.

wedwatch does not re-measure what node_exporter, postgres_exporter and redis_exporter measure; it
generates alerts on their series (src/wedwatch/rules/resources.py) that know when a wedding is
live. The defaults are the seed's: used ratio medium 80 %, high 90 %, critical 95 %; disk free
medium 20 %, high 10 %, critical 5 %; each used-ratio threshold 10 points lower while any
wedding is live (docs/rules.md, "System and resource alerts", states the arithmetic).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from wedwatch.config._base import Ratio, Seconds, Strict

__all__ = [
    "ResourcesConfig",
    "UsedRatioTiers",
    "FreeRatioTiers",
    "ExporterSelectors",
    "FamilyConfig",
    "DatabaseFamilyConfig",
    "CacheFamilyConfig",
    "DiskFamilyConfig",
    "OfflineFamilyConfig",
]

# One PromQL label matcher (`job="node"`, `instance=~"db-.*"`), and a comma-separated list of them:
# what goes between the braces of every selector the rules write for that exporter.
_MATCHER = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*'
_SELECTOR = re.compile(rf"{_MATCHER}(?:,{_MATCHER})*")
_FSTYPE = re.compile(r"[a-z0-9_.-]+")
_LABEL_VALUE = re.compile(r"[a-z][a-z0-9_]*")

# Filesystems that are not storage anyone can fill (memory, container layers, images, pseudo
# filesystems): node-mixin's practice of leaving them out (plus `fstype!=""` and read-only mounts).
_EXCLUDED_FSTYPES = ("tmpfs", "ramfs", "devtmpfs", "overlay", "squashfs", "nsfs", "iso9660", "autofs", "fuse.lxcfs")

NonNegative = Annotated[float, Field(ge=0)]


class _Tiers(Strict):
    medium: Ratio
    high: Ratio
    critical: Ratio

    def by_severity(self) -> list[tuple[str, float]]:
        """(severity, threshold), most severe first, as the rules and the dashboards' lines take them."""
        return [("critical", self.critical), ("high", self.high), ("medium", self.medium)]


class UsedRatioTiers(_Tiers):
    """Used-ratio thresholds (at or above): database connections, cache memory, CPU, memory."""

    medium: Ratio = 0.80
    high: Ratio = 0.90
    critical: Ratio = 0.95

    @model_validator(mode="after")
    def _ordered(self) -> UsedRatioTiers:
        if not 0 < self.medium <= self.high <= self.critical:
            raise ValueError("must not decrease from medium to high to critical, and medium must be above 0")
        return self


class FreeRatioTiers(_Tiers):
    """Disk free-ratio thresholds (below): free is 1 - used, so the tiers decrease towards critical."""

    medium: Ratio = 0.20
    high: Ratio = 0.10
    critical: Ratio = 0.05

    @model_validator(mode="after")
    def _ordered(self) -> FreeRatioTiers:
        if not 1 > self.medium >= self.high >= self.critical:
            raise ValueError("must not increase from medium to high to critical, and medium must be below 1")
        return self


class ExporterSelectors(Strict):
    """Label matchers selecting each exporter's series; defaults are the exporters' usual job names."""

    node: str = 'job="node"'
    postgres: str = 'job="postgres"'
    redis: str = 'job="redis"'

    @field_validator("node", "postgres", "redis")
    @classmethod
    def _matchers(cls, value: str) -> str:
        if not _SELECTOR.fullmatch(value):
            raise ValueError(f'must be PromQL label matchers such as job="node" or instance=~"db-.*", got {value!r}')
        return ",".join(m.strip() for m in re.findall(_MATCHER, value))


class FamilyConfig(Strict):
    """One family of resource alerts: on or off, and how long a condition must hold."""

    enabled: bool = True
    for_seconds: Seconds = 300.0


class DatabaseFamilyConfig(FamilyConfig):
    """postgres_exporter: connections in use against max_connections, and pg_up."""

    down_for_seconds: Seconds = 60.0


class CacheFamilyConfig(FamilyConfig):
    """redis_exporter: memory against maxmemory, evictions, hit ratio, and redis_up."""

    down_for_seconds: Seconds = 60.0
    # Evicting faster than this (keys/s over 5m) fires; 0 means any sustained eviction.
    evictions_per_second: NonNegative = 0.0
    # Hits / (hits + misses) below this fires, but only with at least min_lookups_per_second:
    # a nearly idle cache has a meaningless ratio.
    hit_ratio: Ratio = 0.80
    min_lookups_per_second: NonNegative = 1.0


class DiskFamilyConfig(FamilyConfig):
    """node_exporter filesystems: free space against size, writable real filesystems only."""

    # Disks fill slowly and a log rotation or a backup briefly dips them: hold longer.
    for_seconds: Seconds = 600.0
    excluded_fstypes: list[str] = Field(default_factory=lambda: list(_EXCLUDED_FSTYPES))

    @field_validator("excluded_fstypes")
    @classmethod
    def _fstypes(cls, value: list[str]) -> list[str]:
        for fstype in value:
            if not _FSTYPE.fullmatch(fstype):
                raise ValueError(f"{fstype!r} is not a filesystem type (lower-case letters, digits, '_', '.', '-')")
        return value


class OfflineFamilyConfig(Strict):
    """The mobile probe's offline-capability step (wedwatch_probe_step_success)."""

    enabled: bool = True
    operation: str = "mobile"
    step: str = "offline"

    @field_validator("operation", "step")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL_VALUE.fullmatch(value):
            raise ValueError(f"must match [a-z][a-z0-9_]*, got {value!r}")
        return value


class ResourcesConfig(Strict):
    """System and resource alerts on node_exporter, postgres_exporter and redis_exporter series."""

    selectors: ExporterSelectors = Field(default_factory=ExporterSelectors)
    used_ratio: UsedRatioTiers = Field(default_factory=UsedRatioTiers)
    disk_free_ratio: FreeRatioTiers = Field(default_factory=FreeRatioTiers)
    # While any wedding is live each used-ratio threshold is this much lower (and each disk
    # free-ratio threshold this much higher), so the same load is one severity higher on the day.
    live_offset: Annotated[float, Field(ge=0, lt=1)] = 0.10
    database: DatabaseFamilyConfig = Field(default_factory=DatabaseFamilyConfig)
    cache: CacheFamilyConfig = Field(default_factory=CacheFamilyConfig)
    cpu: FamilyConfig = Field(default_factory=FamilyConfig)
    memory: FamilyConfig = Field(default_factory=FamilyConfig)
    disk: DiskFamilyConfig = Field(default_factory=DiskFamilyConfig)
    offline: OfflineFamilyConfig = Field(default_factory=OfflineFamilyConfig)

    @model_validator(mode="after")
    def _offset_leaves_thresholds(self) -> ResourcesConfig:
        if self.used_ratio.medium - self.live_offset <= 0:
            raise ValueError("live_offset: used_ratio.medium minus live_offset must stay above 0")
        if self.disk_free_ratio.medium + self.live_offset >= 1:
            raise ValueError("live_offset: disk_free_ratio.medium plus live_offset must stay below 1")
        return self
