"""Forecasts and predictive scaling: Prophet with calendar regressors, backtests, capacity plans.

Importing the package loads nothing heavy: names resolve on first use (PEP 562), Prophet and
pandas only inside the worker processes that fit, so that the receiver's collector can call
`forecast_samples` without paying for them, and the config schema can import `settings`
without an import cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "BacktestError",
    "BacktestReport",
    "BacktestSettings",
    "Booking",
    "CapacityModel",
    "CsvLoad",
    "DispatchResult",
    "FitJob",
    "FitResult",
    "Forecast",
    "ForecastSettings",
    "Forecaster",
    "HistoryError",
    "HourlySeries",
    "LineError",
    "ModelSettings",
    "PlanSettings",
    "PlanStep",
    "PredictionSet",
    "RESOURCES",
    "Recommendation",
    "ResourceModel",
    "SeriesForecast",
    "SyntheticHistory",
    "calendar_regressors",
    "dispatch_due",
    "due_steps",
    "fit_predict",
    "forecast_from_points",
    "forecast_samples",
    "forecast_series",
    "from_samples",
    "generate_history",
    "known_at",
    "latest_prediction_sets",
    "make_executor",
    "mask_outages",
    "model_from_json",
    "naive_forecast",
    "parse_csv",
    "plan",
    "query_range",
    "read_csv",
    "recommend",
    "run_backtest",
    "save_prediction_set",
    "settings_from_config",
    "size",
    "write_csv",
]

if TYPE_CHECKING:
    from wedwatch.forecast.backtest import BacktestError, BacktestReport, run_backtest
    from wedwatch.forecast.dispatch import DispatchResult, dispatch_due, due_steps
    from wedwatch.forecast.forecaster import Forecaster, forecast_from_points, make_executor, settings_from_config
    from wedwatch.forecast.history import CsvLoad, HistoryError, LineError, parse_csv, query_range, read_csv, write_csv
    from wedwatch.forecast.model import FitJob, FitResult, fit_predict, model_from_json
    from wedwatch.forecast.naive import naive_forecast
    from wedwatch.forecast.persist import PredictionSet, forecast_samples, latest_prediction_sets, save_prediction_set
    from wedwatch.forecast.pipeline import SeriesForecast, forecast_series
    from wedwatch.forecast.plan import PlanStep, plan
    from wedwatch.forecast.prediction import Forecast
    from wedwatch.forecast.recommendations import RESOURCES, Recommendation, recommend, size
    from wedwatch.forecast.regressors import Booking, calendar_regressors, known_at
    from wedwatch.forecast.series import HourlySeries, from_samples, mask_outages
    from wedwatch.forecast.settings import (
        BacktestSettings,
        CapacityModel,
        ForecastSettings,
        ModelSettings,
        PlanSettings,
        ResourceModel,
    )
    from wedwatch.forecast.synthetic import SyntheticHistory, generate_history

# Where each public name lives; a test checks this against __all__.
_EXPORTS = {
    "backtest": ("BacktestError", "BacktestReport", "run_backtest"),
    "recommendations": ("RESOURCES", "Recommendation", "recommend", "size"),
    "dispatch": ("DispatchResult", "dispatch_due", "due_steps"),
    "forecaster": ("Forecaster", "forecast_from_points", "make_executor", "settings_from_config"),
    "history": ("CsvLoad", "HistoryError", "LineError", "parse_csv", "query_range", "read_csv", "write_csv"),
    "model": ("FitJob", "FitResult", "fit_predict", "model_from_json"),
    "naive": ("naive_forecast",),
    "persist": ("PredictionSet", "forecast_samples", "latest_prediction_sets", "save_prediction_set"),
    "pipeline": ("SeriesForecast", "forecast_series"),
    "plan": ("PlanStep", "plan"),
    "prediction": ("Forecast",),
    "regressors": ("Booking", "calendar_regressors", "known_at"),
    "series": ("HourlySeries", "from_samples", "mask_outages"),
    "settings": ("BacktestSettings", "CapacityModel", "ForecastSettings", "ModelSettings", "PlanSettings", "ResourceModel"),
    "synthetic": ("SyntheticHistory", "generate_history"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}



def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
