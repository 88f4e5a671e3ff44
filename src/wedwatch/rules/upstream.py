"""The ecosystem exporters' metric names the resource rules read, in one table.

wedwatch's own names are checked against its exporter contract (wedwatch.exporter.contract);
these belong to node_exporter, postgres_exporter and redis_exporter, which own them. A test checks
that every name a rule expression uses is in one of the two tables, so a typo in an upstream name
fails a test instead of silently never firing.
"""

from __future__ import annotations

__all__ = ["UPSTREAM_METRICS", "upstream_metric_names"]

# Exporter -> the series the rules read (as the exporter exposes them: counters with `_total`).
UPSTREAM_METRICS: dict[str, tuple[str, ...]] = {
    "node_exporter": (
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "node_filesystem_readonly",
    ),
    "postgres_exporter": (
        "pg_up",
        "pg_stat_activity_count",
        "pg_settings_max_connections",
    ),
    "redis_exporter": (
        "redis_up",
        "redis_memory_used_bytes",
        "redis_memory_max_bytes",
        "redis_evicted_keys_total",
        "redis_keyspace_hits_total",
        "redis_keyspace_misses_total",
    ),
}


def upstream_metric_names() -> frozenset[str]:
    """Every upstream series name the resource rules may use."""
    return frozenset(name for names in UPSTREAM_METRICS.values() for name in names)
