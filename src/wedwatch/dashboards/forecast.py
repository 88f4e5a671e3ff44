"""Forecast against actual, and the scaling plan: `wedwatch_forecast` from the receiver, plans from the store.

One panel per configured forecast series (`forecast.series` in the config) puts the series' own
query beside its forecast; the store's prediction sets give the whole horizon and the recommendations.
"""

from __future__ import annotations

from wedwatch.config.model import Config
from wedwatch.dashboards.builder import SQL, Dashboard, Json, Panel, PromQL, Row, Variable
from wedwatch.dashboards.fragments import table, timeseries
from wedwatch.dashboards.targets import named_sql

__all__ = ["UID", "dashboard", "SERIES", "series_unit"]

UID = "wedwatch-forecast"
_SQL = named_sql("forecast")  # the SQL panels' queries, from sql/forecast.sql

SERIES = Variable(
    name="series",
    label="Series",
    metric="wedwatch_forecast",
    description="Forecast series (forecast.series in the wedwatch config).",
    multi=True,
    include_all=True,
)

# Points of a prediction set (wedwatch.forecast.persist): ts (ISO 8601 instant), yhat, yhat_lower, yhat_upper.
# Shade between the bounds: the upper series fills down to the lower one.
_BAND: tuple[Json, ...] = (
    {"matcher": {"id": "byName", "options": "upper"},
     "properties": [{"id": "custom.fillBelowTo", "value": "lower"}, {"id": "custom.lineWidth", "value": 0},
                    {"id": "custom.fillOpacity", "value": 20}, {"id": "color", "value": {"fixedColor": "blue", "mode": "fixed"}}]},
    {"matcher": {"id": "byName", "options": "lower"},
     "properties": [{"id": "custom.lineWidth", "value": 0}, {"id": "color", "value": {"fixedColor": "blue", "mode": "fixed"}}]},
    {"matcher": {"id": "byName", "options": "actual"},
     "properties": [{"id": "color", "value": {"fixedColor": "orange", "mode": "fixed"}}, {"id": "custom.lineWidth", "value": 2}]},
)  # fmt: skip


def series_unit(name: str) -> str:
    """A Grafana unit from a series name that follows Prometheus' naming (`..._seconds`, `..._ratio`)."""
    for suffix, unit in (("_seconds", "s"), ("_bytes", "bytes"), ("_ratio", "percentunit"), ("_per_second", "ops")):
        if name.endswith(suffix):
            return unit
    return "short"


def _against_actual(name: str, query: str) -> Panel:

    def bound(which: str) -> str:
        # `offset 1h`: the value forecast for this hour was published an hour ago.
        return f'max(wedwatch_forecast{{series="{name}", bound="{which}"}} offset 1h)'

    return timeseries(
        f"{name}: forecast against actual",
        f"Actual: the series' own query ({query}). Forecast: wedwatch_forecast{{series=\"{name}\"}} as it was an"
        " hour earlier, when it forecast this hour, with its uncertainty interval shaded.",
        series_unit(name),
        PromQL(query, legend="actual"),
        PromQL(bound("yhat"), legend="forecast"),
        PromQL(bound("lower"), legend="lower"),
        PromQL(bound("upper"), legend="upper"),
        overrides=_BAND,
    )


def _prometheus_row(config: Config) -> Row:
    per_series = [_against_actual(name, s.query) for name, s in sorted(config.forecast.series.items())]
    overview = timeseries(
        "Next-hour forecast, all series",
        "The receiver's latest forecast for the next hour of every chosen series (bounds yhat, lower, upper)."
        " Series have their own units; pick one to compare.",
        "short",
        PromQL('max by (series, bound) (wedwatch_forecast{series=~"$series"})', legend="{{series}} {{bound}}"),
        width=24 if len(per_series) % 2 == 0 else 12,
    )
    return Row("Forecast against actual", (*per_series, overview))


def _store_row() -> Row:
    return Row(
        "Scaling plan (store)",
        (
            timeseries(
                "Forecast over the horizon (latest prediction set per series)",
                "Every hourly point of the newest prediction set of each series (yhat and its interval), into"
                " the future: widen the time range forward to see the horizon.",
                "short",
                SQL(
                    _SQL["forecast_over_the_horizon"],
                    format="time_series",
                ),
                width=24,
            ),
            table(
                "Scaling recommendations (latest prediction set per series)",
                "What the forecaster recommends per resource, within the capacity bounds; in forecast-only mode"
                " (the default) nothing acts on them.",
                "short",
                SQL(_SQL["scaling_recommendations"]),
                width=12,
            ),
            table(
                "Model accuracy (latest prediction set per series)",
                "The model that produced each series' newest forecast and its backtest metrics (relative MAE"
                " against the weekly seasonal-naive, MASE, interval coverage).",
                "short",
                SQL(_SQL["model_accuracy"]),
                width=12,
            ),
            timeseries(
                "Capacity changes executed",
                "Each optimization's new value (after_value) per kind and resource, from optimization_results;"
                " dry runs are marked.",
                "short",
                SQL(
                    _SQL["capacity_changes_executed"],
                    format="time_series",
                ),
                custom={"drawStyle": "points", "pointSize": 8},
            ),
            table(
                "Optimizations",
                "The most recent optimizations (scaling, cache warming) with the value before and after.",
                "short",
                SQL(_SQL["optimizations"]),
                width=12,
            ),
        ),
    )


def dashboard(config: Config) -> Dashboard:
    """Forecast against actual and the scaling plan."""
    return Dashboard(
        uid=UID,
        title="wedwatch / Forecast and scaling",
        description="Prophet forecasts against what happened, and the scaling the forecaster recommends (and,"
        " in act mode, executes) ahead of each ceremony.",
        rows=(_prometheus_row(config), _store_row()),
        variables=(SERIES,),
        time_from="now-2d",
        time_to="now+1d",
        refresh="1m",
    )
