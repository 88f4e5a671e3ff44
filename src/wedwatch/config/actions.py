"""The `actions` section: typed action definitions, strategies, safety rails and capacity bounds."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from wedwatch.config._base import Seconds, Strict

__all__ = [
    "ActionDefinition",
    "ActionsConfig",
    "CacheWarmAction",
    "CapacityBounds",
    "CapacityConfig",
    "CommandAction",
    "HttpAction",
    "LogAction",
    "NotifyAction",
    "ScaleAction",
    "Strategy",
    "ACTION_TYPES",
    "BUILTIN_ACTIONS",
]


class HttpAction(Strict):
    """POST a templated JSON body to a URL."""

    type: Literal["http"]
    url: str
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, object] = Field(default_factory=dict)
    timeout_seconds: Seconds = 10.0


class CommandAction(Strict):
    """Run an allowlisted executable with an argv list; never through a shell."""

    type: Literal["command"]
    argv: list[str] = Field(min_length=1)
    timeout_seconds: Seconds = 30.0


class ScaleAction(Strict):
    """Ask the platform for capacity within the configured bounds."""

    type: Literal["scale"]
    url: str | None = None
    timeout_seconds: Seconds = 10.0


class CacheWarmAction(Strict):
    """Warm a wedding's caches before they are needed."""

    type: Literal["cache_warm"]
    url: str | None = None
    timeout_seconds: Seconds = 30.0


class NotifyAction(Strict):
    """Post a message to a chat or pager webhook."""

    type: Literal["notify"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: Seconds = 10.0


class LogAction(Strict):
    """Write the decision to the log and the store; nothing else."""

    type: Literal["log"]


ActionDefinition = Annotated[
    HttpAction | CommandAction | ScaleAction | CacheWarmAction | NotifyAction | LogAction,
    Field(discriminator="type"),
]

# The one list of action types, read off the union above: every other spelling derives from it.
_MODELS: dict[str, type[Strict]] = {
    get_args(model.model_fields["type"].annotation)[0]: model for model in get_args(get_args(ActionDefinition)[0])
}
ACTION_TYPES: tuple[str, ...] = tuple(_MODELS)
# Actions usable in strategies without a definition (their type is their name): the types that
# need nothing but their type (no URL, no argv).
BUILTIN_ACTIONS = frozenset(
    kind
    for kind, model in _MODELS.items()
    if not any(f.is_required() for name, f in model.model_fields.items() if name != "type")
)


class CapacityBounds(Strict):
    """A resource's allowed range; recommendations never leave it."""

    min: PositiveFloat
    max: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self) -> CapacityBounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class CapacityConfig(Strict):
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


class ActionsConfig(Strict):
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
