"""System and resource alerts on node_exporter, postgres_exporter and redis_exporter's own series.

wedwatch does not re-measure what those exporters measure; it is the only one that knows a wedding
is live. Every alert here carries `resource` (database, cache, cpu, memory, disk, offline) and
`signal` (saturation, evictions, hit_ratio, down, offline): the receiver picks its remedy by them
and does not raise these alerts again while live, because the rules already did:

- Used ratios (connections / max_connections, cache memory / maxmemory, CPU, memory) have one alert
  per tier at `>=` 80 / 90 / 95 %. While any wedding is live (`sum(wedwatch_weddings{phase=~
  "ceremony|wedding_day"}) > 0`) each threshold is `live_offset` (10 points) lower, but never below
  the quiet-day threshold of the tier under it: 70 / 80 / 90 %, not 70 / 80 / 85 %. The tiers are not
  evenly spaced (80, 90, 95), and 85 % would otherwise jump from medium to critical, two levels;
  with the clamp the same load is exactly one severity higher: 85 % is medium on a quiet day, high
  on a wedding day; 92 % high, then critical.
- Disk free is 1 - used, so the same offset raises each free threshold, clamped the same way: below
  20 / 10 / 5 % on a quiet day, below 30 / 20 / 10 % while live.
- Cache evictions and hit ratio have a single threshold that is no capacity tier (a 10-point shift
  of a hit ratio says nothing about load): the same condition is medium on a quiet day and high
  while live.
- A dependency down (pg_up or redis_up 0) is critical whatever the day.
- Offline capability is per wedding (rules/offline.py): high while that wedding is live, medium
  before and after.

Each threshold is two branches, `... unless on () LIVE` and `... and on () LIVE` with the lowered
threshold, rather than arithmetic on the threshold: without wedwatch's own series (its exporter
down, or not scraped by this Prometheus) the first branch still fires at the quiet-day thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wedwatch.calendar.phases import LIVE_PHASES
from wedwatch.config.model import Config, Phase
from wedwatch.rules.offline import offline_alerts
from wedwatch.rules.resource_signals import (
    RESOURCE_RATE_WINDOW,
    cache_evictions,
    cache_hit_ratio,
    cache_lookups,
    cache_memory_used,
    cache_up,
    connections_used,
    cpu_used,
    database_up,
    disk_free,
    memory_used,
    writable_filesystems,
)
from wedwatch.rules.shapes import AlertingRule, RuleGroup, alert_rule, human_seconds, num, percent

__all__ = ["resource_groups", "live_thresholds", "LIVE", "RESOURCE_RATE_WINDOW", "RESOURCE_GROUP"]

RESOURCE_GROUP = "wedwatch.resources"
# Any wedding on its day, from wedwatch's own exporter (every shard counts its weddings).
LIVE = '(sum(wedwatch_weddings{phase=~"' + "|".join(p.value for p in Phase if p in LIVE_PHASES) + '"}) > 0)'

Condition = Callable[[float], str]


def live_thresholds(quiet: Sequence[float], offset: float, *, at_or_above: bool) -> list[float]:
    """The thresholds while a wedding is live (most severe first): `offset` earlier, never past the next tier's quiet one.

    `at_or_above`: the alert fires at or above its threshold (used ratios), else below it (free ratios).
    The clamp keeps the same load at most one severity higher with unevenly spaced tiers.
    """
    live: list[float] = []
    for i, threshold in enumerate(quiet):
        moved = threshold - offset if at_or_above else threshold + offset
        if i + 1 < len(quiet):
            moved = max(moved, quiet[i + 1]) if at_or_above else min(moved, quiet[i + 1])
        live.append(moved)
    return live


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _live_split(condition: Condition, quiet: float, live: float) -> str:
    """`condition` at the quiet-day threshold unless a wedding is live, or at the live threshold while one is."""
    return (
        f"(\n{_indent(condition(quiet))}\n  unless on () {LIVE}\n)\n"
        f"or\n(\n{_indent(condition(live))}\n  and on () {LIVE}\n)"
    )


def _quiet(condition: str) -> str:
    return f"(\n{_indent(condition)}\n)\nunless on () {LIVE}"


def _live(condition: str) -> str:
    return f"(\n{_indent(condition)}\n)\nand on () {LIVE}"


def _labels(resource: str, signal: str) -> dict[str, str]:
    return {"resource": resource, "signal": signal}


def _used_alerts(
    config: Config,
    base: str,
    *,
    name: str,
    resource: str,
    value: str,
    for_seconds: float,
    summary: str,
    description: str,
) -> list[AlertingRule]:
    """One alert per tier on a used ratio `value`: `>=` the tier, `live_offset` lower while live."""
    r = config.resources
    rules: list[AlertingRule] = []
    tiers = r.used_ratio.by_severity()
    lives = live_thresholds([t for _, t in tiers], r.live_offset, at_or_above=True)
    for (severity, threshold), live in zip(tiers, lives, strict=True):
        rules.append(
            alert_rule(
                name=name,
                expr=_live_split(lambda t: f"{value}\n>= {num(t)}", threshold, live),
                for_=human_seconds(for_seconds),
                severity=severity,
                labels=_labels(resource, "saturation"),
                summary=summary.replace("{threshold}", percent(threshold)),
                description=(
                    f"{description}, at or above the {severity} threshold of {percent(threshold)}"
                    f" ({percent(live)} while a wedding is live)."
                ),
                runbook_base_url=base,
            )
        )
    return rules


def _down(base: str, *, name: str, resource: str, expr: str, for_seconds: float, what: str) -> AlertingRule:
    return alert_rule(
        name=name,
        expr=expr,
        for_=human_seconds(for_seconds),
        severity="critical",
        labels=_labels(resource, "down"),
        summary=f"{what} {{{{ $labels.instance }}}} is down",
        description=(
            f"The exporter at {{{{ $labels.instance }}}} (job {{{{ $labels.job }}}}) has not reached {what}"
            f" for {human_seconds(for_seconds)}: whatever needs it on the platform fails or is slow."
        ),
        runbook_base_url=base,
    )


def _database(config: Config, base: str) -> list[AlertingRule]:
    r = config.resources
    return [
        *_used_alerts(
            config,
            base,
            name="WedwatchDatabaseConnectionsHigh",
            resource="database",
            value=connections_used(r),
            for_seconds=r.database.for_seconds,
            summary="PostgreSQL {{ $labels.instance }}: connections at or above {threshold} of max_connections",
            description="{{ $value | humanizePercentage }} of max_connections are in use on PostgreSQL {{ $labels.instance }}",
        ),
        _down(
            base,
            name="WedwatchDatabaseDown",
            resource="database",
            expr=f"{database_up(r)} == 0",
            for_seconds=r.database.down_for_seconds,
            what="PostgreSQL",
        ),
    ]


def _one_level_higher_when_live(
    base: str, *, name: str, expr: str, for_: str, labels: dict[str, str], summary: str, description: str
) -> list[AlertingRule]:
    """A signal with one threshold (no used ratio to lower): medium on a quiet day, high while a wedding is live."""
    return [
        alert_rule(
            name=name,
            expr=wrap(expr),
            for_=for_,
            severity=severity,
            labels=labels,
            summary=summary,
            description=f"{description} ({severity}: {when}).",
            runbook_base_url=base,
        )
        for severity, wrap, when in (("medium", _quiet, "no wedding is live"), ("high", _live, "a wedding is live"))
    ]


def _cache(config: Config, base: str) -> list[AlertingRule]:
    r = config.resources
    c, w = r.cache, RESOURCE_RATE_WINDOW
    evicting = f"{cache_evictions(r)} > {num(c.evictions_per_second)}"
    hit_ratio = (
        f"{cache_hit_ratio(r)}\n< {num(c.hit_ratio)}\nand\n{cache_lookups(r)} >= {num(c.min_lookups_per_second)}"
    )
    for_ = human_seconds(c.for_seconds)
    rules = _used_alerts(
        config,
        base,
        name="WedwatchCacheMemoryHigh",
        resource="cache",
        value=cache_memory_used(r),
        for_seconds=c.for_seconds,
        summary="Redis {{ $labels.instance }}: memory at or above {threshold} of maxmemory",
        description="Redis {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its maxmemory",
    )
    evict_what = (
        "evicting keys" if c.evictions_per_second == 0 else f"evicting more than {num(c.evictions_per_second)} keys/s"
    )
    rules += _one_level_higher_when_live(
        base,
        name="WedwatchCacheEvicting",
        expr=evicting,
        for_=for_,
        labels=_labels("cache", "evictions"),
        summary=f"Redis {{{{ $labels.instance }}}} is {evict_what}",
        description=(
            f"Redis {{{{ $labels.instance }}}} evicted {{{{ $value | humanize }}}} keys/s over the last {w}:"
            " it is full and drops cached guest lists and summaries, which the next reads rebuild"
            " from the database"
        ),
    )
    rules += _one_level_higher_when_live(
        base,
        name="WedwatchCacheHitRatioLow",
        expr=hit_ratio,
        for_=for_,
        labels=_labels("cache", "hit_ratio"),
        summary=f"Redis {{{{ $labels.instance }}}}: hit ratio below {percent(c.hit_ratio)}",
        description=(
            f"Only {{{{ $value | humanizePercentage }}}} of lookups on Redis {{{{ $labels.instance }}}} hit over"
            f" the last {w} (with at least {num(c.min_lookups_per_second)} lookups per second), below"
            f" {percent(c.hit_ratio)}"
        ),
    )
    rules.append(
        _down(
            base,
            name="WedwatchCacheDown",
            resource="cache",
            expr=f"{cache_up(r)} == 0",
            for_seconds=c.down_for_seconds,
            what="Redis",
        )
    )
    return rules


def _cpu(config: Config, base: str) -> list[AlertingRule]:
    r = config.resources
    return _used_alerts(
        config,
        base,
        name="WedwatchCpuHigh",
        resource="cpu",
        value=cpu_used(r),
        for_seconds=r.cpu.for_seconds,
        summary="{{ $labels.instance }}: CPU at or above {threshold}",
        description=f"{{{{ $labels.instance }}}}'s CPUs were busy {{{{ $value | humanizePercentage }}}} of the last {RESOURCE_RATE_WINDOW}",
    )


def _memory(config: Config, base: str) -> list[AlertingRule]:
    r = config.resources
    return _used_alerts(
        config,
        base,
        name="WedwatchMemoryHigh",
        resource="memory",
        value=memory_used(r),
        for_seconds=r.memory.for_seconds,
        summary="{{ $labels.instance }}: memory at or above {threshold}",
        description="{{ $labels.instance }} has {{ $value | humanizePercentage }} of its memory in use",
    )


def _disk(config: Config, base: str) -> list[AlertingRule]:
    r = config.resources

    def low(threshold: float) -> str:
        condition = f"{disk_free(r)}\n< {num(threshold)}\nand\n{writable_filesystems(r)}"
        return f"(\n{_indent(condition)}\n)"

    rules: list[AlertingRule] = []
    tiers = r.disk_free_ratio.by_severity()
    lives = live_thresholds([t for _, t in tiers], r.live_offset, at_or_above=False)
    for (severity, threshold), live in zip(tiers, lives, strict=True):
        rules.append(
            alert_rule(
                name="WedwatchDiskSpaceLow",
                expr=_live_split(low, threshold, live),
                for_=human_seconds(r.disk.for_seconds),
                severity=severity,
                labels=_labels("disk", "saturation"),
                summary=f"{{{{ $labels.instance }}}}: {{{{ $labels.mountpoint }}}} has less than {percent(threshold)} free",
                description=(
                    "Only {{ $value | humanizePercentage }} of {{ $labels.mountpoint }} ({{ $labels.device }}) on"
                    f" {{{{ $labels.instance }}}} is free, below the {severity} threshold of {percent(threshold)}"
                    f" ({percent(live)} while a wedding is live)."
                ),
                runbook_base_url=base,
            )
        )
    return rules


def resource_groups(config: Config, runbook_base_url: str) -> list[RuleGroup]:
    """The `wedwatch.resources` group: the enabled families' alerts (no group when none is enabled)."""
    r = config.resources
    families: list[tuple[bool, Callable[[Config, str], list[AlertingRule]]]] = [
        (r.database.enabled, _database),
        (r.cache.enabled, _cache),
        (r.cpu.enabled, _cpu),
        (r.memory.enabled, _memory),
        (r.disk.enabled, _disk),
        (r.offline.enabled, offline_alerts),
    ]
    rules = [rule for enabled, family in families if enabled for rule in family(config, runbook_base_url)]
    if not rules:
        return []
    return [{"name": RESOURCE_GROUP, "rules": list(rules)}]
