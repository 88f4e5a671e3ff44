"""The resources row: the platform's database, cache and hosts as the system and resource alerts see them.

Every panel reads what the alerts read (wedwatch.rules.resource_signals: the exporters' own series
through the `resources.selectors`), and its lines sit where they fire. A used-ratio threshold is
`live_offset` lower while any wedding is live, so the tier lines are series, not fixed lines: each
is the quiet-day threshold, and drops to the live one while a wedding is live, as the rules' two
branches do (rules/resources.py). Families the config disables have no alerts and no panel.
"""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.config.resources import ResourcesConfig
from wedwatch.dashboards.builder import Json, Panel, PromQL, Row
from wedwatch.dashboards.fragments import OUTCOME_MAPPINGS, rename, state_timeline, table, timeseries
from wedwatch.rules.resource_signals import (
    RESOURCE_RATE_WINDOW,
    cache_evictions,
    cache_hit_ratio,
    cache_memory_used,
    cache_up,
    connections_used,
    cpu_used,
    database_up,
    disk_free,
    memory_used,
    offline_step_success,
    writable_filesystems,
)
from wedwatch.rules.resources import LIVE, live_thresholds
from wedwatch.rules.shapes import num, percent

__all__ = ["resources_row", "tier_lines", "TIER_COLOURS"]

# The colours of the seed's tiers, as the latency and error steps use them.
TIER_COLOURS = {"medium": "yellow", "high": "orange", "critical": "red"}

_UP_MAPPINGS: tuple[Json, ...] = (
    {"options": {"0": {"color": "red", "index": 0, "text": "down"}, "1": {"color": "green", "index": 1, "text": "up"}},
     "type": "value"},
)  # fmt: skip

_FIRING = 'ALERTS{alertstate="firing", resource!=""}'


def tier_lines(tiers: list[tuple[str, float]], offset: float, *, at_or_above: bool) -> tuple[list[PromQL], list[Json]]:
    """One threshold series per tier (most severe first): the quiet-day value, the live one while a wedding is live.

    Also the overrides that draw them dashed in the tier's colour. `at_or_above` as live_thresholds.
    """
    lives = live_thresholds([t for _, t in tiers], offset, at_or_above=at_or_above)
    targets: list[PromQL] = []
    overrides: list[Json] = []
    side = ">=" if at_or_above else "<"
    for (severity, quiet), live in zip(tiers, lives, strict=True):
        legend = f"{severity} {side} {percent(quiet)} ({percent(live)} while live)"
        # Without wedwatch's own series the first branch still holds: the quiet-day threshold, as the rules.
        expr = f"(vector({num(quiet)}) unless on () {LIVE})\nor\n(vector({num(live)}) and on () {LIVE})"
        targets.append(PromQL(expr, legend=legend))
        overrides.append(
            {
                "matcher": {"id": "byName", "options": legend},
                "properties": [
                    {"id": "color", "value": {"fixedColor": TIER_COLOURS[severity], "mode": "fixed"}},
                    {"id": "custom.lineStyle", "value": {"dash": [10, 10], "fill": "dash"}},
                    {"id": "custom.fillOpacity", "value": 0},
                ],
            }
        )
    return targets, overrides


def _used_panel(r: ResourcesConfig, title: str, description: str, value: str, alert: str) -> Panel:
    lines, overrides = tier_lines(r.used_ratio.by_severity(), r.live_offset, at_or_above=True)
    return timeseries(
        title,
        f"{description} Dashed: the tiers of {alert}, {num(r.live_offset * 100)} points lower while any wedding"
        " is live (never past the next tier's quiet-day threshold).",
        "percentunit",
        PromQL(value, legend="{{instance}}"),
        *lines,
        overrides=tuple(overrides),
        width=8,
        min=0,
        max=1,
    )


def _database_panels(r: ResourcesConfig) -> list[Panel]:
    return [
        _used_panel(
            r,
            "Database connections used",
            "Client connections over max_connections per PostgreSQL server (postgres_exporter: every"
            " database and state, idle ones hold a slot too).",
            connections_used(r),
            "WedwatchDatabaseConnectionsHigh",
        )
    ]


def _cache_panels(r: ResourcesConfig) -> list[Panel]:
    c = r.cache
    rate = c.evictions_per_second
    evicting = "any sustained eviction" if rate == 0 else f"above {num(rate)} keys/s"
    return [
        _used_panel(
            r,
            "Cache memory used",
            "Redis memory over its maxmemory (redis_exporter); a Redis without maxmemory has no ratio.",
            cache_memory_used(r),
            "WedwatchCacheMemoryHigh",
        ),
        timeseries(
            "Cache evictions",
            f"Keys Redis evicted per second over {RESOURCE_RATE_WINDOW}: it is full and drops cached guest lists"
            f" and summaries. WedwatchCacheEvicting fires on {evicting}, high while a wedding is live.",
            "suffix: keys/s",
            PromQL(cache_evictions(r), legend="{{instance}}"),
            width=8,
            min=0,
        ),
        timeseries(
            "Cache hit ratio",
            f"Hits over lookups of Redis over {RESOURCE_RATE_WINDOW}. Below {percent(c.hit_ratio)} (with at least"
            f" {num(c.min_lookups_per_second)} lookups/s) fires WedwatchCacheHitRatioLow, high while a wedding is"
            " live. A cold cache after a restart reads low until warmed (cache_warm).",
            "percentunit",
            PromQL(cache_hit_ratio(r), legend="{{instance}}"),
            thresholds=((None, "orange"), (c.hit_ratio, "green")),
            threshold_lines=True,
            width=8,
            min=0,
            max=1,
        ),
    ]


