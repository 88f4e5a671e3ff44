"""The configuration schema: strict pydantic models with the seed's numbers as defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator, model_validator

__all__ = [
    "Phase",
    "Config",
    "PlatformConfig",
    "CalendarConfig",
    "ScheduleConfig",
    "OperationsConfig",
    "OperationConfig",
    "ThresholdsConfig",
    "SeverityThresholds",
    "WeddingDayGuarantees",
    "ReceiverConfig",
    "ActionsConfig",
    "ForecastConfig",
    "StoreConfig",
    "FeaturesConfig",
    "OPERATIONS",
]

OPERATIONS: tuple[str, ...] = (
    "guest_list",
    "photo_upload",
    "timeline_sync",
    "vendor_notification",
    "mobile",
    "critical_path",
)


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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Seconds = Annotated[float, Field(gt=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]


class PlatformConfig(_Strict):
    """The wedding platform the probes talk to."""

    base_url: str = "http://127.0.0.1:8085"
    # Header values may be ${ENV} references; they are never logged.
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: Seconds = 10.0

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/")


class CalendarConfig(_Strict):
    """Where the weddings come from: exactly one of file, store, url."""

    file: str | None = None
    store: bool = False
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    refresh_interval_seconds: Seconds = 60.0

    @model_validator(mode="after")
    def _one_source(self) -> CalendarConfig:
        chosen = [name for name, on in (("file", self.file), ("store", self.store), ("url", self.url)) if on]
        if len(chosen) > 1:
            raise ValueError(f"choose one calendar source, not {' and '.join(chosen)}")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        return self

    @property
    def source(self) -> str:
        """The configured source's name, `none` when nothing is configured."""
        if self.file:
            return "file"
        if self.store:
            return "store"
        if self.url:
            return "url"
        return "none"


_DEFAULT_INTERVALS: dict[Phase, float] = {
    Phase.CEREMONY: 10,
    Phase.WEDDING_DAY: 15,
    Phase.EVE: 30,
    Phase.AFTER: 300,
    Phase.WEEK: 60,
    Phase.MONTH: 300,
    Phase.PLANNING: 900,
}


class ScheduleConfig(_Strict):
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


class OperationConfig(_Strict):
    """One probed operation. `url` is a template with {base_url} and {wedding_id}."""

    enabled: bool = True
    url: str | None = None
    timeout_seconds: Seconds = 10.0
    max_body_bytes: PositiveInt = 10 * 1024 * 1024
    headers: dict[str, str] = Field(default_factory=dict)


class GuestListConfig(OperationConfig):
    """guest_list: optionally assert that the list holds the calendar's guest count."""

    assert_guest_count: bool = True


class PhotoUploadConfig(OperationConfig):
    """photo_upload: size of the generated image and whether to delete it afterwards."""

    size_bytes: PositiveInt = 256 * 1024
    delete_after: bool = True
    timeout_seconds: Seconds = 15.0


class PollingConfig(OperationConfig):
    """timeline_sync and vendor_notification: poll until the write is visible or delivered."""

    poll_interval_seconds: Seconds = 0.02


class MobileConfig(OperationConfig):
    """mobile: the user agent the probe presents."""

    user_agent: str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) wedwatch-probe"


class OperationsConfig(_Strict):
    """The six operations of DESIGN.md section 2."""

    guest_list: GuestListConfig = Field(default_factory=GuestListConfig)
    photo_upload: PhotoUploadConfig = Field(default_factory=PhotoUploadConfig)
    timeline_sync: PollingConfig = Field(default_factory=PollingConfig)
    vendor_notification: PollingConfig = Field(default_factory=PollingConfig)
    mobile: MobileConfig = Field(default_factory=MobileConfig)
    critical_path: OperationConfig = Field(default_factory=OperationConfig)

    def enabled(self) -> list[str]:
        """Names of the enabled operations, in contract order."""
        return [name for name in OPERATIONS if getattr(self, name).enabled]


