"""Automation: what the receiver received, decided and did, and how well it worked.

Counters from the receiver's /metrics show rates; the store (degradation_responses, action_outbox,
performance_alerts) holds every decision and action, so its panels answer "what happened to this one".
"""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.dashboards.builder import SQL, Dashboard, Json, PromQL, Row
from wedwatch.dashboards.fragments import ON_OFF_MAPPINGS, bargauge, stat, table, timeseries
from wedwatch.dashboards.targets import named_sql

__all__ = ["UID", "dashboard"]

UID = "wedwatch-automation"
_SQL = named_sql("automation")  # the SQL panels' queries, from sql/automation.sql

_STACKED: Json = {"drawStyle": "bars", "fillOpacity": 60, "stacking": {"group": "A", "mode": "normal"}}


def _seconds(*fields: str) -> tuple[Json, ...]:
    return tuple(
        {"matcher": {"id": "byName", "options": f}, "properties": [{"id": "unit", "value": "s"}]} for f in fields
    )


def _receiver_row() -> Row:
    return Row(
        "Receiver",
        (
            stat(
                "Emergency mode",
                "On while a critical alert about a live wedding fires, and for the hold time after the last one"
                " resolves: capacity at the upper bounds, caches warm, on-call paged. No data: the receiver is not"
                " scraped.",
                "none",
                PromQL("max(wedwatch_emergency_mode)", instant=True),
                mappings=ON_OFF_MAPPINGS,
                thresholds=((None, "green"), (1, "red")),
                width=6,
            ),
            stat(
                "Notifications rejected (1h)",
                "Webhook notifications answered with an error in the last hour (bad request, unauthorized, too"
                " large, store unavailable). Alertmanager retries only the 5xx ones.",
                "none",
                PromQL(
                    'sum(increase(wedwatch_receiver_notifications_total{outcome!~"accepted|duplicate"}[1h]))'
                    " or vector(0)",
                    instant=True,
                ),
                thresholds=((None, "green"), (1, "orange")),
                width=6,
            ),
            stat(
                "Actions failed (1h)",
                "Actions that ended in failure in the last hour.",
                "none",
                PromQL('sum(increase(wedwatch_actions_total{outcome="failed"}[1h])) or vector(0)', instant=True),
                thresholds=((None, "green"), (1, "red")),
                width=6,
            ),
            stat(
                "Duplicate notifications (1h)",
                "Notifications already committed (HA Alertmanager pairs, retries): acknowledged, never acted on"
                " twice.",
                "none",
                PromQL(
                    'sum(increase(wedwatch_receiver_notifications_total{outcome="duplicate"}[1h])) or vector(0)',
                    instant=True,
                ),
                thresholds=((None, "blue"),),
                width=6,
            ),
            timeseries(
                "Webhook notifications by outcome",
                "Notifications per second from Alertmanager, by the receiver's answer.",
                "reqps",
                PromQL(
                    "sum by (outcome) (rate(wedwatch_receiver_notifications_total[$__rate_interval]))",
                    legend="{{outcome}}",
                ),
                custom=_STACKED,
            ),
            timeseries(
                "Alerts received by status and severity",
                "Alerts in new notifications per second, by their own status and the severity after escalation"
                " for live weddings.",
                "ops",
                PromQL(
                    "sum by (status, severity) (rate(wedwatch_receiver_alerts_total[$__rate_interval]))",
                    legend="{{status}} {{severity}}",
                ),
                custom=_STACKED,
            ),
        ),
    )


def _actions_row() -> Row:
    return Row(
        "Actions",
        (
            timeseries(
                "Actions by action and outcome",
                "Actions finished per second: succeeded, failed, skipped (cooldown, budget, flapping, kill"
                " switch) or dry_run.",
                "ops",
                PromQL(
                    "sum by (action, outcome) (rate(wedwatch_actions_total[$__rate_interval]))",
                    legend="{{action}} {{outcome}}",
                ),
                custom=_STACKED,
            ),
            bargauge(
                "Actions in the last 24 h, by outcome",
                "How the last day's actions ended.",
                "none",
                PromQL("sum by (outcome) (increase(wedwatch_actions_total[1d]))", legend="{{outcome}}", instant=True),
                thresholds=((None, "blue"),),
                decimals=0,
            ),
            table(
                "Action outbox by status",
                "Actions created in the time range by outcome; pending and running rows are waiting for a worker"
                " or its lease.",
                "none",
                SQL(_SQL["action_outbox_by_status"]),
                width=8,
            ),
            table(
                "Actions waiting or failed",
                "Pending, running and failed actions, newest first, with their last error.",
                "short",
                SQL(_SQL["actions_waiting_or_failed"]),
                width=16,
            ),
            timeseries(
                "Action run time",
                "Mean seconds from start to finish per action, in 5-minute buckets (action_outbox).",
                "s",
                SQL(
                    _SQL["action_run_time"],
                    format="time_series",
                ),
                width=24,
                custom={"drawStyle": "points", "pointSize": 6},
            ),
        ),
    )


def _effectiveness_row() -> Row:
    return Row(
        "Effectiveness",
        (
            timeseries(
                "Resolution time after the first action (24 h)",
                "p50 and p90 of the time from a response's first completed action to the alert's end, by"
                " strategy, over the last day (wedwatch_response_resolution_seconds).",
                "s",
                *(
                    PromQL(
                        f"histogram_quantile({q}, sum by (strategy, le)"
                        " (increase(wedwatch_response_resolution_seconds_bucket[1d])))",
                        legend=f"{{{{strategy}}}} p{int(q * 100)}",
                    )
                    for q in (0.5, 0.9)
                ),
            ),
            timeseries(
                "Responses by strategy (store)",
                "Decisions per hour by strategy: emergency, urgent, standard or log.",
                "none",
                SQL(
                    _SQL["responses_by_strategy"],
                    format="time_series",
                ),
                custom=_STACKED,
            ),
            table(
                "Effectiveness by strategy (store)",
                "Per strategy in the time range: responses, how many resolved, how many had an action complete,"
                " and the resolution time after the first action.",
                "short",
                SQL(_SQL["effectiveness_by_strategy"]),
                height=6,
                overrides=_seconds("mean_resolution", "p90_resolution"),
            ),
            table(
                "Recent responses",
                "The latest decisions with the alert behind each, newest first.",
                "short",
                SQL(_SQL["recent_responses"]),
                overrides=_seconds("resolution_seconds"),
            ),
            table(
                "Incidents",
                "Alerts the receiver recorded, one row per incident (fingerprint and start), newest first.",
                "short",
                SQL(_SQL["incidents"]),
            ),
        ),
    )


def dashboard(config: Config) -> Dashboard:
    """Automation: the receiver's responses and their effectiveness."""
    del config  # the same for every configuration; the signature is the registry's
    return Dashboard(
        uid=UID,
        title="wedwatch / Automation",
        description="The receiver's side: notifications received, decisions and actions taken, the action"
        " outbox, and how quickly incidents resolved after automation acted.",
        rows=(_receiver_row(), _actions_row(), _effectiveness_row()),
        time_from="now-24h",
        refresh="1m",
    )
