"""The on-call overview: weddings live now and next, wedding-day guarantees and budgets, firing alerts."""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.dashboards.builder import SQL, Dashboard, Panel, PromQL, Row
from wedwatch.dashboards.fragments import (
    BURN_UNIT,
    ON_ITS_DAY,
    ON_OFF_MAPPINGS,
    bargauge,
    budget_steps,
    burn_steps,
    guarantee_seconds,
    rename,
    stat,
    table,
    timeseries,
)
from wedwatch.dashboards.targets import named_sql
from wedwatch.rules.names import OPERATION_P95, operation_error_ratio
from wedwatch.rules.shapes import human_seconds, num

__all__ = ["UID", "dashboard"]

UID = "wedwatch-oncall"
_SQL = named_sql("oncall")  # the SQL panels' queries, from sql/oncall.sql

# The next ceremonies among the tracked weddings that are not over: `after` weddings are past.
# bottomk keeps the table to what fits on a screen, nearest ceremony first.
_NEXT = (
    "bottomk(20, max by (wedding_id) (wedwatch_wedding_ceremony_timestamp_seconds"
    ' and on (wedding_id) wedwatch_wedding_info{phase!="after"}))'
)


def _now_row() -> Row:
    return Row(
        "Now",
        (
            stat(
                "Weddings live",
                "Weddings in phase ceremony or wedding_day: the receiver raises every alert about them one"
                " severity level.",
                "none",
                PromQL('sum(wedwatch_weddings{phase=~"ceremony|wedding_day"}) or vector(0)', instant=True),
                thresholds=((None, "blue"),),
            ),
            stat(
                "In the ceremony window",
                "Weddings between two hours before and six hours after their ceremony, probed every 10 s.",
                "none",
                PromQL('sum(wedwatch_weddings{phase="ceremony"}) or vector(0)', instant=True),
                thresholds=((None, "blue"),),
            ),
            stat(
                "Emergency mode",
                "The receiver's emergency mode: scaled to the upper bounds and on-call paged while a critical"
                " alert about a live wedding fires, plus the hold time. No data: the receiver is not scraped.",
                "none",
                PromQL("max(wedwatch_emergency_mode)", instant=True),
                mappings=ON_OFF_MAPPINGS,
                thresholds=((None, "green"), (1, "red")),
            ),
            stat(
                "Critical alerts firing",
                "Firing alerts with severity critical (before the receiver's escalation for live weddings).",
                "none",
                PromQL('count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)', instant=True),
                thresholds=((None, "green"), (1, "red")),
            ),
            stat(
                "Alerts firing",
                "All firing alerts in this Prometheus, any severity.",
                "none",
                PromQL('count(ALERTS{alertstate="firing"}) or vector(0)', instant=True),
                thresholds=((None, "green"), (1, "orange")),
            ),
            stat(
                "Scrape targets down",
                "Targets this Prometheus cannot scrape. A down exporter silences every per-wedding alert:"
                " its series go stale.",
                "none",
                PromQL("count(up == 0) or vector(0)", instant=True),
                thresholds=((None, "green"), (1, "red")),
            ),
        ),
    )


def _weddings_row() -> Row:
    only_next = f"and on (wedding_id) {_NEXT}"
    return Row(
        "Weddings now and next",
        (
            table(
                "Live and next weddings",
                "The 20 nearest ceremonies among tracked weddings that are not over, with their phase, guests,"
                " probe interval and worst operation's time-weighted availability over the last hour.",
                "short",
                # Ceremony in milliseconds: Grafana's date units expect them.
                PromQL(
                    f"max by (wedding_id, phase, tier) (wedwatch_wedding_info) * on (wedding_id) group_left {_NEXT}"
                    " * 1000",
                    instant=True,
                    format="table",
                ),
                PromQL(f"max by (wedding_id) (wedwatch_wedding_guests) {only_next}", instant=True, format="table"),
                PromQL(
                    f"max by (wedding_id) (wedwatch_probe_interval_seconds) {only_next}", instant=True, format="table"
                ),
                PromQL(
                    "min by (wedding_id) (wedding_id_operation:wedwatch_probe_success:avg1h)" f" {only_next}",
                    instant=True,
                    format="table",
                ),
                height=9,
                transformations=(
                    {"id": "merge", "options": {}},
                    rename(
                        {
                            "wedding_id": "Wedding",
                            "phase": "Phase",
                            "tier": "Tier",
                            "Value #A": "Ceremony",
                            "Value #B": "Guests",
                            "Value #C": "Probe interval",
                            "Value #D": "Availability (1h)",
                        }
                    ),
                    {"id": "sortBy", "options": {"sort": [{"field": "Ceremony"}]}},
                ),
                overrides=(
                    _unit("Ceremony", "dateTimeAsIso"),
                    _unit("Probe interval", "s"),
                    _unit("Guests", "none"),
                    _unit("Availability (1h)", "percentunit"),
                ),
            ),
        ),
    )


def _unit(field: str, unit: str) -> dict[str, object]:
    return {"matcher": {"id": "byName", "options": field}, "properties": [{"id": "unit", "value": unit}]}