class SeverityThresholds(_Strict):
    """One severity tier of the seed: p95 latency above, error ratio above, availability below."""

    p95_seconds: Seconds
    error_ratio: Ratio
    availability: Ratio


class WeddingDayGuarantees(_Strict):
    """What a couple is promised on their day."""

    response_seconds: Seconds = 0.5
    availability: Ratio = 0.999
    error_ratio: Ratio = 0.001
    # Per-operation latency guarantees that replace response_seconds for that operation.
    operation_seconds: dict[str, Seconds] = Field(
        default_factory=lambda: {"guest_list": 1.0, "photo_upload": 5.0, "timeline_sync": 0.1}
    )

    @model_validator(mode="after")
    def _known_operations(self) -> WeddingDayGuarantees:
        unknown = sorted(set(self.operation_seconds) - set(OPERATIONS))
        if unknown:
            raise ValueError(f"operation_seconds: unknown operation {unknown[0]!r} (known: {', '.join(OPERATIONS)})")
        return self


class ThresholdsConfig(_Strict):
    """Severity tiers and wedding-day guarantees; the defaults are the seed's table."""

    critical: SeverityThresholds = SeverityThresholds(p95_seconds=5, error_ratio=0.10, availability=0.95)
    high: SeverityThresholds = SeverityThresholds(p95_seconds=3, error_ratio=0.05, availability=0.97)
    medium: SeverityThresholds = SeverityThresholds(p95_seconds=2, error_ratio=0.02, availability=0.99)
    wedding_day: WeddingDayGuarantees = Field(default_factory=WeddingDayGuarantees)
    stall_intervals: PositiveFloat = 3.0
    milestone_delay_seconds: Seconds = 900.0
    checkin_lag_ratio: Ratio = 0.25

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsConfig:
        c, h, m = self.critical, self.high, self.medium
        if not c.p95_seconds >= h.p95_seconds >= m.p95_seconds:
            raise ValueError("p95_seconds must not decrease from medium to high to critical")
        if not c.error_ratio >= h.error_ratio >= m.error_ratio:
            raise ValueError("error_ratio must not decrease from medium to high to critical")
        if not c.availability <= h.availability <= m.availability:
            raise ValueError("availability must not increase from medium to high to critical")
        return self


class BasicAuthConfig(_Strict):
    """HTTP Basic credentials; the password is normally a ${ENV} reference."""

    username: str
    password: str


class ReceiverAuthConfig(_Strict):
    """Credentials required on /alerts (and the read API unless public_read)."""

    bearer_token: str | None = None
    basic: BasicAuthConfig | None = None
    public_read: bool = False


class TLSConfig(_Strict):
    """Serve HTTPS from these PEM files."""

    cert_file: str
    key_file: str


class ReceiverConfig(_Strict):
    """The Alertmanager webhook receiver."""

    auth: ReceiverAuthConfig = Field(default_factory=ReceiverAuthConfig)
    tls: TLSConfig | None = None
    max_body_bytes: PositiveInt = 4 * 1024 * 1024
    emergency_hold_seconds: Annotated[float, Field(ge=0)] = 900.0


class HttpAction(_Strict):
    """POST a templated JSON body to a URL."""

    type: Literal["http"]
    url: str
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, object] = Field(default_factory=dict)
    timeout_seconds: Seconds = 10.0


class CommandAction(_Strict):
    """Run an allowlisted executable with an argv list; never through a shell."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1)
    timeout_seconds: Seconds = 30.0


class ScaleAction(_Strict):
    """Ask the platform for capacity within the configured bounds."""

    type: Literal["scale"]
    url: str | None = None
    timeout_seconds: Seconds = 10.0


class CacheWarmAction(_Strict):
    """Warm a wedding's caches before they are needed."""

    type: Literal["cache_warm"]
    url: str | None = None
    timeout_seconds: Seconds = 30.0


