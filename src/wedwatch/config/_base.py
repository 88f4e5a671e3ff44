"""Building blocks shared by the config sections."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Strict", "Seconds", "Ratio", "OPERATIONS"]

OPERATIONS: tuple[str, ...] = (
    "guest_list",
    "photo_upload",
    "timeline_sync",
    "vendor_notification",
    "mobile",
    "critical_path",
)


class Strict(BaseModel):
    """A config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Seconds = Annotated[float, Field(gt=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]


