"""Rows handed to the store in batches: the exporter's probe aggregates and critical-path samples,
the incidents, responses and actions of one Alertmanager notification, and the outcomes of the
actions a worker ran."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

__all__ = [
    "ProbeAggregate",
    "CriticalPathSample",
    "IncidentRow",
    "ResponseRow",
    "ActionRow",
    "ActionFinish",
    "UNTRACKED_PREFIX",
    "untracked_wedding_id",
]

# `wedding_id` of the rows that aggregate untracked weddings: `*untracked:<phase>`. A wedding id starts
# with a letter or digit (calendar/model.py), so no wedding ever has one of these.
UNTRACKED_PREFIX = "*untracked:"


def untracked_wedding_id(phase: str) -> str:
    """The `wedding_id` of the aggregate row of every untracked wedding in `phase`."""
    return f"{UNTRACKED_PREFIX}{phase}"


@dataclass(frozen=True, slots=True)
class ProbeAggregate:
    """Probe results of one (wedding, operation) in one time bucket; repeats add up in the store.

    Weddings that are not tracked (DESIGN.md section 1: a month and more away, or past the
    `max_tracked_weddings` cap) have no rows of their own: their results add up in one row per
    (phase, operation, bucket) whose `wedding_id` is `untracked_wedding_id(phase)`, so that the
    table grows with the tracked weddings, not with the calendar. `wedding_id` is never NULL (a NULL
    would defeat the unique key the sums rely on), hence a placeholder; the phase in it keeps each
    row in one phase, whose retention window it follows (store/retention.py).
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


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One delivery of an alert: creates the incident (fingerprint, starts_at) or updates it.

    The same fields as `Store.upsert_incident`'s arguments; `seen_at` is when it was received.
    """

    fingerprint: str
    starts_at: datetime
    alertname: str
    status: str
    severity: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    seen_at: datetime
    escalated_severity: str | None = None
    strategy: str | None = None
    wedding_id: str | None = None
    operation: str | None = None
    generator_url: str | None = None
    ends_at: datetime | None = None

    @property
    def key(self) -> tuple[str, datetime]:
        """The incident's identity."""
        return self.fingerprint, self.starts_at

    def params(self) -> dict[str, Any]:
        """The row as named query parameters (those of `insert_incident` and `update_incident`)."""
        return {
            "fingerprint": self.fingerprint,
            "starts_at": self.starts_at,
            "alertname": self.alertname,
            "status": self.status,
            "severity": self.severity,
            "escalated_severity": self.escalated_severity,
            "strategy": self.strategy,
            "wedding_id": self.wedding_id,
            "operation": self.operation,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "generator_url": self.generator_url,
            "ends_at": self.ends_at,
            "seen_at": self.seen_at,
            # The first time it was seen resolved; update_incident keeps an earlier one.
            "resolved_at": self.seen_at if self.status == "resolved" else None,
        }


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """The decision taken for one incident (`Store.record_response`'s arguments)."""

    incident_id: int
    strategy: str
    severity: str
    decided_at: datetime
    wedding_id: str | None = None
    details: Mapping[str, Any] | None = None
    # Set when the response is complete as it is recorded: its only action, a `log`, was done at
    # decision time (receiver/ingest.py), so no later statement has to complete it.
    first_action_completed_at: datetime | None = None

    def params(self) -> dict[str, Any]:
        """The row as named query parameters."""
        return {
            "incident_id": self.incident_id,
            "strategy": self.strategy,
            "severity": self.severity,
            "wedding_id": self.wedding_id,
            "decided_at": self.decided_at,
            "details": dict(self.details or {}),
            "first_action_completed_at": self.first_action_completed_at,
        }


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One action to queue (`Store.enqueue_action`'s arguments); `not_before` defaults to `created_at`."""

    incident_id: int | None
    action: str
    idempotency_key: str
    params: Mapping[str, Any]
    created_at: datetime
    target: str | None = None
    not_before: datetime | None = None

    def values(self) -> dict[str, Any]:
        """The row as named query parameters."""
        return {
            "idempotency_key": self.idempotency_key,
            "incident_id": self.incident_id,
            "action": self.action,
            "target": self.target,
            "params": dict(self.params),
            "not_before": self.not_before if self.not_before is not None else self.created_at,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class ActionFinish:
    """One action's outcome (`Store.finish_action`'s arguments): done, failed or skipped."""

    action_id: int
    status: str
    finished_at: datetime
    result: Mapping[str, Any] | None = None
    error: str | None = None

    def values(self) -> dict[str, Any]:
        """The row as named query parameters."""
        return {
            "id": self.action_id,
            "status": self.status,
            "result": dict(self.result) if self.result is not None else None,
            "error": self.error,
            "now": self.finished_at,
        }
