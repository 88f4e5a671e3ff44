"""The configuration schema: strict pydantic models with the seed's numbers as defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from wedwatch.config._base import OPERATIONS, Seconds, Strict
from wedwatch.config.actions import BUILTIN_ACTIONS, NOTIFY, ActionsConfig
from wedwatch.config.calendar import CalendarConfig
from wedwatch.config.forecast import ForecastSettings
from wedwatch.config.operations import (
    GuestListConfig,
    MobileConfig,
    OperationConfig,
    OperationsConfig,
    PhotoUploadConfig,
    PollingConfig,
)
from wedwatch.config.platform_auth import PlatformAuthConfig
from wedwatch.config.resources import ResourcesConfig
from wedwatch.config.retention import RetentionConfig
from wedwatch.config.thresholds import (
    SeverityThresholds,
    ThresholdsConfig,
    WeddingDayGuarantees,
)

__all__ = [
    "Phase",
    "Config",
    "PlatformConfig",
    "CalendarConfig",
    "ScheduleConfig",
    "OperationsConfig",
    "OperationConfig",
    "GuestListConfig",
    "PhotoUploadConfig",
    "PollingConfig",
    "MobileConfig",
    "ThresholdsConfig",
    "SeverityThresholds",
    "WeddingDayGuarantees",
    "ReceiverConfig",
    "ActionsConfig",
    "ForecastConfig",
    "StoreConfig",
    "RetentionConfig",
    "FeaturesConfig",
    "OPERATIONS",
]


class Phase(StrEnum):
    """Where a wedding stands relative to its ceremony (DESIGN.md section 1)."""

    CEREMONY = "ceremony"
    WEDDING_DAY = "wedding_day"
    EVE = "eve"
    AFTER = "after"
    WEEK = "week"
    MONTH = "month"
    PLANNING = "planning"
    ARCHIVED = "archived"


class PlatformConfig(Strict):
    """The wedding platform the probes talk to."""

    base_url: str = "http://127.0.0.1:8085"
    # Header values may be ${ENV} references; they are never logged.
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: Seconds = 10.0  # connecting; each operation has its own deadline
    # How probes, websockets and the calendar authenticate beyond `headers` (OAuth2 client credentials).
    auth: PlatformAuthConfig = Field(default_factory=PlatformAuthConfig)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/")


_DEFAULT_INTERVALS: dict[Phase, float] = {
    Phase.CEREMONY: 10,
    Phase.WEDDING_DAY: 15,
    Phase.EVE: 30,
    Phase.AFTER: 300,
    Phase.WEEK: 60,
    Phase.MONTH: 300,
    Phase.PLANNING: 900,
}


class ScheduleConfig(Strict):
    """Probe interval per phase and the cap on per-wedding series."""

    intervals: dict[Phase, Seconds] = Field(default_factory=lambda: dict(_DEFAULT_INTERVALS))
    max_tracked_weddings: PositiveInt = 2000
    # Each probe fires within +-jitter_ratio of its interval so that probes spread out.
    jitter_ratio: Annotated[float, Field(ge=0, lt=0.5)] = 0.1
    max_concurrency: PositiveInt = 64

    @model_validator(mode="after")
    def _fill_intervals(self) -> ScheduleConfig:
        if Phase.ARCHIVED in self.intervals:
            raise ValueError("intervals.archived: archived weddings are not probed")
        merged = {**_DEFAULT_INTERVALS, **self.intervals}
        object.__setattr__(self, "intervals", merged)
        return self


class BasicAuthConfig(Strict):
    """HTTP Basic credentials; the password is normally a ${ENV} reference."""

    username: str
    password: str


class ReceiverAuthConfig(Strict):
    """Credentials required on /alerts (and the read API unless public_read)."""

    bearer_token: str | None = None
    basic: BasicAuthConfig | None = None
    public_read: bool = False


class TLSConfig(Strict):
    """Serve HTTPS from these PEM files."""

    cert_file: str
    key_file: str


class ReceiverConfig(Strict):
    """The Alertmanager webhook receiver."""

    auth: ReceiverAuthConfig = Field(default_factory=ReceiverAuthConfig)
    tls: TLSConfig | None = None
    max_body_bytes: PositiveInt = 4 * 1024 * 1024
    emergency_hold_seconds: Annotated[float, Field(ge=0)] = 900.0
    # The outbox worker: actions claimed per round, tries per action, first retry delay (doubling).
    # The worker's only defaults: it is built from these.
    worker_batch: PositiveInt = 16
    action_max_attempts: PositiveInt = 3
    backoff_seconds: Seconds = 5.0


class ForecastSeries(Strict):
    """One forecast series: the PromQL that yields its history, and whether it is a counter."""

    query: str
    kind: Literal["gauge", "counter"] = "gauge"


class ForecastConfig(ForecastSettings):
    """Prophet forecasts; `recommend` (the default) never acts on its own.

    The forecaster's own settings (model, backtest, capacity, plan, workers, model_dir,
    history_hours) are ForecastSettings, defined once; this adds where history comes from and
    what the receiver does with the forecasts.
    """

    mode: Literal["recommend", "act"] = "recommend"
    prometheus_url: str | None = None
    # Sent with every query to prometheus_url, never elsewhere: Mimir's X-Scope-OrgID (its
    # tenant), an Authorization header for a query API behind auth. Values may be ${ENV}
    # references; they are never logged.
    prometheus_headers: dict[str, str] = Field(default_factory=dict)
    horizon_hours: PositiveInt = 14 * 24
    refit_interval_seconds: Seconds = 6 * 3600.0
    series: dict[str, ForecastSeries] = Field(default_factory=dict)


class StoreConfig(Strict):
    """sqlite:///relative/or/absolute/path or postgresql://user@host:port/db."""

    url: str = "sqlite:///wedwatch.db"
    pool_max_size: PositiveInt = 10
    # Connecting, waiting for a pooled connection, or for SQLite's write lock: past this the
    # store counts as unavailable (the receiver answers 503 and Alertmanager retries).
    timeout_seconds: Seconds = 10.0
    # How long each kind of data is kept, and how the receiver prunes (config/retention.py).
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(f"must start with sqlite:/// or postgresql://, got {value.split(':', 1)[0]!r}")
        return value


