"""A wedding as the rest of wedwatch sees it, and the parsing of one calendar entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["Wedding", "EntryError", "parse_entry"]


@dataclass(frozen=True, slots=True)
class Wedding:
    """One wedding; `ceremony_at` is timezone-aware in the wedding's own zone."""

    id: str
    ceremony_at: datetime
    timezone: str
    guests: int
    vendors: int
    name: str | None = None
    venue: str | None = None

    @property
    def ceremony_utc(self) -> datetime:
        """The ceremony's instant in UTC."""
        return self.ceremony_at.astimezone(UTC)

    def to_dict(self) -> dict[str, Any]:
        """The entry as a calendar file would hold it (local ceremony time, no offset)."""
        return {
            "id": self.id,
            "ceremony_at": self.ceremony_at.replace(tzinfo=None).isoformat(timespec="minutes"),
            "timezone": self.timezone,
            "guests": self.guests,
            "vendors": self.vendors,
            "name": self.name,
            "venue": self.venue,
        }


@dataclass(frozen=True, slots=True)
class EntryError:
    """Why one calendar entry was skipped: which entry, which field, what was wrong."""

    index: int
    wedding_id: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        who = f"entry {self.index}" + (f" (id {self.wedding_id!r})" if self.wedding_id else "")
        return f"{who}: {self.field}: {self.reason}" if self.field else f"{who}: {self.reason}"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    ceremony_at: datetime
    timezone: str
    guests: int = Field(ge=0, le=100_000)
    vendors: int = Field(default=0, ge=0, le=10_000)
    name: str | None = None
    venue: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class _LenientEntry(_Entry):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def parse_entry(index: int, raw: Any, *, strict: bool = True) -> Wedding | EntryError:
    """Turn one raw calendar entry into a Wedding, or say exactly what is wrong with it."""
    wedding_id = str(raw["id"]) if isinstance(raw, dict) and raw.get("id") not in (None, "") else None
    if not isinstance(raw, dict):
        return EntryError(index, None, None, f"an entry must be a mapping, not {type(raw).__name__}")
    try:
        entry = (_Entry if strict else _LenientEntry).model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        reason = "unknown field" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        return EntryError(index, wedding_id, field, reason)
    zone = ZoneInfo(entry.timezone)
    local = entry.ceremony_at
    if local.tzinfo is not None:
        # An explicit offset names an instant; show it in the wedding's own zone.
        local = local.astimezone(zone)
    else:
        local = local.replace(tzinfo=zone)
        # A wall time skipped by a DST change does not survive a round trip through UTC.
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != entry.ceremony_at:
            return EntryError(
                index, entry.id, "ceremony_at", f"{entry.ceremony_at.isoformat()} does not exist in {entry.timezone} (DST gap)"
            )
    return Wedding(
        id=entry.id,
        ceremony_at=local,
        timezone=entry.timezone,
        guests=entry.guests,
        vendors=entry.vendors,
        name=entry.name,
        venue=entry.venue,
    )
