"""The `operations` section: every probed operation as steps (DESIGN.md section 2b).

The six built-in operations are presets shipped in `presets/*.yml`, expressed in the same steps
a user writes. A built-in's options (`url`, `size_bytes`, `poll_interval_seconds`…) adjust its
preset; `steps:` replaces the preset whole. Any other name under `operations:` adds an operation,
which then needs its own steps.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import yaml
from pydantic import Field, PositiveInt, model_validator

from wedwatch.config._base import OPERATIONS, Seconds, Strict
from wedwatch.config.steps import Step, check_scopes

__all__ = [
    "OperationConfig",
    "GuestListConfig",
    "PhotoUploadConfig",
    "PollingConfig",
    "MobileConfig",
    "VendorNotificationConfig",
    "CriticalPathConfig",
    "OperationsConfig",
    "ADDED_KEY",
    "preset",
]

OPERATION_NAME = r"^[a-z][a-z0-9_]*$"
# Where operations with new names are kept; the loader drops it from error locations, so a user
# reads `operations.rsvp.steps[0]…`, never this key.
ADDED_KEY = "+added"


@cache
def preset(name: str) -> dict[str, Any]:
    """The shipped preset of a built-in operation, as written in its YAML file."""
    text = resources.files("wedwatch.config").joinpath("presets", f"{name}.yml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert isinstance(document, dict), name
    return document


class OperationConfig(Strict):
    """One probed operation: its steps, deadline and body cap; `url` re-targets a built-in's preset."""

    enabled: bool = True
    url: str | None = None
    timeout_seconds: Seconds = 10.0
    # A guest list of 1,000 guests is about 0.5 MB. The cap bounds memory: every probe in flight
    # may hold up to this much (64 in flight at 10 MiB would be 1.3 GB).
    max_body_bytes: PositiveInt = 2 * 1024 * 1024
    headers: dict[str, str] = Field(default_factory=dict)
    # The wedding-day latency guarantee of this operation (thresholds.wedding_day.operation_seconds
    # wins when it names the operation; otherwise response_seconds, 500 ms).
    guarantee_seconds: Seconds | None = None
    steps: list[Step] | None = None
    cleanup: list[Step] | None = None

    # The built-in whose preset fills `steps` when none are given (None: steps are required).
    builtin: ClassVar[str | None] = None
    # Options that only adjust the preset, so they make no sense beside `steps`.
    preset_options: ClassVar[tuple[str, ...]] = ("url",)
    # Whether steps may `record` critical-path readings.
    records: ClassVar[bool] = False

    @model_validator(mode="after")
    def _fill_steps(self) -> OperationConfig:
        if self.steps is None:
            if self.builtin is None:
                raise ValueError("steps: an operation that is not built in needs steps")
            document = self._adjust(preset(self.builtin))
            object.__setattr__(self, "steps", [Step.model_validate(s) for s in document["steps"]])
            if self.cleanup is None:
                object.__setattr__(self, "cleanup", [Step.model_validate(s) for s in document.get("cleanup", [])])
        else:
            given = [o for o in self.preset_options if o in self.model_fields_set]
            if given:
                raise ValueError(f"{given[0]}: adjusts the built-in preset only; with steps, write it into a step")
            if not self.steps:
                raise ValueError("steps: an operation needs at least one step")
        if self.cleanup is None:
            object.__setattr__(self, "cleanup", [])
        check_scopes(self.run_steps, self.cleanup_steps, records=self.records)
        return self

    def _adjust(self, document: dict[str, Any]) -> dict[str, Any]:
        """The preset with this config's options applied (a deep copy: the cached preset stays as shipped)."""
        adjusted: dict[str, Any] = yaml.safe_load(yaml.safe_dump(document))
        if self.url is not None:
            adjusted["steps"][0]["request"]["url"] = self.url
        return adjusted

    @property
    def run_steps(self) -> list[Step]:
        """The steps, after presets are filled in."""
        assert self.steps is not None
        return self.steps

    @property
    def cleanup_steps(self) -> list[Step]:
        """The cleanup steps, after presets are filled in."""
        return self.cleanup or []


class GuestListConfig(OperationConfig):
    """guest_list: optionally assert that the list holds the calendar's guest count."""

    assert_guest_count: bool = True
    builtin: ClassVar[str | None] = "guest_list"
    preset_options: ClassVar[tuple[str, ...]] = ("url", "assert_guest_count")

    def _adjust(self, document: dict[str, Any]) -> dict[str, Any]:
        adjusted = super()._adjust(document)
        if not self.assert_guest_count:
            expect = adjusted["steps"][0]["expect"]
            expect["assert"] = [a for a in expect["assert"] if "count" not in a]
        return adjusted


