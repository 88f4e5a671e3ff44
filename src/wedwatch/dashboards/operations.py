"""Operations and SLOs: latency heatmaps from the histogram, error ratios, availability and burn rates."""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.dashboards.builder import Dashboard, PromQL, Row, Variable
from wedwatch.dashboards.fragments import (
    BURN_UNIT,
    ON_ITS_DAY,
    availability_steps,
    burn_steps,
    error_steps,
    guarantee_share,
    heatmap,
    latency_steps,
    stat,
    timeseries,
)
from wedwatch.rules import BURN_WINDOWS
from wedwatch.rules.names import (
    OPERATION_P95,
    operation_error_ratio,
    operation_success_ratio,
    wedding_availability,
    window_seconds,
)
from wedwatch.rules.shapes import num

__all__ = ["UID", "dashboard", "OPERATION", "TIER"]

UID = "wedwatch-operations"

OPERATION = Variable(
    name="operation",
    label="Operation",
    metric="wedwatch_operation_probes_total",
    description="Probe operations (guest_list, photo_upload, ...).",
    multi=True,
    include_all=True,
    all_value=".+",
)
TIER = Variable(
    name="tier",
    label="Tier",
    metric="wedwatch_operation_probes_total",
    description="wedding_day: weddings in phases wedding_day and ceremony; standard: all others.",
    multi=True,
    include_all=True,
    all_value=".+",
)

_SEL = 'operation=~"$operation", tier=~"$tier"'
_BUCKETS = f"wedwatch_operation_duration_seconds_bucket{{{_SEL}}}"


def _latency_row(config: Config) -> Row:
    t = config.thresholds
    return Row(
        "Latency",
        (
            heatmap(
                "Probe duration distribution",
                "Probes per duration bucket of wedwatch_operation_duration_seconds for the chosen operations and"
                " tiers: a second band appearing above the usual one is a slow path the p95 may still hide.",
                "s",
                PromQL(f"sum by (le) (increase({_BUCKETS}[$__rate_interval]))", legend="{{le}}", format="heatmap"),
                width=24,
                height=9,
            ),
            timeseries(
                "p95 per operation and tier (5m)",
                f"The recording rule {OPERATION_P95}; the lines are the seed's tiers: medium"
                f" {num(t.medium.p95_seconds)} s, high {num(t.high.p95_seconds)} s, critical"
                f" {num(t.critical.p95_seconds)} s (WedwatchOperationSlow).",
                "s",
                PromQL(f"{OPERATION_P95}{{{_SEL}}}", legend="{{operation}} {{tier}}"),
                thresholds=latency_steps(config),
                threshold_lines=True,
            ),
            timeseries(
                "p50, p90, p99 of the chosen operations",
                "Quantiles over all chosen operations and tiers together, from the histogram's buckets"
                " (interpolated within a bucket).",
                "s",
                *(
                    PromQL(
                        f"histogram_quantile({q}, sum by (le) (rate({_BUCKETS}[$__rate_interval])))",
                        legend=f"p{int(q * 100)}",
                    )
                    for q in (0.5, 0.9, 0.99)
                ),
            ),
            timeseries(
                "p95 as a share of the wedding-day guarantee (tier wedding_day)",
                "The 5-minute p95 in tier wedding_day divided by each operation's guarantee: above 100 % raises"
                " WedwatchWeddingDayOperationSlow.",
                "percentunit",
                PromQL(
                    guarantee_share(config, OPERATION_P95, 'tier="wedding_day", operation=~"$operation"'),
                    legend="{{operation}}",
                ),
                width=24,
                thresholds=((None, "green"), (1, "red")),
                threshold_lines=True,
            ),
        ),
    )


