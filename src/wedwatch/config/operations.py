"""The `operations` section: one model per probed operation."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from wedwatch.config._base import OPERATIONS, Seconds, Strict

__all__ = ["OperationConfig", "GuestListConfig", "PhotoUploadConfig", "PollingConfig", "MobileConfig", "OperationsConfig"]


class OperationConfig(Strict):
    """One probed operation. `url` is a template with {base_url} and {wedding_id}."""

    enabled: bool = True
    url: str | None = None
    timeout_seconds: Seconds = 10.0
    # A guest list of 1,000 guests is about 0.5 MB. The cap bounds memory: every probe in flight
    # may hold up to this much (64 in flight at 10 MiB would be 1.3 GB).
    max_body_bytes: PositiveInt = 2 * 1024 * 1024
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


class OperationsConfig(Strict):
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