def _host_panels(r: ResourcesConfig) -> list[Panel]:
    panels: list[Panel] = []
    if r.cpu.enabled:
        panels.append(
            _used_panel(
                r,
                "CPU busy",
                f"The share of the last {RESOURCE_RATE_WINDOW} each host's CPUs were not idle (node_exporter).",
                cpu_used(r),
                "WedwatchCpuHigh",
            )
        )
    if r.memory.enabled:
        panels.append(
            _used_panel(
                r,
                "Memory used",
                "1 - MemAvailable / MemTotal per host (node_exporter): memory not available without swapping.",
                memory_used(r),
                "WedwatchMemoryHigh",
            )
        )
    if r.disk.enabled:
        lines, overrides = tier_lines(r.disk_free_ratio.by_severity(), r.live_offset, at_or_above=False)
        panels.append(
            timeseries(
                "Disk free, fullest filesystem",
                "Per host, the free share of its fullest writable filesystem (node_exporter; memory, pseudo and"
                " read-only filesystems left out, as the alert does). Dashed: the tiers of WedwatchDiskSpaceLow,"
                f" {num(r.live_offset * 100)} points higher while any wedding is live.",
                "percentunit",
                # `and` binds looser than `/`: the free ratio of each filesystem, kept where it is writable.
                PromQL(
                    f"min by (instance) (\n{disk_free(r)}\nand\n{writable_filesystems(r)}\n)", legend="{{instance}}"
                ),
                *lines,
                overrides=tuple(overrides),
                width=8,
                min=0,
                max=1,
            )
        )
    return panels


def resources_row(config: Config, wedding: str) -> Row:
    """The resources row; `wedding` holds the label matchers of the wedding shown (its offline step)."""
    r = config.resources
    panels: list[Panel] = []
    if r.database.enabled:
        panels += _database_panels(r)
    if r.cache.enabled:
        panels += _cache_panels(r)
    panels += _host_panels(r)
    dependencies = ((r.database.enabled, database_up(r), "PostgreSQL"), (r.cache.enabled, cache_up(r), "Redis"))
    reachable = [
        PromQL(f"min by (instance) ({up})", legend=f"{what} {{{{instance}}}}")
        for enabled, up, what in dependencies
        if enabled
    ]
    if reachable:
        panels.append(
            state_timeline(
                "Database and cache reachable",
                "Whether postgres_exporter and redis_exporter reach their server (pg_up, redis_up). Down for a"
                " minute fires WedwatchDatabaseDown or WedwatchCacheDown, critical whatever the day.",
                "none",
                *reachable,
                mappings=_UP_MAPPINGS,
                thresholds=((None, "red"), (1, "green")),
                width=8,
            )
        )
    if r.offline.enabled:
        panels.append(
            state_timeline(
                "Offline capability",
                f"Whether the {r.offline.step} step of this wedding's {r.offline.operation} probes passed: the app's"
                " offline bundle manifest present, parseable and fresh. Three failed probes in a row fire"
                " WedwatchOfflineCapabilityLost, high while the wedding is live.",
                "none",
                PromQL(f"min({offline_step_success(r, wedding)})", legend=r.offline.step),
                mappings=OUTCOME_MAPPINGS,
                thresholds=((None, "red"), (1, "green")),
                width=8,
            )
        )
    labels = "alertname, resource, signal, severity, instance, mountpoint, wedding_id"
    panels.append(
        table(
            "Resource alerts firing",
            "Every firing alert with a `resource` label (database, cache, cpu, memory, disk, offline) and the time"
            " it became active. These fire one severity higher while any wedding is live, and the receiver does not"
            " raise them again.",
            "short",
            PromQL(
                f"max by ({labels}) (ALERTS_FOR_STATE and ignoring (alertstate) {_FIRING}) * 1000",
                instant=True,
                format="table",
            ),
            height=7,
            transformations=(
                rename(
                    {
                        "alertname": "Alert",
                        "resource": "Resource",
                        "signal": "Signal",
                        "severity": "Severity",
                        "instance": "Instance",
                        "mountpoint": "Mountpoint",
                        "wedding_id": "Wedding",
                        "Value": "Active since",
                    }
                ),
                {"id": "sortBy", "options": {"sort": [{"desc": True, "field": "Active since"}]}},
            ),
            overrides=(
                {
                    "matcher": {"id": "byName", "options": "Active since"},
                    "properties": [{"id": "unit", "value": "dateTimeFromNow"}],
                },
            ),
        )
    )
    return Row("Platform resources (shared by every wedding)", tuple(panels))