def _errors_row(config: Config) -> Row:
    t = config.thresholds
    return Row(
        "Errors and availability",
        (
            timeseries(
                "Error ratio (5m)",
                "Failed over all probes per operation and tier; the lines are the seed's tiers: medium"
                f" {num(t.medium.error_ratio * 100)} %, high {num(t.high.error_ratio * 100)} %, critical"
                f" {num(t.critical.error_ratio * 100)} % (WedwatchOperationErrors).",
                "percentunit",
                PromQL(f"{operation_error_ratio('5m')}{{{_SEL}}}", legend="{{operation}} {{tier}}"),
                thresholds=error_steps(config),
                threshold_lines=True,
                min=0,
            ),
            timeseries(
                "Failures by reason",
                "Failed probes per second by operation and reason (timeout, connect, http_status, assertion,"
                " other).",
                "ops",
                PromQL(
                    "sum by (operation, reason) (rate(wedwatch_operation_failures_total"
                    f"{{{_SEL}}}[$__rate_interval]))",
                    legend="{{operation}} {{reason}}",
                ),
                custom={"drawStyle": "bars", "fillOpacity": 60, "stacking": {"group": "A", "mode": "normal"}},
            ),
            timeseries(
                "Availability (1h, probe count)",
                "Successful over all probes per operation and tier over the last hour; coloured at the seed's"
                " tiers (WedwatchOperationUnavailable).",
                "percentunit",
                PromQL(f"{operation_success_ratio('1h')}{{{_SEL}}}", legend="{{operation}} {{tier}}"),
                thresholds=availability_steps(config),
                threshold_lines=True,
                decimals=2,
            ),
            timeseries(
                "Probes per second",
                "How often each operation is probed; it follows the calendar (10 s per operation in a"
                " ceremony, 15 min when months away).",
                "ops",
                PromQL(
                    f"sum by (operation, tier) (rate(wedwatch_operation_probes_total{{{_SEL}}}[$__rate_interval]))",
                    legend="{{operation}} {{tier}}",
                ),
            ),
        ),
    )


def _burn_row(config: Config) -> Row:
    g = config.thresholds.wedding_day
    windows = sorted({w for b in BURN_WINDOWS for w in (b.long, b.short)}, key=window_seconds)
    return Row(
        "Wedding-day budgets",
        (
            timeseries(
                "Error budget burn rate, tier wedding_day",
                f"Error ratio / {num(g.error_ratio)} over each burn-rate window. Critical pages at"
                " 14.4x over 5m and 1m, high at 6x over 30m and 5m (WedwatchWeddingDayErrorBudgetBurn).",
                BURN_UNIT,
                *(
                    PromQL(
                        f'{operation_error_ratio(w)}{{tier="wedding_day", operation=~"$operation"}} / {num(g.error_ratio)}',
                        legend=f"{{{{operation}}}} {w}",
                    )
                    for w in windows
                ),
                thresholds=burn_steps(),
                threshold_lines=True,
                min=0,
            ),
            timeseries(
                "Availability budget burn rate (5m), weddings on their day",
                f"(1 - time-weighted availability over 5m) / {num(1 - g.availability)} for each wedding on its"
                " day, worst operation (WedwatchWeddingAvailabilityBudgetBurn).",
                BURN_UNIT,
                PromQL(
                    f"max by (wedding_id) ((1 - {wedding_availability('5m')}{{operation=~\"$operation\"}})"
                    f" / {num(1 - g.availability)} {ON_ITS_DAY})",
                    legend="{{wedding_id}}",
                ),
                thresholds=burn_steps(),
                threshold_lines=True,
                min=0,
            ),
        ),
    )


def _exporter_row() -> Row:
    return Row(
        "Exporter",
        (
            timeseries(
                "Weddings per phase",
                "All weddings in the calendar by phase, tracked or not.",
                "none",
                PromQL("sum by (phase) (wedwatch_weddings)", legend="{{phase}}"),
                width=10,
                custom={"fillOpacity": 30, "stacking": {"group": "A", "mode": "normal"}},
            ),
            timeseries(
                "Scheduler lag (p99)",
                "How late probes start against their schedule: growing lag means the exporter cannot keep up"
                " (raise max_concurrency or add a shard).",
                "s",
                PromQL(
                    "histogram_quantile(0.99, sum by (le) (rate(wedwatch_exporter_scheduler_lag_seconds_bucket"
                    "[$__rate_interval])))",
                    legend="p99",
                ),
                width=10,
            ),
            stat(
                "Config reloads failing",
                "1 when an exporter's last configuration reload failed: it keeps running the previous"
                " configuration. No data: no exporter is scraped.",
                "none",
                PromQL("max(1 - wedwatch_exporter_config_last_reload_successful)", instant=True),
                mappings=(
                    {"options": {"0": {"color": "green", "index": 0, "text": "ok"},
                                 "1": {"color": "red", "index": 1, "text": "failing"}},
                     "type": "value"},
                ),  # fmt: skip
                thresholds=((None, "green"), (1, "red")),
            ),
        ),
    )


def dashboard(config: Config) -> Dashboard:
    """Operations and SLOs, for the operations and tiers chosen in `$operation` and `$tier`."""
    return Dashboard(
        uid=UID,
        title="wedwatch / Operations and SLOs",
        description="Every probe operation across all weddings: latency distribution and quantiles against the"
        " seed's tiers and the wedding-day guarantees, errors, availability and the one-day budgets' burn rates.",
        rows=(_latency_row(config), _errors_row(config), _burn_row(config), _exporter_row()),
        variables=(OPERATION, TIER),
    )