def _guarantees_row(config: Config) -> Row:
    g = config.thresholds.wedding_day
    budget = num(g.error_ratio)
    panels: list[Panel] = []
    for operation, seconds in guarantee_seconds(config).items():
        panels.append(
            stat(
                f"p95 {operation}",
                f"95th percentile of {operation} probes of weddings on their day over 5 minutes; the"
                f" wedding-day guarantee is {human_seconds(seconds)} (alert WedwatchWeddingDayOperationSlow)."
                " Empty when no wedding is on its day.",
                "s",
                PromQL(f'max({OPERATION_P95}{{tier="wedding_day", operation="{operation}"}})', instant=True),
                thresholds=((None, "green"), (seconds, "red")),
            )
        )
    window = "1d"
    failures = f'sum by (operation) (increase(wedwatch_operation_failures_total{{tier="wedding_day"}}[{window}]))'
    probes = f'sum by (operation) (increase(wedwatch_operation_probes_total{{tier="wedding_day"}}[{window}]))'
    panels += [
        bargauge(
            "Error budget left today, per operation",
            f"1 - (failed / all probes in tier wedding_day over the last 24 h) / {budget}: the share of the"
            f" one-day error budget ({num(g.error_ratio * 100)} % of probes) still unspent. Below 0 the day's"
            " budget is overspent by that many budgets.",
            "percentunit",
            # `or 0 * probes`: an operation that never failed has no failure series, and reads 1.
            PromQL(f"1 - (({failures} or 0 * {probes}) / {probes}) / {budget}", legend="{{operation}}"),
            min=0,
            max=1,
            thresholds=budget_steps(),
        ),
        bargauge(
            "Availability budget left today, per wedding on its day",
            "1 - (1 - time-weighted availability of the worst operation over the last 24 h) /"
            f" {num(1 - g.availability)}: the share of the {num(g.availability * 100)} % availability"
            " budget still unspent, for each wedding on its day.",
            "percentunit",
            PromQL(
                f"(1 - (1 - min by (wedding_id) (avg_over_time(wedwatch_probe_success[{window}]))) /"
                f" {num(1 - g.availability)}) {ON_ITS_DAY}",
                legend="{{wedding_id}}",
            ),
            min=0,
            max=1,
            thresholds=budget_steps(),
        ),
        timeseries(
            "Error budget burn rate (5m), tier wedding_day",
            f"Error ratio over 5 minutes / {budget}. Pages at 14.4x (with the 1m window) and at 6x over 30m"
            " (with 5m): docs/rules.md has the arithmetic for a one-day budget.",
            BURN_UNIT,
            PromQL(f'{operation_error_ratio("5m")}{{tier="wedding_day"}} / {budget}', legend="{{operation}}"),
            width=24,
            thresholds=burn_steps(),
            threshold_lines=True,
            min=0,
        ),
    ]
    return Row("Wedding-day guarantees", tuple(panels))


def _alerts_row() -> Row:
    labels = "alertname, severity, wedding_id, operation, tier"
    return Row(
        "Alerts",
        (
            table(
                "Firing alerts",
                "Every firing alert with the time it became active (ALERTS_FOR_STATE), newest first.",
                "short",
                PromQL(
                    f"max by ({labels}) (ALERTS_FOR_STATE and ignoring (alertstate) ALERTS{{alertstate=\"firing\"}})"
                    " * 1000",
                    instant=True,
                    format="table",
                ),
                width=14,
                height=9,
                transformations=(
                    rename(
                        {
                            "alertname": "Alert",
                            "severity": "Severity",
                            "wedding_id": "Wedding",
                            "operation": "Operation",
                            "tier": "Tier",
                            "Value": "Active since",
                        }
                    ),
                    {"id": "sortBy", "options": {"sort": [{"desc": True, "field": "Active since"}]}},
                ),
                overrides=(_unit("Active since", "dateTimeFromNow"),),
            ),
            timeseries(
                "Firing alerts by severity",
                "Alerts firing per severity over time.",
                "none",
                PromQL('count by (severity) (ALERTS{alertstate="firing"})', legend="{{severity}}"),
                width=10,
                height=9,
                custom={"drawStyle": "line", "fillOpacity": 20, "stacking": {"group": "A", "mode": "normal"}},
            ),
            table(
                "Open incidents (receiver)",
                "Incidents the receiver holds as firing, with the severity after escalation and the strategy it"
                " chose: what automation is doing about them.",
                "short",
                SQL(_SQL["open_incidents"]),
                height=8,
            ),
        ),
    )


def dashboard(config: Config) -> Dashboard:
    """The on-call overview."""
    return Dashboard(
        uid=UID,
        title="wedwatch / On call",
        description="What needs attention now: live weddings, the wedding-day guarantees and their budgets,"
        " firing alerts and what the receiver is doing about them.",
        rows=(_now_row(), _weddings_row(), _guarantees_row(config), _alerts_row()),
        time_from="now-3h",
        refresh="15s",
    )
