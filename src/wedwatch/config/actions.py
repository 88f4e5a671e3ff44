"""The `actions` section: typed action definitions, strategies, resource responses, safety rails
and capacity bounds."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from wedwatch.config._base import Seconds, Strict

__all__ = [
    "ActionDefinition",
    "ActionsConfig",
    "CacheWarmAction",
    "CapacityBounds",
    "CapacityConfig",
    "CapacityResource",
    "CommandAction",
    "HttpAction",
    "LogAction",
    "NotifyAction",
    "Resource",
    "ResourceResponse",
    "ScaleAction",
    "Strategy",
    "ACTION_TYPES",
    "BUILTIN_ACTIONS",
    "NOTIFY",
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
# The `resource` label of the system and resource alerts (rules/), and what `scale` can size.
Resource = Literal["database", "cache", "cpu", "memory", "disk", "offline"]
CapacityResource = Literal["db_connections", "cache_mb", "instances"]
# In a resource response: every notify action defined (`log` when there is none), as flapping does.
# A definition named `notify` is itself instead.
NOTIFY = "notify"


class ResourceResponse(Strict):
    """What an urgent or standard response to one resource's alert does in place of its strategy's remedies."""

    actions: list[str]
    capacity: list[CapacityResource] = Field(default_factory=list)  # what its `scale` sizes; empty: all three
    # signal="down": the dependency is gone, and capacity will not bring it back.
    down: list[str] = Field(default_factory=lambda: [NOTIFY])


def _default_resources() -> dict[Resource, ResourceResponse]:
    return {
        "database": ResourceResponse(actions=["scale"], capacity=["db_connections"]),
        "cache": ResourceResponse(actions=["scale", "cache_warm"], capacity=["cache_mb"]),
        "cpu": ResourceResponse(actions=["scale"], capacity=["instances"]),
        "memory": ResourceResponse(actions=["scale"], capacity=["instances"]),
        "disk": ResourceResponse(actions=[NOTIFY]),  # no automatic remedy
        "offline": ResourceResponse(actions=[NOTIFY]),  # no automatic remedy
    }


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
    # The resources named here replace their defaults; the others keep theirs.
    resources: dict[Resource, ResourceResponse] = Field(default_factory=_default_resources)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)

    @field_validator("resources", mode="after")
    @classmethod
    def _over_defaults(cls, value: dict[Resource, ResourceResponse]) -> dict[Resource, ResourceResponse]:
        return {**_default_resources(), **value}

    def kind(self, name: str) -> str:
        """The type of the action `name` (a builtin's type is its name)."""
        definition = self.definitions.get(name)
        return definition.type if definition is not None else name

    def response_to(self, resource: str) -> ResourceResponse | None:
        """The response to alerts whose `resource` label is `resource`; None outside the contract."""
        return next((r for name, r in self.resources.items() if name == resource), None)

    def known(self, name: str) -> bool:
        """Whether `name` can be used in a strategy: a definition or a builtin."""
        return name in self.definitions or name in BUILTIN_ACTIONS
