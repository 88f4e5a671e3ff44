"""The receiver's metric contract (DESIGN.md section 4), beside the exporter's.

Dashboards and tests read this table; the receiver's collector renders exactly these names.
"""

from __future__ import annotations

from wedwatch.exporter.contract import MetricSpec

__all__ = ["RECEIVER_METRICS", "RESOLUTION_BUCKETS", "receiver_metric_names"]

# Seconds from the first completed action to the alert's end: a minute to a few hours.
RESOLUTION_BUCKETS: tuple[float, ...] = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)

RECEIVER_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "wedwatch_receiver_notifications_total",
        "counter",
        ("outcome",),
        "Webhook notifications received, by outcome (accepted, duplicate, bad_request, unauthorized, too_large, unavailable).",
    ),
    MetricSpec(
        "wedwatch_receiver_alerts_total",
        "counter",
        ("status", "severity"),
        "Alerts received in new notifications, by their own status and final (escalated) severity.",
    ),
    MetricSpec(
        "wedwatch_actions_total",
        "counter",
        ("action", "outcome"),
        "Actions finished, by action and outcome (succeeded, failed, skipped, dry_run).",
    ),
    MetricSpec("wedwatch_emergency_mode", "gauge", (), "1 while emergency mode is on."),
    MetricSpec(
        "wedwatch_receiver_ingest_waiting",
        "gauge",
        (),
        "Notifications waiting for the store (a live wedding's are let in first: receiver/admission.py).",
    ),
    MetricSpec(
        "wedwatch_response_resolution_seconds",
        "histogram",
        ("strategy",),
        "Time from a response's first completed action to the alert's end.",
        RESOLUTION_BUCKETS,
    ),
    MetricSpec(
        "wedwatch_capacity_target",
        "gauge",
        ("resource",),
        "What the platform should run now per resource (instances, db_connections, cache_mb): the largest of the "
        "emergency bounds, the pre-ceremony plan in force and the current hour's forecast, within the bounds.",
    ),
    MetricSpec(
        "wedwatch_capacity_target_reason",
        "gauge",
        ("resource", "reason"),
        "1 for the reason whose value won the capacity target (emergency, plan, forecast, minimum), else 0.",
    ),
    MetricSpec(
        "wedwatch_forecast",
        "gauge",
        ("series", "bound"),
        "Latest forecast for the next hour per series; bound is yhat, lower or upper.",
    ),
    MetricSpec(
        "wedwatch_store_pruned_rows_total",
        "counter",
        ("table",),
        "Rows this receiver removed from each store table past its retention (store.retention).",
    ),
    MetricSpec(
        "wedwatch_store_prune_runs_total",
        "counter",
        ("outcome",),
        "Pruning passes this receiver started, by outcome (completed, skipped: another replica held the lease, failed).",
    ),
    MetricSpec(
        "wedwatch_store_prune_last_completed_timestamp_seconds",
        "gauge",
        (),
        "When this receiver last completed a pruning pass (Unix time; 0: never).",
    ),
    MetricSpec(
        "wedwatch_store_prune_last_duration_seconds",
        "gauge",
        (),
        "How long this receiver's last completed pruning pass took.",
    ),
)


def receiver_metric_names() -> frozenset[str]:
    """Every series name the receiver can produce, including histogram suffixes."""
    names: set[str] = set()
    for spec in RECEIVER_METRICS:
        names.add(spec.name)
        if spec.type == "histogram":
            names.update(f"{spec.name}{s}" for s in ("_bucket", "_sum", "_count"))
    return frozenset(names)
