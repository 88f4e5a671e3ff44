"""The per-wedding drill-down: every operation's latency and steps, availability, the critical path, resources."""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.dashboards.builder import SQL, Dashboard, PromQL, Row, Variable
from wedwatch.dashboards.fragments import (
    BURN_UNIT,
    OUTCOME_MAPPINGS,
    availability_steps,
    burn_steps,
    guarantee_share,
    latency_steps,
    stat,
    state_timeline,
    table,
    timeseries,
)
from wedwatch.dashboards.resources import resources_row
from wedwatch.dashboards.targets import named_sql
from wedwatch.rules.names import WEDDING_P95, wedding_availability
from wedwatch.rules.shapes import human_seconds, num

__all__ = ["UID", "dashboard", "WEDDING"]

UID = "wedwatch-wedding"
_SQL = named_sql("wedding")  # the SQL panels' queries, from sql/wedding.sql

WEDDING = Variable(
    name="wedding_id",
    label="Wedding",
    metric="wedwatch_wedding_info",
    description="A tracked wedding (phases week, eve, wedding_day, ceremony, after).",
)

_W = 'wedding_id="$wedding_id"'


def _summary_row(config: Config) -> Row:
    return Row(
        "The wedding",
        (
            stat(
                "Phase",
                "The wedding's phase now; the probe interval follows it.",
                "none",
                PromQL(f"max by (phase) (wedwatch_wedding_info{{{_W}}})", legend="{{phase}}", instant=True),
                options={"textMode": "name", "colorMode": "none"},
            ),
            stat(
                "Ceremony",
                "The ceremony's start (the calendar gives it in the wedding's own time zone).",
                "dateTimeAsIso",
                PromQL(f"max(wedwatch_wedding_ceremony_timestamp_seconds{{{_W}}}) * 1000", instant=True),
                options={"colorMode": "none"},
            ),
            stat(
                "Guests",
                "Guests the calendar expects.",
                "none",
                PromQL(f"max(wedwatch_wedding_guests{{{_W}}})", instant=True),
                options={"colorMode": "none"},
            ),
            stat(
                "Probe interval",
                "Seconds between two probes of each operation in the current phase.",
                "s",
                PromQL(f"max(wedwatch_probe_interval_seconds{{{_W}}})", instant=True),
                options={"colorMode": "none"},
            ),
            stat(
                "Availability (1h), worst operation",
                "Time-weighted availability of the wedding's worst operation over the last hour, coloured at the"
                " seed's availability tiers.",
                "percentunit",
                PromQL(f"min({wedding_availability('1h')}{{{_W}}})", instant=True),
                thresholds=availability_steps(config),
                decimals=2,
            ),
            stat(
                "Alerts firing",
                "Firing alerts that carry this wedding's id.",
                "none",
                PromQL(f'count(ALERTS{{alertstate="firing", {_W}}}) or vector(0)', instant=True),
                thresholds=((None, "green"), (1, "red")),
            ),
        ),
    )


def _operations_row(config: Config) -> Row:
    stall = config.thresholds.stall_intervals
    return Row(
        "Operations",
        (
            timeseries(
                "Last probe duration per operation",
                "Duration of each operation's most recent probe: a step per probe, at the phase's interval.",
                "s",
                PromQL(f"max by (operation) (wedwatch_probe_duration_seconds{{{_W}}})", legend="{{operation}}"),
                thresholds=latency_steps(config),
                custom={"lineInterpolation": "stepAfter"},
            ),
            timeseries(
                "p95 over 10 minutes, as a share of the wedding-day guarantee",
                "The 10-minute p95 of each operation divided by its own guarantee: above 100 % the promise is"
                " broken (alert WedwatchWeddingDaySlow on the wedding's day).",
                "percentunit",
                PromQL(guarantee_share(config, WEDDING_P95, _W), legend="{{operation}}"),
                thresholds=((None, "green"), (1, "red")),
                threshold_lines=True,
            ),
            state_timeline(
                "Probe outcome",
                "Whether each operation's last probe succeeded, over time.",
                "none",
                PromQL(f"min by (operation) (wedwatch_probe_success{{{_W}}})", legend="{{operation}}"),
                mappings=OUTCOME_MAPPINGS,
                thresholds=((None, "red"), (1, "green")),
                width=24,
                height=6,
            ),
            timeseries(
                "Steps of the last probe",
                "connect, ttfb and transfer for HTTP probes; propagation (timeline sync) and delivery (vendor"
                " notification) for the eventually consistent ones.",
                "s",
                PromQL(
                    f"max by (operation, step) (wedwatch_probe_step_duration_seconds{{{_W}}})",
                    legend="{{operation}} {{step}}",
                ),
                custom={"lineInterpolation": "stepAfter"},
            ),
            table(
                "Steps of the last probe, now",
                "Operation by step: where the time of the latest probe went.",
                "s",
                PromQL(
                    f"max by (operation, step) (wedwatch_probe_step_duration_seconds{{{_W}}})",
                    instant=True,
                    format="table",
                ),
                width=12,
                transformations=(
                    {
                        "id": "groupingToMatrix",
                        "options": {"columnField": "step", "rowField": "operation", "valueField": "Value"},
                    },
                ),
            ),
            timeseries(
                "Age of the last probe",
                f"Seconds since each operation's last probe ended, against {num(stall)} probe intervals (alert"
                " WedwatchProbesStalled).",
                "s",
                PromQL(f"time() - max by (operation) (wedwatch_probe_timestamp_seconds{{{_W}}})", legend="{{operation}}"),
                PromQL(f"{num(stall)} * max(wedwatch_probe_interval_seconds{{{_W}}})", legend="stall threshold"),
            ),
            timeseries(
                "Availability budget burn rate",
                "(1 - time-weighted availability) / the availability budget, over 5 and 30 minutes; on the"
                " wedding's day 14.4x (5m) and 6x (30m) page (WedwatchWeddingAvailabilityBudgetBurn).",
                BURN_UNIT,
                *(
                    PromQL(
                        f"(1 - {wedding_availability(w)}{{{_W}}}) / {num(1 - config.thresholds.wedding_day.availability)}",
                        legend=f"{{{{operation}}}} {w}",
                    )
                    for w in ("5m", "30m")
                ),
                thresholds=burn_steps(),
                threshold_lines=True,
                min=0,
            ),
        ),
    )