class PhotoUploadConfig(OperationConfig):
    """photo_upload: size of the generated image and whether to delete it afterwards."""

    size_bytes: PositiveInt = 256 * 1024
    delete_after: bool = True
    timeout_seconds: Seconds = 15.0
    builtin: ClassVar[str | None] = "photo_upload"
    preset_options: ClassVar[tuple[str, ...]] = ("url", "size_bytes", "delete_after")

    def _adjust(self, document: dict[str, Any]) -> dict[str, Any]:
        adjusted = super()._adjust(document)
        adjusted["steps"][0]["request"]["upload"]["size_bytes"] = self.size_bytes
        if not self.delete_after:
            adjusted["cleanup"] = []
        return adjusted


class PollingConfig(OperationConfig):
    """timeline_sync (and, as VendorNotificationConfig, vendor_notification): poll until visible or delivered."""

    poll_interval_seconds: Seconds = 0.02
    builtin: ClassVar[str | None] = "timeline_sync"
    preset_options: ClassVar[tuple[str, ...]] = ("url", "poll_interval_seconds")

    def _adjust(self, document: dict[str, Any]) -> dict[str, Any]:
        adjusted = super()._adjust(document)
        for step in adjusted["steps"]:
            if "until" in step:
                step["until"]["interval_seconds"] = self.poll_interval_seconds
        return adjusted


class VendorNotificationConfig(PollingConfig):
    """vendor_notification: trigger a notification, poll until it is delivered."""

    builtin: ClassVar[str | None] = "vendor_notification"


class MobileConfig(OperationConfig):
    """mobile: the user agent the probe presents, and the offline bundle check (a non-critical step)."""

    user_agent: str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) wedwatch-probe"
    # The `offline` step: the offline bundle's manifest must be present, list files and be fresh.
    offline: bool = True
    offline_url: str | None = None
    offline_max_age_seconds: Seconds = 86400.0
    builtin: ClassVar[str | None] = "mobile"
    preset_options: ClassVar[tuple[str, ...]] = (
        "url",
        "user_agent",
        "offline",
        "offline_url",
        "offline_max_age_seconds",
    )

    def _adjust(self, document: dict[str, Any]) -> dict[str, Any]:
        adjusted = super()._adjust(document)
        # A mobile probe re-targeted with `url` at another platform checks an offline manifest only
        # when told where it is: the preset's path is the stand-in's, and guessing would alert falsely.
        if not self.offline or (self.url is not None and self.offline_url is None):
            adjusted["steps"] = [s for s in adjusted["steps"] if s["name"] != "offline"]
        for step in adjusted["steps"]:
            step["request"]["headers"]["User-Agent"] = self.user_agent
            if step["name"] == "offline":
                if self.offline_url is not None:
                    step["request"]["url"] = self.offline_url
                for assertion in step["expect"]["assert"]:
                    if "max_age_seconds" in assertion:
                        assertion["max_age_seconds"] = self.offline_max_age_seconds
        return adjusted


class CriticalPathConfig(OperationConfig):
    """critical_path: read the day's live status; `record` makes the critical-path gauges."""

    builtin: ClassVar[str | None] = "critical_path"
    records: ClassVar[bool] = True


class OperationsConfig(Strict):
    """The six built-in operations of DESIGN.md section 2, and any operation added by name."""

    guest_list: GuestListConfig = Field(default_factory=GuestListConfig)
    photo_upload: PhotoUploadConfig = Field(default_factory=PhotoUploadConfig)
    timeline_sync: PollingConfig = Field(default_factory=PollingConfig)
    vendor_notification: VendorNotificationConfig = Field(default_factory=VendorNotificationConfig)
    mobile: MobileConfig = Field(default_factory=MobileConfig)
    critical_path: CriticalPathConfig = Field(default_factory=CriticalPathConfig)
    added: dict[str, OperationConfig] = Field(default_factory=dict, alias=ADDED_KEY)

    @model_validator(mode="before")
    @classmethod
    def _gather_added(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        builtin = {k: v for k, v in data.items() if k in OPERATIONS}
        added = {k: v for k, v in data.items() if k not in OPERATIONS}
        for name in added:
            if not isinstance(name, str) or not _is_name(name):
                raise ValueError(f"{name}: an operation's name must match [a-z][a-z0-9_]* (it becomes a label value)")
        return {**builtin, ADDED_KEY: added} if added else builtin

    def names(self) -> list[str]:
        """Every operation, enabled or not: the built-ins in contract order, then the added ones."""
        return [*OPERATIONS, *self.added]

    def enabled(self) -> list[str]:
        """Names of the enabled operations, in that order."""
        return [name for name in self.names() if self.get(name).enabled]

    def get(self, name: str) -> OperationConfig:
        """One operation's config (KeyError for an unknown name)."""
        if name in OPERATIONS:
            config: OperationConfig = getattr(self, name)
            return config
        return self.added[name]


def _is_name(name: str) -> bool:
    return re.match(OPERATION_NAME, name) is not None
