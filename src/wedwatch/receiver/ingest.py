"""One notification in, durably: dedup, incidents, decisions, responses and the outbox in ONE transaction.

Nothing here acts. Actions are rows in the outbox, keyed by incident (fingerprint, startsAt) and
action name, so a notification delivered twice — a retry, the other half of an HA Alertmanager
pair, another receiver replica — can neither create a second incident nor queue an action twice.
If the transaction fails, nothing of it is kept and the 503 makes Alertmanager send it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.config.actions import ActionsConfig
from wedwatch.receiver.payload import Alert, Notification
from wedwatch.receiver.policy import Decision, decide
from wedwatch.store import Store
from wedwatch.store.transaction import Transaction

__all__ = ["IngestResult", "ingest", "action_key", "action_target"]


@dataclass
class IngestResult:
    """What one notification changed."""

    duplicate: bool = False
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (status, final severity)
    incidents_created: int = 0
    actions_queued: int = 0
    resolved: list[tuple[str, float | None]] = field(default_factory=list)  # (strategy, resolution seconds)
    emergency_entered: bool = False


def action_key(alert: Alert, action: str) -> str:
    """The outbox idempotency key: one action per incident, across replicas and retries."""
    return f"{alert.fingerprint}@{alert.startsAt.isoformat()}:{action}"


def action_target(decision: Decision) -> str:
    """What the action acts on, for the per-target cooldown."""
    return decision.wedding_id or "platform"


def _params(alert: Alert, decision: Decision, incident_id: int, statuses: Sequence[WeddingStatus]) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "alertname": alert.alertname,
        "fingerprint": alert.fingerprint,
        "starts_at": alert.startsAt.isoformat(),
        "severity": decision.escalated_severity,
        "original_severity": decision.severity,
        "strategy": decision.strategy,
        "wedding_id": decision.wedding_id,
        "operation": alert.labels.get("operation"),
        "guests": decision.guests,
        "live": decision.live,
        "live_weddings": [s.wedding.id for s in statuses if is_live(s.phase)],
        "summary": alert.annotations.get("summary", ""),
        "runbook_url": alert.annotations.get("runbook_url", ""),
        "labels": dict(alert.labels),
    }


async def ingest(
    store: Store,
    notification: Notification,
    raw: dict[str, Any],
    statuses: Sequence[WeddingStatus],
    actions: ActionsConfig,
    now: datetime,
) -> IngestResult:
    """Persist a notification and everything it decides; commits once or not at all."""
    result = IngestResult()
    # Sorted, so that replicas handling the same notification lock rows in the same order.
    alerts = sorted(notification.alerts, key=lambda a: (a.fingerprint, a.startsAt))
    async with store.transaction() as tx:
        new = await store.record_notification(
            dedup_key=notification.dedup_key(),
            group_key=notification.groupKey,
            receiver=notification.receiver,
            status=notification.status,
            alert_count=len(notification.alerts),
            payload=raw,
            received_at=now,
            tx=tx,
        )
        if not new:
            result.duplicate = True
            return result
        for alert in alerts:
            if alert.status == "firing":
                await _firing(store, tx, alert, statuses, actions, now, result)
            else:
                await _resolved(store, tx, alert, now, result)
    return result


async def _firing(
    store: Store,
    tx: Transaction,
    alert: Alert,
    statuses: Sequence[WeddingStatus],
    actions: ActionsConfig,
    now: datetime,
    result: IngestResult,
) -> None:
    since = now - timedelta(seconds=actions.flap_window_seconds)
    starts = await store.count_incident_starts_since(alert.fingerprint, since, tx=tx)
    decision = decide(alert.labels, statuses, actions, flapping=starts >= actions.flap_max_transitions)
    result.alerts.append(("firing", decision.escalated_severity))
    incident_id, created = await store.upsert_incident(
        fingerprint=alert.fingerprint,
        starts_at=alert.startsAt,
        alertname=alert.alertname,
        status="firing",
        severity=decision.severity,
        escalated_severity=decision.escalated_severity,
        strategy=decision.strategy,
        wedding_id=decision.wedding_id,
        operation=alert.labels.get("operation"),
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generatorURL or None,
        seen_at=now,
        tx=tx,
    )
    if not created:
        return  # decided when it was first seen; a re-send changes nothing
    result.incidents_created += 1
    await store.record_response(
        incident_id=incident_id,
        strategy=decision.strategy,
        severity=decision.escalated_severity,
        wedding_id=decision.wedding_id,
        decided_at=now,
        details=decision.details(),
        tx=tx,
    )
    params = _params(alert, decision, incident_id, statuses)
    for name in decision.actions:
        queued = await store.enqueue_action(
            incident_id, name, action_key(alert, name), params, target=action_target(decision), now=now, tx=tx
        )
        result.actions_queued += int(queued)
    if decision.strategy == "emergency":
        entered = await store.enter_emergency(
            entered_at=now,
            reason=f"{alert.alertname} is critical while {decision.wedding_id or 'a wedding'} is live",
            incident_id=incident_id,
            wedding_id=decision.wedding_id,
            tx=tx,
        )
        result.emergency_entered = result.emergency_entered or entered is not None


async def _resolved(store: Store, tx: Transaction, alert: Alert, now: datetime, result: IngestResult) -> None:
    severity = alert.labels.get("severity", "low")
    result.alerts.append(("resolved", severity))
    ended = alert.ends_at or now
    incident_id, created = await store.upsert_incident(
        fingerprint=alert.fingerprint,
        starts_at=alert.startsAt,
        alertname=alert.alertname,
        status="resolved",
        severity=severity,
        wedding_id=alert.labels.get("wedding_id") or None,
        operation=alert.labels.get("operation"),
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generatorURL or None,
        ends_at=ended,
        seen_at=now,
        tx=tx,
    )
    if created:
        return  # never seen firing (we were down, or it was silenced): nothing was decided, nothing to close
    await store.skip_pending_actions(incident_id, "the alert resolved before the action ran", now=now, tx=tx)
    response = await store.get_response(incident_id, tx=tx)
    if response is None:
        return
    outcome = "resolved_after_action" if response["first_action_completed_at"] is not None else "resolved_without_action"
    closed = await store.resolve_response(incident_id, ended, outcome, tx=tx)
    if closed is not None:
        result.resolved.append((str(closed["strategy"]), closed["resolution_seconds"]))
