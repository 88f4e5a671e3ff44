"""The `forecast` section's models: Prophet's setup, the backtest, capacity units and the plan.

Importing this module loads only pydantic and the config's base model: the forecaster itself
(`wedwatch.forecast`, with pandas and Prophet) is never imported by the config schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from wedwatch.config._base import Strict

__all__ = [
    "BacktestSettings",
    "CapacityModel",
    "ForecastSettings",
    "ModelSettings",
    "PlanSettings",
    "ResourceModel",
]


class ModelSettings(Strict):
    """How Prophet is set up; the defaults beat the weekly seasonal-naive on wedding traffic."""

    # log1p(y): wedding load multiplies the platform's traffic rather than adding a constant,
    # and log-normal noise becomes Gaussian, which Prophet's intervals assume.
    log_transform: bool = True
    # One daily shape each for Saturday, Sunday, Friday and the other weekdays (Prophet's
    # conditional seasonalities): a wedding Saturday afternoon looks nothing like a Tuesday.
    day_type_seasonality: bool = True
    # Order 6 draws a day's shape closely enough; 10 costs 60 % more fit time for nothing measurable.
    daily_fourier_order: PositiveInt = 6
    weekly_fourier_order: PositiveInt = 3
    changepoint_prior_scale: PositiveFloat = 0.05
    seasonality_prior_scale: PositiveFloat = 10.0
    regressor_prior_scale: PositiveFloat = 10.0
    # Guests enter as log1p(guests / guest_scale): a hundred guests is "one wedding's worth".
    guest_scale: PositiveFloat = 100.0
    # L-BFGS stops when the relative gradient falls below this times machine epsilon. CmdStan's
    # 1e7 iterates twice as long at 10,000 points for no measurable change in the backtest.
    tol_rel_grad: PositiveFloat = 1e9
    uncertainty_samples: Annotated[int, Field(ge=100, le=10_000)] = 1000
    # Daily shapes follow the users' wall clock, so DST moves them with the clocks.
    timezone: str = "UTC"
    # Fit on at most this much recent history: fit time grows with it, old years say little.
    max_history_hours: Annotated[int, Field(ge=336)] = 8760
    # An hour below this fraction of the same hour in the surrounding weeks is an outage and
    # is left out of the fit (it is still scored).
    outage_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.25

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class BacktestSettings(Strict):
    """The rolling-origin backtest that decides between Prophet and the seasonal-naive."""

    # 0 disables the check: Prophet is always used.
    origins: Annotated[int, Field(ge=0, le=200)] = 4
    horizon_hours: PositiveInt = 48
    # Hours between origins; None means one horizon (non-overlapping windows).
    step_hours: PositiveInt | None = None
    # Above this relative MAE the series falls back to the naive forecast.
    fallback_relative_mae: PositiveFloat = 1.0


class ResourceModel(Strict):
    """What one unit of a resource serves and what it costs per hour."""

    # Forecast units (e.g. requests per second) one unit serves at the planned utilisation.
    per_unit: PositiveFloat
    # Units one wedding guest needs during the ceremony window (a floor that does not depend on
    # the forecast knowing the wedding).
    per_guest: Annotated[float, Field(ge=0)] = 0.0
    # Capacity comes in steps of this many units (cache in 64 MB steps, instances one by one).
    step: PositiveFloat = 1.0
    price_per_unit_hour: Annotated[float, Field(ge=0)] = 0.0


def _default_resources() -> dict[Literal["db_connections", "cache_mb", "instances"], ResourceModel]:
    # Sized for the synthetic platform (tens of requests per second, peaks near 100): an instance
    # serves 12 req/s, a DB connection 1.5 req/s, 64 MB of cache keeps 8 req/s off the database.
    return {
        "instances": ResourceModel(per_unit=12.0, per_guest=0.05, step=1, price_per_unit_hour=0.10),
        "db_connections": ResourceModel(per_unit=1.5, per_guest=0.3, step=1, price_per_unit_hour=0.002),
        "cache_mb": ResourceModel(per_unit=0.125, per_guest=2.0, step=64, price_per_unit_hour=0.00002),
    }


class CapacityModel(Strict):
    """How forecasts turn into capacity: the series that sizes it and each resource's unit."""

    series: str = "requests"
    # Size for the upper bound of this band: 0.8 (yhat_upper) or 0.95.
    quantile: float = 0.8
    resources: dict[Literal["db_connections", "cache_mb", "instances"], ResourceModel] = Field(
        default_factory=_default_resources
    )
    # The recommendation stored with each forecast covers the peak of the next window.
    window_hours: PositiveInt = 24

    @field_validator("quantile")
    @classmethod
    def _band(cls, value: float) -> float:
        if value not in (0.8, 0.95):
            raise ValueError(f"must be 0.8 or 0.95 (the forecast's bands), got {value}")
        return value


class PlanSettings(Strict):
    """The pre-ceremony plan: when to warm caches and scale."""

    lead_hours: PositiveFloat = 2.0
    eve_warm_local_time: str = "18:00"
    # Steps are due from their time until this much later; a later run skips them.
    max_lateness_seconds: PositiveFloat = 3600.0

    @field_validator("eve_warm_local_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"expected HH:MM, got {value!r}")
        return value


class ForecastSettings(Strict):
    """Everything above, as one block (the fields to add to `forecast` in the config)."""

    model: ModelSettings = Field(default_factory=ModelSettings)
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    capacity: CapacityModel = Field(default_factory=CapacityModel)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    # Prophet fits run in this many worker processes.
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    # When set, each series' fitted model is written there as Prophet JSON.
    model_dir: str | None = None
    # Hours of history asked of Prometheus (its default retention is 15 days: for a year, point
    # prometheus_url at VictoriaMetrics, Thanos or Mimir; docs/long-term-storage.md).
    history_hours: Annotated[int, Field(ge=336)] = 8760