class NotifyAction(_Strict):
    """Post a message to a chat or pager webhook."""

    type: Literal["notify"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: Seconds = 10.0


class LogAction(_Strict):
    """Write the decision to the log and the store; nothing else."""

    type: Literal["log"]


ActionDefinition = Annotated[
    HttpAction | CommandAction | ScaleAction | CacheWarmAction | NotifyAction | LogAction,
    Field(discriminator="type"),
]


class CapacityBounds(_Strict):
    """A resource's allowed range; recommendations never leave it."""

    min: PositiveFloat
    max: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self) -> CapacityBounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class CapacityConfig(_Strict):
    """The seed's bounds: DB connections 20-100, cache 256 MB-1 GB, instances 2-10."""

    db_connections: CapacityBounds = CapacityBounds(min=20, max=100)
    cache_mb: CapacityBounds = CapacityBounds(min=256, max=1024)
    instances: CapacityBounds = CapacityBounds(min=2, max=10)


Strategy = Literal["emergency", "urgent", "standard", "log"]


def _default_definitions() -> dict[str, ActionDefinition]:
    return {"log": LogAction(type="log")}


def _default_strategies() -> dict[Strategy, list[str]]:
    return {
        "emergency": ["scale", "cache_warm", "log"],
        "urgent": ["scale", "log"],
        "standard": ["cache_warm", "log"],
        "log": ["log"],
    }


class ActionsConfig(_Strict):
    """What the receiver may do, and the safety rails around it."""

    enabled: bool = True  # the kill switch
    dry_run: bool = False
    hourly_budget: PositiveInt = 60
    cooldown_seconds: Annotated[float, Field(ge=0)] = 300.0
    flap_max_transitions: PositiveInt = 6
    flap_window_seconds: Seconds = 3600.0
    allowed_executables: list[str] = Field(default_factory=list)
    definitions: dict[str, ActionDefinition] = Field(default_factory=_default_definitions)
    strategies: dict[Strategy, list[str]] = Field(default_factory=_default_strategies)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)


class ForecastSeries(_Strict):
    """One forecast series: the PromQL that yields its history."""

    query: str


class ForecastConfig(_Strict):
    """Prophet forecasts; `recommend` (the default) never acts on its own."""

    mode: Literal["recommend", "act"] = "recommend"
    prometheus_url: str | None = None
    horizon_hours: PositiveInt = 14 * 24
    refit_interval_seconds: Seconds = 6 * 3600.0
    series: dict[str, ForecastSeries] = Field(default_factory=dict)


class StoreConfig(_Strict):
    """sqlite:///relative/or/absolute/path or postgresql://user@host:port/db."""

    url: str = "sqlite:///wedwatch.db"
    pool_max_size: PositiveInt = 10

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(f"must start with sqlite:/// or postgresql://, got {value.split(':', 1)[0]!r}")
        return value


class FeaturesConfig(_Strict):
    """The seed's three switches (env PERFORMANCE_MONITORING_ENABLED and friends override them)."""

    performance_monitoring: bool = True
    wedding_day_enhanced_monitoring: bool = True
    predictive_scaling: bool = True


class Config(_Strict):
    """The whole wedwatch configuration file."""

    platform: PlatformConfig = Field(default_factory=PlatformConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    receiver: ReceiverConfig = Field(default_factory=ReceiverConfig)
    actions: ActionsConfig = Field(default_factory=ActionsConfig)
    forecast: ForecastConfig = Field(default_factory=ForecastConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)

    @model_validator(mode="after")
    def _strategies_name_actions(self) -> Config:
        for strategy, names in self.actions.strategies.items():
            for name in names:
                if name not in self.actions.definitions and name not in _BUILTIN_ACTIONS:
                    raise ValueError(
                        f"actions.strategies.{strategy}: unknown action {name!r}; define it under actions.definitions"
                    )
        return self


# Actions usable in strategies without a definition: they need no target.
_BUILTIN_ACTIONS = frozenset({"log", "scale", "cache_warm"})