class FeaturesConfig(Strict):
    """The seed's three switches (env PERFORMANCE_MONITORING_ENABLED and friends override them)."""

    performance_monitoring: bool = True
    wedding_day_enhanced_monitoring: bool = True
    predictive_scaling: bool = True


class Config(Strict):
    """The whole wedwatch configuration file."""

    platform: PlatformConfig = Field(default_factory=PlatformConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    receiver: ReceiverConfig = Field(default_factory=ReceiverConfig)
    actions: ActionsConfig = Field(default_factory=ActionsConfig)
    forecast: ForecastConfig = Field(default_factory=ForecastConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)

    @model_validator(mode="after")
    def _guarantees_name_operations(self) -> Config:
        known = self.operations.names()
        unknown = sorted(set(self.thresholds.wedding_day.operation_seconds) - set(known))
        if unknown:
            raise ValueError(
                f"thresholds.wedding_day.operation_seconds: unknown operation {unknown[0]!r} (known: {', '.join(known)})"
            )
        return self

    @model_validator(mode="after")
    def _strategies_name_actions(self) -> Config:
        for strategy, names in self.actions.strategies.items():
            for name in names:
                if name not in self.actions.definitions and name not in BUILTIN_ACTIONS:
                    raise ValueError(
                        f"actions.strategies.{strategy}: unknown action {name!r}; define it under actions.definitions"
                    )
        # Resource responses may also say `notify`: every notify action defined (log when none).
        for resource, response in self.actions.resources.items():
            for key, names in (("actions", response.actions), ("down", response.down)):
                for name in names:
                    if not self.actions.known(name) and name != NOTIFY:
                        raise ValueError(
                            f"actions.resources.{resource}.{key}: unknown action {name!r}; define it under "
                            f"actions.definitions (or say {NOTIFY!r} for every notify action)"
                        )
        return self
