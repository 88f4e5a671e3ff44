"""Rows the exporter hands to the store in batches: probe aggregates and critical-path samples."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

__all__ = ["ProbeAggregate", "CriticalPathSample"]


@dataclass(frozen=True, slots=True)
class ProbeAggregate:
    """Probe results of one (wedding, operation) in one time bucket; repeats add up in the store.

    `wedding_id` is never NULL (a NULL would defeat the unique key the sums rely on): use the
    exporter's chosen placeholder for results not attributed to one wedding.
    """

    wedding_id: str
    operation: str
    bucket_start: datetime
    bucket_seconds: int
    tier: str
    phase: str
    probes: int
    failures: int
    duration_sum_seconds: float
    duration_max_seconds: float
    last_reason: str | None = None

    def params(self) -> dict[str, Any]:
        """The row as named query parameters."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class CriticalPathSample:
    """One reading of a wedding's live status; None where the platform did not say."""

    wedding_id: str
    observed_at: datetime
    guests_checked_in: int | None = None
    guests_expected: int | None = None
    next_milestone_delay_seconds: float | None = None
    vendors_confirmed: int | None = None
    vendors_booked: int | None = None
    open_incidents: int | None = None
    incident_response_seconds: float | None = None

    def params(self) -> dict[str, Any]:
        """The row as named query parameters."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
