"""What the resource alerts measure: PromQL on the exporters' series and on the mobile probe's offline step.

node_exporter, postgres_exporter and redis_exporter for the system and resource alerts
(rules/resources.py); wedwatch's own offline step gauge for the offline alert (rules/offline.py).
One place for each expression, so that the alerts (rules/resources.py) and the dashboards' resources
row read exactly the same series with the same selectors: the exporter's `resources.selectors`
entry, and for filesystems the node-mixin's filters. The names are the exporters' own
(wedwatch.rules.upstream lists them). The text is the rules' (line breaks included): changing it
changes the checked-in rules/.
"""

from __future__ import annotations

from wedwatch.config.resources import ResourcesConfig

__all__ = [
    "RESOURCE_RATE_WINDOW",
    "connections_used",
    "database_up",
    "cache_memory_used",
    "cache_evictions",
    "cache_hit_ratio",
    "cache_lookups",
    "cache_up",
    "cpu_used",
    "memory_used",
    "filesystem_selector",
    "disk_free",
    "writable_filesystems",
    "offline_step_success",
]

# rate() windows: 5 minutes holds twenty 15 s scrapes, as the seed's tiers use.
RESOURCE_RATE_WINDOW = "5m"


def connections_used(r: ResourcesConfig) -> str:
    """Client connections in use over max_connections, per PostgreSQL server (0-1)."""
    sel = r.selectors.postgres
    # Every client backend, summed over databases and states (idle ones hold a slot too), per
    # server; postgres_exporter labels both series alike, so they match one to one.
    return f"sum without (datname, state) (pg_stat_activity_count{{{sel}}})\n/\npg_settings_max_connections{{{sel}}}"


def database_up(r: ResourcesConfig) -> str:
    """Whether postgres_exporter reached its PostgreSQL (1 or 0)."""
    return f"pg_up{{{r.selectors.postgres}}}"


def cache_memory_used(r: ResourcesConfig) -> str:
    """Redis memory in use over maxmemory (0-1), only for a Redis with a maxmemory."""
    sel = r.selectors.redis
    # maxmemory 0 means "no limit" (redis_memory_max_bytes reads 0): `> 0` drops those series
    # instead of dividing by zero, so an unlimited cache never fires.
    return f"redis_memory_used_bytes{{{sel}}}\n/\n(redis_memory_max_bytes{{{sel}}} > 0)"


def cache_evictions(r: ResourcesConfig) -> str:
    """Keys Redis evicted per second, over the rate window."""
    return f"rate(redis_evicted_keys_total{{{r.selectors.redis}}}[{RESOURCE_RATE_WINDOW}])"


def _hits_misses(r: ResourcesConfig) -> tuple[str, str]:
    sel, w = r.selectors.redis, RESOURCE_RATE_WINDOW
    return f"rate(redis_keyspace_hits_total{{{sel}}}[{w}])", f"rate(redis_keyspace_misses_total{{{sel}}}[{w}])"


def cache_hit_ratio(r: ResourcesConfig) -> str:
    """Hits over lookups (hits and misses) of Redis, over the rate window (0-1)."""
    hits, misses = _hits_misses(r)
    return f"{hits}\n/\n({hits} + {misses})"


def cache_lookups(r: ResourcesConfig) -> str:
    """Lookups (hits and misses) per second of Redis, over the rate window."""
    hits, misses = _hits_misses(r)
    return f"{hits} + {misses}"


def cache_up(r: ResourcesConfig) -> str:
    """Whether redis_exporter reached its Redis (1 or 0)."""
    return f"redis_up{{{r.selectors.redis}}}"


def cpu_used(r: ResourcesConfig) -> str:
    """The share of the rate window an instance's CPUs were not idle (0-1)."""
    # 1 - the idle share, averaged over the instance's CPUs (node_cpu_seconds_total counts seconds
    # per cpu and mode; its rate in one mode is that mode's share of one CPU).
    return (
        f'1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{{{r.selectors.node},mode="idle"}}'
        f"[{RESOURCE_RATE_WINDOW}]))"
    )


def memory_used(r: ResourcesConfig) -> str:
    """The share of an instance's memory not available without swapping (0-1)."""
    sel = r.selectors.node
    # MemAvailable is the kernel's estimate of what can be allocated without swapping (page cache
    # included), the measure the node-mixin uses too.
    return f"1 - node_memory_MemAvailable_bytes{{{sel}}} / node_memory_MemTotal_bytes{{{sel}}}"


def filesystem_selector(r: ResourcesConfig) -> str:
    """The matchers of node_exporter's filesystems the disk alerts consider (not yet the read-only filter)."""
    excluded = "|".join(t.replace(".", "\\\\.") for t in r.disk.excluded_fstypes)
    # As the node-mixin: fstype!="" drops series without a filesystem type; memory and
    # pseudo filesystems are not storage anyone fills; read-only mounts are dropped by
    # writable_filesystems.
    return f'{r.selectors.node},fstype!=""' + (f',fstype!~"{excluded}"' if excluded else "")


def disk_free(r: ResourcesConfig) -> str:
    """Each filesystem's available bytes over its size (0-1); `and` it with writable_filesystems."""
    sel = filesystem_selector(r)
    return f"node_filesystem_avail_bytes{{{sel}}}\n/\nnode_filesystem_size_bytes{{{sel}}}"


def writable_filesystems(r: ResourcesConfig) -> str:
    """node_exporter's filesystems that are not mounted read-only (a full read-only one is no alert)."""
    return f"node_filesystem_readonly{{{filesystem_selector(r)}}} == 0"


def offline_step_success(r: ResourcesConfig, matchers: str = "") -> str:
    """wedwatch's own gauge of the mobile probe's offline step (1 passed, 0 failed), per tracked wedding."""
    o = r.offline
    extra = f",{matchers}" if matchers else ""
    return f'wedwatch_probe_step_success{{operation="{o.operation}",step="{o.step}"{extra}}}'
