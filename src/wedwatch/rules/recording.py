"""Recording rules for the SLIs: latency, error ratio and availability, per operation and per wedding.

Two availabilities, on purpose:

* Per operation and tier, availability is the probe-count ratio (successful probes / probes) from
  the counters. It weighs every probe equally, which is what the aggregate across weddings needs,
  and it equals 1 - error ratio over the same window.
* Per wedding there are no counters, only last-probe gauges, so availability is time-weighted:
  avg_over_time(wedwatch_probe_success[w]), the fraction of the window during which the last probe
  had succeeded. That is what a couple experiences. The two differ because probe frequency varies
  by phase (10 s in the ceremony, 15 min far out): counts over-weight the densely probed weddings,
  time does not.

Every aggregation names the labels it keeps (`sum by (operation, tier)`, `min by (wedding_id,
operation)`), so `instance`/`job` vanish and the rules work unchanged with several exporter shards.
"""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.rules.burnrate import BURN_WINDOWS
from wedwatch.rules.names import (
    AVAILABILITY_WINDOW,
    OPERATION_P95,
    SEED_RATE_WINDOW,
    WEDDING_P95,
    WEDDING_QUANTILE_WINDOW,
    operation_error_ratio,
    operation_success_ratio,
    wedding_availability,
    window_seconds,
)
from wedwatch.rules.shapes import RecordingRule, RuleGroup

__all__ = ["recording_groups", "ratio_windows"]


def ratio_windows() -> list[str]:
    """Windows the error-ratio and availability rules are recorded for, shortest first."""
    windows = {SEED_RATE_WINDOW, AVAILABILITY_WINDOW}
    for w in BURN_WINDOWS:
        windows.update((w.long, w.short))
    return sorted(windows, key=window_seconds)


def _operation_error_ratio(window: str) -> str:
    # Failure counters appear per reason only once a probe failed; `or 0 * probes` turns
    # "no failures yet" into an explicit 0 instead of a missing series.
    return (
        "(\n"
        f"  sum by (operation, tier) (rate(wedwatch_operation_failures_total[{window}]))\n"
        "  or\n"
        f"  0 * sum by (operation, tier) (rate(wedwatch_operation_probes_total[{window}]))\n"
        ")\n"
        "/\n"
        f"sum by (operation, tier) (rate(wedwatch_operation_probes_total[{window}]))"
    )


def recording_groups(config: Config) -> list[RuleGroup]:
    """The SLI recording rule groups (they depend on no threshold, only on the windows)."""
    del config  # Same for every config: thresholds live in the alerts, windows are fixed.
    windows = ratio_windows()
    operation_rules: list[RecordingRule] = [
        {
            "record": OPERATION_P95,
            "expr": (
                "histogram_quantile(\n  0.95,\n  sum by (operation, tier, le) "
                f"(rate(wedwatch_operation_duration_seconds_bucket[{SEED_RATE_WINDOW}]))\n)"
            ),
        }
    ]
    operation_rules += [{"record": operation_error_ratio(w), "expr": _operation_error_ratio(w)} for w in windows]
    # Evaluated after the error ratio in the same group, so it reads this evaluation's value.
    operation_rules.append(
        {
            "record": operation_success_ratio(AVAILABILITY_WINDOW),
            "expr": f"1 - {operation_error_ratio(AVAILABILITY_WINDOW)}",
        }
    )
    wedding_rules: list[RecordingRule] = [
        {
            # max across shards: during a re-shard two exporters may briefly report one wedding.
            "record": WEDDING_P95,
            "expr": (
                "max by (wedding_id, operation) (\n"
                f"  quantile_over_time(0.95, wedwatch_probe_duration_seconds[{WEDDING_QUANTILE_WINDOW}])\n)"
            ),
        }
    ]
    # min across shards: the pessimistic view; a failure reported anywhere counts.
    wedding_rules += [
        {
            "record": wedding_availability(w),
            "expr": f"min by (wedding_id, operation) (\n  avg_over_time(wedwatch_probe_success[{w}])\n)",
        }
        for w in windows
    ]
    return [
        {"name": "wedwatch.sli.operations", "rules": list(operation_rules)},
        {"name": "wedwatch.sli.weddings", "rules": list(wedding_rules)},
    ]
