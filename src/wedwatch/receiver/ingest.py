"""One notification in, durably: dedup, incidents, decisions, responses and the outbox in ONE transaction.

Nothing here acts. Actions are rows in the outbox, keyed by incident (fingerprint, startsAt) and
action name, so a notification delivered twice — a retry, the other half of an HA Alertmanager
pair, another receiver replica — can neither create a second incident nor queue an action twice.
If the transaction fails, nothing of it is kept and the 503 makes Alertmanager send it again.

The effect is that of handling the alerts one by one in (fingerprint, startsAt) order — a firing
alert seen first creates its incident, decides and queues its actions; a repeat only updates the
incident; a resolved alert skips pending actions and closes the response — but the statements
are batched per notification (a handful, whatever its size):

1. record the notification (a duplicate stops here);
2. read which incidents exist and the flap counts of their fingerprints (one statement), then
   decide (pure);
3. insert the new incidents, then their responses and actions, then enter emergency mode;
4. apply every other delivery as an update, then skip and close what resolved alerts ended.

Flap counts include the incidents this notification creates ahead of an alert, as they did one
by one. Every phase works in the sorted order, so replicas wait on each other's rows in one order.

`log` actions are recorded final in the same insert as the others (receiver/log_actions.py). A
`log` completes its response only when it is the response's only action; otherwise the
response's effectiveness runs from its first completed action that acts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.config.actions import ActionsConfig
from wedwatch.receiver import log_actions
from wedwatch.receiver.payload import Alert, Notification
from wedwatch.receiver.policy import Decision, decide
from wedwatch.store import Store
from wedwatch.store.outbox import FinishedAction
from wedwatch.store.records import ActionRow, IncidentRow, ResponseRow
from wedwatch.store.transaction import Row, Transaction
from wedwatch.store.values import RawJson

__all__ = ["IngestResult", "ingest", "action_key", "action_target"]

_SKIP_REASON = "the alert resolved before the action ran"


@dataclass
class IngestResult:
    """What one notification changed."""

    duplicate: bool = False
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (status, final severity)
    incidents_created: int = 0
    actions_queued: int = 0  # new outbox rows, the `log` actions recorded final included
    resolved: list[tuple[str, float | None]] = field(default_factory=list)  # (strategy, resolution seconds)
    emergency_entered: bool = False
    capacity_asked: bool = False  # a new incident queued a `scale` action (the forecaster refits)
    actions_finished: list[tuple[str, str]] = field(default_factory=list)  # (action, outcome): `log` actions


def action_key(alert: Alert, action: str) -> str:
    """The outbox idempotency key: one action per incident, across replicas and retries."""
    return f"{alert.fingerprint}@{alert.startsAt.isoformat()}:{action}"


def action_target(decision: Decision) -> str:
    """What the action acts on, for the per-target cooldown (a resource alert's resource: a database
    scale does not hold back a cache scale)."""
    target = decision.wedding_id or "platform"
    return f"{target}/{decision.resource}" if decision.resource else target


@dataclass(slots=True)
class _Delivery:
    """One alert of the notification and what the plan says about it."""

    alert: Alert
    row: IncidentRow
    first: bool  # the first delivery of its incident in this notification
    decision: Decision | None = None  # firing alerts only

    def counted(self) -> tuple[str, str]:
        """(status, final severity) for wedwatch_receiver_alerts_total."""
        if self.decision is not None:
            return "firing", self.decision.escalated_severity
        return "resolved", self.row.severity


def _params(alert: Alert, decision: Decision, incident_id: int, live_weddings: list[str]) -> dict[str, Any]:
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
        "live_weddings": live_weddings,
        "summary": alert.annotations.get("summary", ""),
        "runbook_url": alert.annotations.get("runbook_url", ""),
        "labels": dict(alert.labels),
        # What `scale` sizes, when the decision names it (a resource alert); absent: all.
        **({"capacity": list(decision.capacity)} if decision.capacity else {}),
    }


def _row(alert: Alert, decision: Decision | None, now: datetime) -> IncidentRow:
    operation = alert.labels.get("operation")
    generator_url = alert.generatorURL or None
    if decision is not None:
        return IncidentRow(
            fingerprint=alert.fingerprint,
            starts_at=alert.startsAt,
            alertname=alert.alertname,
            status="firing",
            severity=decision.severity,
            labels=alert.labels,
            annotations=alert.annotations,
            seen_at=now,
            escalated_severity=decision.escalated_severity,
            strategy=decision.strategy,
            wedding_id=decision.wedding_id,
            operation=operation,
            generator_url=generator_url,
        )
    return IncidentRow(
        fingerprint=alert.fingerprint,
        starts_at=alert.startsAt,
        alertname=alert.alertname,
        status="resolved",
        severity=alert.labels.get("severity", "low"),
        labels=alert.labels,
        annotations=alert.annotations,
        seen_at=now,
        wedding_id=alert.labels.get("wedding_id") or None,
        operation=operation,
        generator_url=generator_url,
        ends_at=alert.ends_at or now,
    )


def _plan(
    alerts: Sequence[Alert],
    existing: set[tuple[str, datetime]],
    starts: dict[str, int],
    statuses: Sequence[WeddingStatus],
    actions: ActionsConfig,
    now: datetime,
) -> list[_Delivery]:
    """Decide every alert (sorted) as if handled one by one: one delivery per alert.

    `existing` holds the incidents already stored, `starts` the stored flap counts; an incident
    this notification will create counts for the alerts of its fingerprint after it.
    """
    since = now - timedelta(seconds=actions.flap_window_seconds)
    # decide() looks at the alert's own wedding, or at the live ones for a platform-wide alert:
    # it gets only those (the same answer, without scanning the whole calendar for every alert).
    by_id: dict[str, WeddingStatus] = {}
    for status in statuses:
        by_id.setdefault(status.wedding.id, status)
    live = [s for s in statuses if is_live(s.phase)]
    created_ahead: dict[str, int] = {}
    seen: set[tuple[str, datetime]] = set()
    deliveries = []
    for alert in alerts:
        key = (alert.fingerprint, alert.startsAt)
        first = key not in seen
        seen.add(key)
        decision = None
        if alert.status == "firing":
            count = starts.get(alert.fingerprint, 0) + created_ahead.get(alert.fingerprint, 0)
            wedding_id = alert.labels.get("wedding_id") or None
            relevant = live if wedding_id is None else [by_id[wedding_id]] if wedding_id in by_id else []
            decision = decide(alert.labels, relevant, actions, flapping=count >= actions.flap_max_transitions)
        if first and key not in existing and alert.startsAt >= since:
            created_ahead[alert.fingerprint] = created_ahead.get(alert.fingerprint, 0) + 1
        deliveries.append(_Delivery(alert, _row(alert, decision, now), first, decision))
    return deliveries


async def ingest(
    store: Store,
    notification: Notification,
    raw: Mapping[str, Any] | RawJson,
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
        since = now - timedelta(seconds=actions.flap_window_seconds)
        known, starts = await store.find_incidents([(a.fingerprint, a.startsAt) for a in alerts], since, tx=tx)
        deliveries = _plan(alerts, set(known), starts, statuses, actions, now)
        result.alerts = [d.counted() for d in deliveries]

        candidates = [d for d in deliveries if d.first and d.row.key not in known]
        created = await store.insert_incidents([d.row for d in candidates], tx=tx)
        live_weddings = [s.wedding.id for s in statuses if is_live(s.phase)]
        finished = await _decided(store, tx, [d for d in candidates if d.decision and d.row.key in created], created,
                                  live_weddings, actions, now, result)  # fmt: skip

        # Everything not created here is a later delivery: a repeat, a resolution, or an incident
        # a concurrent transaction created first (its insert above waited, then did nothing).
        updates = [d for d in deliveries if not (d.first and d.row.key in created)]
        ids = await store.update_incidents([d.row for d in updates], tx=tx)
        ended = [(d, incident_id) for d, incident_id in zip(updates, ids, strict=True) if d.decision is None]
        await _ended(store, tx, ended, now, result)
    log_actions.write(finished)
    return result


async def _decided(
    store: Store,
    tx: Transaction,
    firing: list[_Delivery],
    created: dict[tuple[str, datetime], int],
    live_weddings: list[str],
    actions: ActionsConfig,
    now: datetime,
    result: IngestResult,
) -> list[FinishedAction]:
    """Responses, actions and emergency mode for the firing alerts whose incident was just created;
    the `log` actions recorded final."""
    responses: list[ResponseRow] = []
    queued: list[ActionRow] = []
    logs: list[tuple[ActionRow, bool]] = []  # (row, the response's only action)
    emergency: tuple[_Delivery, int] | None = None
    for d in firing:
        decision, incident_id = d.decision, created[d.row.key]
        assert decision is not None
        result.incidents_created += 1
        responses.append(
            ResponseRow(incident_id, decision.strategy, decision.escalated_severity, now, decision.wedding_id,
                        decision.details())
        )  # fmt: skip
        params = _params(d.alert, decision, incident_id, live_weddings)
        target = action_target(decision)
        rows = [
            ActionRow(incident_id, name, action_key(d.alert, name), params, now, target) for name in decision.actions
        ]
        only_logs = all(actions.kind(row.action) == "log" for row in rows)
        for row in rows:
            if actions.kind(row.action) == "log":
                logs.append((row, only_logs))
            else:
                queued.append(row)
        result.capacity_asked = result.capacity_asked or any(actions.kind(name) == "scale" for name in decision.actions)
        if decision.strategy == "emergency" and emergency is None:
            emergency = (d, incident_id)
    finished = await log_actions.record(store, tx, logs, actions)
    result.actions_finished += [(f.row.action, log_actions.outcome(f)) for f in finished]
    # A response whose only action, a `log`, is done is complete as it is recorded: one statement
    # less per notification than completing it after the actions' insert.
    complete = {f.row.incident_id for f in finished if f.completes_response and f.status == "done"}
    if complete:
        responses = [replace(r, first_action_completed_at=now) if r.incident_id in complete else r for r in responses]
        finished = [replace(f, completes_response=False) if f.row.incident_id in complete else f for f in finished]
    await store.record_responses(responses, tx=tx)
    result.actions_queued += await store.enqueue_actions(queued, finished=finished, tx=tx)
    if emergency is not None:
        # One period at most is open: the first emergency opens it, later ones would do nothing.
        d, incident_id = emergency
        assert d.decision is not None
        entered = await store.enter_emergency(
            entered_at=now,
            reason=f"{d.alert.alertname} is critical while {d.decision.wedding_id or 'a wedding'} is live",
            incident_id=incident_id,
            wedding_id=d.decision.wedding_id,
            tx=tx,
        )
        result.emergency_entered = entered is not None
    return finished


async def _ended(
    store: Store, tx: Transaction, ended: list[tuple[_Delivery, int]], now: datetime, result: IngestResult
) -> None:
    """Resolved alerts of incidents seen before: skip what is still pending, close the response once."""
    if not ended:
        return
    # Never seen firing (we were down, or it was silenced) is the other case: nothing was
    # decided then, so the created incident has nothing to skip or close.
    await store.skip_pending_actions_each([incident_id for _, incident_id in ended], _SKIP_REASON, now=now, tx=tx)
    closed = await store.resolve_responses(
        [(incident_id, d.row.ends_at or now) for d, incident_id in ended], _outcome, tx=tx
    )
    for row in closed:
        if row is not None:
            result.resolved.append((str(row["strategy"]), row["resolution_seconds"]))


def _outcome(response: Row) -> str:
    return "resolved_after_action" if response["first_action_completed_at"] is not None else "resolved_without_action"
