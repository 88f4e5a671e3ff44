"""The exporter's metric contract (DESIGN.md section 2): names, types, labels, help and buckets.

Rules, dashboards and the exporter's collector all read this table, so a rename that would
orphan an alert or a panel fails a test instead of a Saturday.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MetricSpec", "METRICS", "DURATION_BUCKETS", "LAG_BUCKETS", "FAILURE_REASONS", "STEPS", "metric_names"]

# Seconds. Includes the contract's 0.05 0.1 0.25 0.5 1 2 3 5 10, plus points that let
# histogram_quantile resolve the wedding-day guarantees (timeline sync < 100 ms).
DURATION_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 3, 5, 10, 20, 30)
LAG_BUCKETS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
FAILURE_REASONS: tuple[str, ...] = ("timeout", "connect", "http_status", "assertion", "other")
STEPS: tuple[str, ...] = ("connect", "tls", "ttfb", "transfer", "propagation", "delivery")


@dataclass(frozen=True)
class MetricSpec:
    """One metric family the exporter exposes."""

    name: str
    type: Literal["gauge", "counter", "histogram"]
    labels: tuple[str, ...]
    help: str
    buckets: tuple[float, ...] = ()


_W = ("wedding_id",)
_WO = ("wedding_id", "operation")

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("wedwatch_probe_success", "gauge", _WO, "Whether the last probe of the operation succeeded (tracked weddings)."),
    MetricSpec("wedwatch_probe_duration_seconds", "gauge", _WO, "Duration of the last probe (tracked weddings)."),
    MetricSpec(
        "wedwatch_probe_step_duration_seconds",
        "gauge",
        (*_WO, "step"),
        "Duration of one step of the last probe: connect, tls, ttfb, transfer, propagation, delivery.",
    ),
    MetricSpec(
        "wedwatch_probe_step_success",
        "gauge",
        (*_WO, "step"),
        "Whether one step of the last probe passed (tracked weddings).",
    ),
    MetricSpec("wedwatch_probe_timestamp_seconds", "gauge", _WO, "Unix time the last probe ended (tracked weddings)."),
    MetricSpec(
        "wedwatch_operation_duration_seconds",
        "histogram",
        ("operation", "tier"),
        "Probe durations per operation and tier.",
        DURATION_BUCKETS,
    ),
    MetricSpec("wedwatch_operation_probes_total", "counter", ("operation", "tier"), "Probes run per operation and tier."),
    MetricSpec(
        "wedwatch_operation_failures_total",
        "counter",
        ("operation", "tier", "reason"),
        "Failed probes per operation, tier and reason.",
    ),
    MetricSpec("wedwatch_wedding_info", "gauge", ("wedding_id", "phase", "tier"), "Phase and tier of each tracked wedding."),
    MetricSpec("wedwatch_wedding_ceremony_timestamp_seconds", "gauge", _W, "Unix time of the ceremony."),
    MetricSpec("wedwatch_wedding_guests", "gauge", _W, "Guests the calendar expects."),
    MetricSpec("wedwatch_probe_interval_seconds", "gauge", _W, "Current probe interval of the wedding."),
    MetricSpec("wedwatch_weddings", "gauge", ("phase",), "Weddings per phase (all weddings, tracked or not)."),
    MetricSpec("wedwatch_guests_checked_in_ratio", "gauge", _W, "Guests checked in over guests expected."),
    MetricSpec("wedwatch_timeline_delay_seconds", "gauge", _W, "Delay of the next timeline milestone."),
    MetricSpec("wedwatch_vendors_confirmed_ratio", "gauge", _W, "Vendors confirmed over vendors booked."),
    MetricSpec(
        "wedwatch_exporter_config_last_reload_successful", "gauge", (), "Whether the last configuration reload succeeded."
    ),
    MetricSpec(
        "wedwatch_exporter_scheduler_lag_seconds",
        "histogram",
        (),
        "How late probes started against their schedule.",
        LAG_BUCKETS,
    ),
)


def metric_names() -> frozenset[str]:
    """Every series name the contract can produce, including histogram and counter suffixes."""
    names: set[str] = set()
    for spec in METRICS:
        names.add(spec.name)
        if spec.type == "histogram":
            names.update(f"{spec.name}{s}" for s in ("_bucket", "_sum", "_count"))
    return frozenset(names)
