"""The forecaster's settings: the `forecast` section's models, which live with the config schema."""

from __future__ import annotations

from wedwatch.config.forecast import (
    BacktestSettings,
    CapacityModel,
    ForecastSettings,
    ModelSettings,
    PlanSettings,
    ResourceModel,
)

__all__ = [
    "BacktestSettings",
    "CapacityModel",
    "ForecastSettings",
    "ModelSettings",
    "PlanSettings",
    "ResourceModel",
]
