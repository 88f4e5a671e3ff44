"""Names of the recording rules and the windows they cover, shared by every rule module.

Prometheus' convention is `level:metric:operations`: `level` lists the labels kept by the
aggregation, `metric` is the source (counters lose `_total` under rate), `operations` the
functions applied, newest first.
"""

from __future__ import annotations

__all__ = [
    "SEED_RATE_WINDOW",
    "AVAILABILITY_WINDOW",
    "WEDDING_QUANTILE_WINDOW",
    "OPERATION_P95",
    "WEDDING_P95",
    "operation_error_ratio",
    "operation_success_ratio",
    "wedding_availability",
    "window_seconds",
]

# The seed's response-time and error-rate tiers look at the last 5 minutes: long enough for
# several probes even in the 60 s `week` phase, short enough to page while a ceremony runs.
SEED_RATE_WINDOW = "5m"
# Availability is a longer-run property than the error rate: the seed tiers judge it per hour.
AVAILABILITY_WINDOW = "1h"
# The per-wedding gauges hold only the last probe; 10 minutes hold 40-60 probes on the day.
WEDDING_QUANTILE_WINDOW = "10m"

OPERATION_P95 = f"operation_tier:wedwatch_operation_duration_seconds:p95_rate{SEED_RATE_WINDOW}"
WEDDING_P95 = f"wedding_id_operation:wedwatch_probe_duration_seconds:p95_{WEDDING_QUANTILE_WINDOW}"


def operation_error_ratio(window: str) -> str:
    """Failed probes over all probes per operation and tier, over `window`."""
    return f"operation_tier:wedwatch_operation_failures:ratio_rate{window}"


def operation_success_ratio(window: str) -> str:
    """Probe-count availability (successful probes over all probes) per operation and tier."""
    return f"operation_tier:wedwatch_operation_probes:success_ratio_rate{window}"


def wedding_availability(window: str) -> str:
    """Time-weighted probe success of one wedding's operation over `window`."""
    return f"wedding_id_operation:wedwatch_probe_success:avg{window}"


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window_seconds(window: str) -> int:
    """A simple Prometheus duration (`30s`, `5m`, `1h`, `1d`) in seconds."""
    return int(window[:-1]) * _UNIT_SECONDS[window[-1]]