def _critical_path_row(config: Config) -> Row:
    lag = config.thresholds.checkin_lag_ratio
    delay = config.thresholds.milestone_delay_seconds
    return Row(
        "Critical path",
        (
            timeseries(
                "Guests checked in",
                "Checked-in guests over expected, against a linear ramp from 0 two hours before the ceremony to"
                f" 100 % at it; more than {num(lag * 100)} points behind raises WedwatchCheckinLagging.",
                "percentunit",
                PromQL(f"max(wedwatch_guests_checked_in_ratio{{{_W}}})", legend="checked in"),
                PromQL(
                    f"clamp(1 - (max(wedwatch_wedding_ceremony_timestamp_seconds{{{_W}}}) - time()) / 7200, 0, 1)",
                    legend="expected",
                ),
                width=8,
                min=0,
                max=1,
            ),
            timeseries(
                "Next milestone delay",
                f"How late the next timeline milestone is; above {human_seconds(delay)} in the ceremony window"
                " raises WedwatchMilestoneDelayed.",
                "s",
                PromQL(f"max(wedwatch_timeline_delay_seconds{{{_W}}})", legend="delay"),
                width=8,
                thresholds=((None, "green"), (delay, "red")),
                threshold_lines=True,
            ),
            timeseries(
                "Vendors confirmed",
                "Vendors confirmed over vendors booked.",
                "percentunit",
                PromQL(f"max(wedwatch_vendors_confirmed_ratio{{{_W}}})", legend="confirmed"),
                width=8,
                min=0,
                max=1,
            ),
            timeseries(
                "Open platform incidents (store)",
                "Open incidents on the platform for this wedding and their response time, sampled once a minute"
                " by the exporter into critical_path_metrics.",
                "none",
                SQL(
                    _SQL["open_platform_incidents"],
                    format="time_series",
                ),
                overrides=(
                    {
                        "matcher": {"id": "byName", "options": "response time"},
                        "properties": [{"id": "unit", "value": "s"}, {"id": "custom.axisPlacement", "value": "right"}],
                    },
                ),
            ),
            timeseries(
                "Mean probe duration per operation (store)",
                "From the store's 5-minute aggregates (wedding_performance_metrics), which hold a wedding's own rows"
                " while it is tracked (a week before its ceremony to a week after): kept after Prometheus'"
                " retention has dropped the wedding.",
                "s",
                SQL(
                    _SQL["mean_probe_duration_per_operation"],
                    format="time_series",
                ),
            ),
            table(
                "Incidents and responses for this wedding",
                "Alerts about this wedding as the receiver recorded them, with the strategy chosen and how long"
                " the incident took to resolve after the first action completed.",
                "short",
                SQL(_SQL["incidents_and_responses"]),
                overrides=(
                    {"matcher": {"id": "byName", "options": "resolution_seconds"},
                     "properties": [{"id": "unit", "value": "s"}]},
                ),  # fmt: skip
            ),
        ),
    )


def dashboard(config: Config) -> Dashboard:
    """The per-wedding drill-down, for the wedding chosen in `$wedding_id`."""
    return Dashboard(
        uid=UID,
        title="wedwatch / Wedding",
        description="One wedding in detail: its phase, every operation's latency, steps and availability against"
        " the wedding-day guarantees, the day's critical path, the incidents the receiver handled, and the"
        " platform's database, cache and hosts against the resource alerts' thresholds.",
        rows=(_summary_row(config), _operations_row(config), _critical_path_row(config), resources_row(config, _W)),
        variables=(WEDDING,),
        time_from="now-6h",
    )

