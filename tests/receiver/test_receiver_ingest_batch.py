"""Batched ingest (a few statements per notification) against the one-by-one ingest it replaced.

The reference below is the receiver's previous ingest, statement by statement per alert, kept
here as the specification: on random notifications (repeats, resolutions, duplicates inside one
notification, flapping fingerprints, emergencies, platform-wide alerts) both must leave the same
rows and report the same results, on both store back ends.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from receiver_support import NOW, alert, notification

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.config.actions import ActionsConfig
from wedwatch.config.model import Phase
from wedwatch.receiver.ingest import IngestResult, action_key, action_target, ingest
from wedwatch.receiver.payload import Alert, Notification, parse_notification
from wedwatch.receiver.policy import decide
from wedwatch.store import Store, open_store_ctx
from wedwatch.store.outbox import FinishedAction
from wedwatch.store.records import ActionRow, IncidentRow
from wedwatch.store.transaction import Transaction

ACTIONS = ActionsConfig.model_validate(
    {
        "flap_max_transitions": 2,
        "flap_window_seconds": 3600,
        "definitions": {"log": {"type": "log"}, "page": {"type": "notify", "url": "http://127.0.0.1:9/page"}},
        "strategies": {
            "emergency": ["scale", "cache_warm", "page", "log"],
            "urgent": ["scale", "log"],
            "standard": ["cache_warm", "log"],
            "log": ["log"],
        },
    }
)
LONDON = ZoneInfo("Europe/London")


def _status(wedding_id: str, phase: Phase, guests: int) -> WeddingStatus:
    wedding = Wedding(wedding_id, datetime(2026, 11, 28, 21, 0, tzinfo=LONDON), "Europe/London", guests, 5)
    return WeddingStatus(wedding, phase, "wedding_day" if is_live(phase) else "standard", True, 10.0)


STATUSES = [
    _status("w-live", Phase.CEREMONY, 180),
    _status("w-far", Phase.MONTH, 90),
    _status("w-day", Phase.WEDDING_DAY, 60),
    _status("w-far", Phase.CEREMONY, 999),  # a second entry for one id: the first one counts
]


# --- the reference: the previous ingest, one statement at a time -------------------------------


def _reference_params(alert: Alert, decision: Any, incident_id: int, statuses: Sequence[WeddingStatus]) -> dict[str, Any]:
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


async def reference_ingest(
    store: Store, notification: Notification, raw: dict[str, Any], statuses: Sequence[WeddingStatus],
    actions: ActionsConfig, now: datetime,
) -> IngestResult:  # fmt: skip
    result = IngestResult()
    alerts = sorted(notification.alerts, key=lambda a: (a.fingerprint, a.startsAt))
    async with store.transaction() as tx:
        new = await store.record_notification(
            dedup_key=notification.dedup_key(), group_key=notification.groupKey, receiver=notification.receiver,
            status=notification.status, alert_count=len(notification.alerts), payload=raw, received_at=now, tx=tx,
        )  # fmt: skip
        if not new:
            result.duplicate = True
            return result
        for a in alerts:
            if a.status == "firing":
                await _reference_firing(store, tx, a, statuses, actions, now, result)
            else:
                await _reference_resolved(store, tx, a, now, result)
    return result


async def _reference_firing(
    store: Store, tx: Transaction, a: Alert, statuses: Sequence[WeddingStatus], actions: ActionsConfig,
    now: datetime, result: IngestResult,
) -> None:  # fmt: skip
    since = now - timedelta(seconds=actions.flap_window_seconds)
    starts = await store.count_incident_starts_since(a.fingerprint, since, tx=tx)
    decision = decide(a.labels, statuses, actions, flapping=starts >= actions.flap_max_transitions)
    result.alerts.append(("firing", decision.escalated_severity))
    incident_id, created = await store.upsert_incident(
        fingerprint=a.fingerprint, starts_at=a.startsAt, alertname=a.alertname, status="firing",
        severity=decision.severity, escalated_severity=decision.escalated_severity, strategy=decision.strategy,
        wedding_id=decision.wedding_id, operation=a.labels.get("operation"), labels=a.labels,
        annotations=a.annotations, generator_url=a.generatorURL or None, seen_at=now, tx=tx,
    )  # fmt: skip
    if not created:
        return
    result.incidents_created += 1
    await store.record_response(
        incident_id=incident_id, strategy=decision.strategy, severity=decision.escalated_severity,
        wedding_id=decision.wedding_id, decided_at=now, details=decision.details(), tx=tx,
    )  # fmt: skip
    params = _reference_params(a, decision, incident_id, statuses)
    only_logs = all(name == "log" for name in decision.actions)
    for name in decision.actions:
        if name == "log":  # recorded done at decision time (no kill switch in these tests)
            row = ActionRow(incident_id, name, action_key(a, name), params, now, action_target(decision))
            done = FinishedAction(row, "done", {"logged": True}, completes_response=only_logs)
            queued = await store.enqueue_actions([], finished=[done], tx=tx)
            result.actions_finished.append((name, "succeeded"))
        else:
            queued = await store.enqueue_action(
                incident_id, name, action_key(a, name), params, target=action_target(decision), now=now, tx=tx
            )
        result.actions_queued += int(queued)
    if decision.strategy == "emergency":
        entered = await store.enter_emergency(
            entered_at=now, reason=f"{a.alertname} is critical while {decision.wedding_id or 'a wedding'} is live",
            incident_id=incident_id, wedding_id=decision.wedding_id, tx=tx,
        )  # fmt: skip
        result.emergency_entered = result.emergency_entered or entered is not None


async def _reference_resolved(store: Store, tx: Transaction, a: Alert, now: datetime, result: IngestResult) -> None:
    severity = a.labels.get("severity", "low")
    result.alerts.append(("resolved", severity))
    ended = a.ends_at or now
    incident_id, created = await store.upsert_incident(
        fingerprint=a.fingerprint, starts_at=a.startsAt, alertname=a.alertname, status="resolved",
        severity=severity, wedding_id=a.labels.get("wedding_id") or None, operation=a.labels.get("operation"),
        labels=a.labels, annotations=a.annotations, generator_url=a.generatorURL or None, ends_at=ended,
        seen_at=now, tx=tx,
    )  # fmt: skip
    if created:
        return
    await store.skip_pending_actions(incident_id, "the alert resolved before the action ran", now=now, tx=tx)
    response = await store.get_response(incident_id, tx=tx)
    if response is None:
        return
    outcome = "resolved_after_action" if response["first_action_completed_at"] is not None else "resolved_without_action"
    closed = await store.resolve_response(incident_id, ended, outcome, tx=tx)
    if closed is not None:
        result.resolved.append((str(closed["strategy"]), closed["resolution_seconds"]))


# --- workloads -------------------------------------------------------------------------------------

FINGERPRINTS = [f"fp{i:02d}" for i in range(7)]
SEVERITIES = ["critical", "high", "medium", "low", "Bogus", "critical", "high"]
WEDDINGS: list[str | None] = ["w-live", "w-far", None, "w-missing", "w-day", None, "w-live"]


def _labels(i: int) -> dict[str, str]:
    labels = {"alertname": f"Alert{i}", "severity": SEVERITIES[i], "operation": "guest_list", "note": "é \"q\" \n"}
    wedding = WEDDINGS[i]
    if wedding is not None:
        labels["wedding_id"] = wedding
    return labels


def random_bodies(seed: int, count: int) -> list[dict[str, Any]]:
    """Notifications over a few fingerprints and start times, so that they repeat, resolve and flap."""
    rng = random.Random(seed)
    starts = [NOW - timedelta(minutes=m) for m in (95, 40, 30, 20, 10, 3)]  # the first one is outside the flap window
    bodies: list[dict[str, Any]] = []
    for n in range(count):
        if bodies and rng.random() < 0.15:
            bodies.append(rng.choice(bodies))  # a retry or the other half of an HA pair
            continue
        alerts = []
        for _ in range(rng.randint(1, 7)):
            i = rng.randrange(len(FINGERPRINTS))
            started = rng.choice(starts)
            if rng.random() < 0.35:
                ended = started + timedelta(minutes=rng.choice([1, 2, 50])) if rng.random() < 0.8 else None
                alerts.append(alert(FINGERPRINTS[i], status="resolved", labels=_labels(i), starts=started, ends=ended))
            else:
                alerts.append(alert(FINGERPRINTS[i], labels=_labels(i), starts=started))
            if rng.random() < 0.1:
                alerts.append(dict(alerts[-1]))  # the same alert twice in one notification
        bodies.append(notification(*alerts, group=f"g{n % 3}"))
    return bodies


async def _act_on_some(store: Store, now: datetime, rng: random.Random) -> None:
    """A stand-in worker: finishes some pending actions (by key, the same on both stores)."""
    for incident in await store.list_incidents(limit=10_000):
        for action in await store.list_actions(incident["id"]):
            if action["status"] == "pending" and rng.random() < 0.5:
                await store.finish_action(action["id"], "done", {"ok": True}, now=now)
                await store.complete_response_action(incident["id"], now)


async def snapshot(store: Store) -> dict[str, Any]:
    """Every row ingest writes, ids replaced by natural keys (PostgreSQL's sequences differ)."""
    incidents = await store.list_incidents(limit=10_000)
    key = {i["id"]: f"{i['fingerprint']}@{i['starts_at'].isoformat()}" for i in incidents}

    def strip(row: dict[str, Any]) -> dict[str, Any]:
        row = {k: v for k, v in row.items() if k != "id"}
        if row.get("incident_id") is not None:
            row["incident_id"] = key[row["incident_id"]]
        if isinstance(row.get("params"), dict) and "incident_id" in row["params"]:
            row["params"] = {**row["params"], "incident_id": key[row["params"]["incident_id"]]}
        return row

    actions = [strip(a) for i in incidents for a in await store.list_actions(i["id"])]
    return {
        "incidents": sorted((strip(i) for i in incidents), key=lambda r: (r["fingerprint"], r["starts_at"])),
        "responses": sorted((strip(r) for r in await store.list_responses(limit=10_000)), key=lambda r: r["incident_id"]),
        "actions": sorted(actions, key=lambda r: r["idempotency_key"]),
        "emergencies": [strip(e) for e in await store.list_emergency_events(limit=1000)],
    }


def _comparable(result: IngestResult) -> dict[str, Any]:
    fields = asdict(result)
    fields.pop("capacity_asked")  # the reference predates it
    return fields


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_batched_ingest_leaves_what_one_by_one_ingest_left(store_url: str, second_url: str, seed: int) -> None:
    bodies = random_bodies(seed, 40)
    async with open_store_ctx(store_url) as batched, open_store_ctx(second_url) as reference:
        for n, body in enumerate(bodies):
            now = NOW + timedelta(minutes=n)
            parsed, raw = parse_notification(json.dumps(body).encode())
            got = await ingest(batched, parsed, raw, STATUSES, ACTIONS, now)
            want = await reference_ingest(reference, parsed, raw, STATUSES, ACTIONS, now)
            assert _comparable(got) == _comparable(want), f"notification {n}"
            for store in (batched, reference):
                await _act_on_some(store, now, random.Random(seed * 1000 + n))
        got_rows, want_rows = await snapshot(batched), await snapshot(reference)
    assert got_rows == want_rows
    # The workload did exercise what it is meant to.
    flapped = [a for a in got_rows["actions"] if a["action"] == "page" and a["params"]["strategy"] != "emergency"]
    assert flapped, "no flapping alert was gated"
    assert any(r["outcome"] == "resolved_after_action" for r in got_rows["responses"])
    assert any(r["outcome"] == "resolved_without_action" for r in got_rows["responses"])
    assert any(a["status"] == "skipped" for a in got_rows["actions"])
    assert got_rows["emergencies"]


async def test_flap_counts_include_what_the_same_notification_creates_before(store_url: str, second_url: str) -> None:
    labels = _labels(1)  # high, not live: urgent (scale, log) unless flapping (page)
    older = [alert("f", labels=labels, starts=NOW - timedelta(minutes=m)) for m in (95, 40, 30, 20)]
    seen = alert("f", labels=labels, starts=NOW - timedelta(minutes=10))
    strategies: dict[str, dict[int, list[str]]] = {}
    async with open_store_ctx(store_url) as batched, open_store_ctx(second_url) as reference:
        for name, store, run in (("batched", batched, ingest), ("reference", reference, reference_ingest)):
            for body in (notification(seen, group="first"), notification(*older, seen, group="second")):
                parsed, raw = parse_notification(json.dumps(body).encode())
                await run(store, parsed, raw, STATUSES, ACTIONS, NOW)
            by_start = {}
            for incident in await store.list_incidents():
                minutes = round((NOW - incident["starts_at"]).total_seconds() / 60)
                by_start[minutes] = [a["action"] for a in await store.list_actions(incident["id"])]
            strategies[name] = by_start
    # Flap window 1 h, 2 starts flap: -95 is outside the window, -10 was stored before; -40 sees
    # one start (-10), -30 sees two (-10, -40) and so on.
    want = {95: ["scale", "log"], 40: ["scale", "log"], 30: ["page"], 20: ["page"], 10: ["scale", "log"]}
    assert strategies["batched"] == strategies["reference"] == want


async def test_replicas_ingesting_the_same_alerts_at_once_create_and_queue_each_once(store_url: str) -> None:
    # Every notification reaches both replicas three times (an HA pair, retries), and each of its
    # alerts is also in the next notification (another group): incidents are contended.
    labels = _labels(1)  # high, not live: urgent (scale, log)
    bodies = [notification(alert(f"c{n:02d}", labels=labels), alert(f"c{n + 1:02d}", labels=labels), group=f"g{n}")
              for n in range(10)]  # fmt: skip
    async with open_store_ctx(store_url) as a, open_store_ctx(store_url) as b:
        jobs = [(store, body) for body in bodies for store in (a, b) for _ in range(3)]
        random.Random(5).shuffle(jobs)

        async def deliver(store: Store, body: dict[str, Any]) -> IngestResult:
            parsed, raw = parse_notification(json.dumps(body).encode())
            return await ingest(store, parsed, raw, STATUSES, ACTIONS, NOW)

        results = await asyncio.gather(*(deliver(store, body) for store, body in jobs))
        incidents = await a.list_incidents(limit=100)
        actions = [x for i in incidents for x in await a.list_actions(i["id"])]
    assert sum(not r.duplicate for r in results) == len(bodies)
    assert len(incidents) == 11 and sum(r.incidents_created for r in results) == 11
    assert len({x["idempotency_key"] for x in actions}) == len(actions) == sum(r.actions_queued for r in results)
    assert len(actions) == 22


class _Counting(Transaction):
    """A transaction that counts the statements sent through it."""

    def __init__(self, inner: Transaction) -> None:
        self.inner = inner
        self.statements: list[str] = []

    async def execute(self, name: str, params: Any = None) -> int:
        self.statements.append(name)
        return await self.inner.execute(name, params)

    async def executemany(self, name: str, rows: Any) -> int:
        self.statements.append(name)
        return await self.inner.executemany(name, rows)

    async def fetchone(self, name: str, params: Any = None) -> Any:
        self.statements.append(name)
        return await self.inner.fetchone(name, params)

    async def fetchall(self, name: str, params: Any = None) -> Any:
        self.statements.append(name)
        return await self.inner.fetchall(name, params)

    async def fetch_each(self, name: str, rows: Any) -> Any:
        self.statements.append(name)
        return await self.inner.fetch_each(name, rows)

    async def run_script(self, sql: str) -> None:
        await self.inner.run_script(sql)


def _count_statements(store: Store) -> list[list[str]]:
    """Make `store` record the named statements of each transaction it opens; the list they go to."""
    seen: list[list[str]] = []
    original = store.transaction

    @asynccontextmanager
    async def counting(*, readonly: bool = False) -> AsyncIterator[Transaction]:
        async with original(readonly=readonly) as tx:
            counted = _Counting(tx)
            yield counted
        seen.append(counted.statements)

    store.transaction = counting  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("size", [1, 100])
async def test_round_trips_per_notification_do_not_grow_with_its_alerts(store: Store, size: int) -> None:
    seen = _count_statements(store)
    labels = _labels(1)  # high, w-far: urgent
    firing = [alert(f"n{i:03d}", labels=labels) for i in range(size)]
    resolved = [alert(f"n{i:03d}", status="resolved", labels=labels, ends=NOW) for i in range(size)]
    for body in (notification(*firing), notification(*firing, group="again"), notification(*resolved)):
        parsed, raw = parse_notification(json.dumps(body).encode())
        await ingest(store, parsed, raw, STATUSES, ACTIONS, NOW)
    new, repeat, ended = seen
    assert new == ["insert_notification", "find_incidents", "insert_incidents", "get_automation", "insert_responses",
                   "insert_actions"]  # fmt: skip
    assert repeat == ["insert_notification", "find_incidents", "update_incident"]
    assert ended == ["insert_notification", "find_incidents", "update_incident", "skip_pending_actions",
                     "get_response", "resolve_response"]  # fmt: skip


async def test_capacity_asked_when_a_new_incident_queues_a_scale_action(store: Store) -> None:
    async def send(*alerts: dict[str, Any], group: str) -> IngestResult:
        parsed, raw = parse_notification(json.dumps(notification(*alerts, group=group)).encode())
        return await ingest(store, parsed, raw, STATUSES, ACTIONS, NOW)

    assert (await send(alert("s", labels=_labels(1)), group="a")).capacity_asked  # urgent: scale, log
    assert not (await send(alert("s", labels=_labels(1)), group="b")).capacity_asked  # a repeat decides nothing
    medium = {"alertname": "M", "severity": "medium", "wedding_id": "w-far"}
    assert not (await send(alert("m", labels=medium), group="c")).capacity_asked  # standard: cache_warm, log


# --- the store's row sets ------------------------------------------------------------------------

ODD_INSTANTS = [
    datetime(2027, 3, 28, 1, 30, 59, 999999, tzinfo=ZoneInfo("America/New_York")),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("UTC")),
    datetime(1970, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata")),
]
ODD_TEXT = {"alertname": "Zoë's 🎉 — 100% :name %(x)s '--' \\ \" \n", "k\"ey": "v/al</script>"}


async def test_batched_incidents_read_back_as_one_row_upserts_write_them(store: Store) -> None:
    rows = [
        IncidentRow(fingerprint=f"b{i}", starts_at=at, alertname="A", status=status, severity="high",
                    labels=ODD_TEXT, annotations={"n": str(i)}, seen_at=at, ends_at=at if status == "resolved" else None,
                    escalated_severity="critical", strategy="emergency", wedding_id=None, generator_url="http://x")
        for i, (at, status) in enumerate(zip(ODD_INSTANTS, ["firing", "resolved", "firing"], strict=True))
    ]  # fmt: skip
    created = await store.insert_incidents(rows)
    assert list(created) == [row.key for row in rows]
    for row in rows:
        single, _ = await store.upsert_incident(
            fingerprint="u" + row.fingerprint, starts_at=row.starts_at, alertname=row.alertname, status=row.status,
            severity=row.severity, labels=row.labels, annotations=row.annotations, seen_at=row.seen_at,
            escalated_severity=row.escalated_severity, strategy=row.strategy, wedding_id=row.wedding_id,
            generator_url=row.generator_url, ends_at=row.ends_at,
        )  # fmt: skip
        batched_row, single_row = await store.get_incident(created[row.key]), await store.get_incident(single)
        assert batched_row is not None and single_row is not None
        differ = {k for k in batched_row if k not in ("id", "fingerprint") and batched_row[k] != single_row[k]}
        assert not differ, differ
    assert await store.insert_incidents(rows) == {}  # every key is taken now
    known, starts = await store.find_incidents([row.key for row in rows] + [("nope", NOW)], ODD_INSTANTS[0])
    assert known == {row.key: created[row.key] for row in rows}
    assert starts == {"b0": 1, "b1": 1}  # b2 started in 1970, before `since`


async def test_row_sets_refuse_naive_datetimes_and_unknown_statuses(store: Store) -> None:
    naive = IncidentRow(fingerprint="n", starts_at=datetime(2027, 6, 12, 13, 0), alertname="A", status="firing",
                        severity="low", labels={}, annotations={}, seen_at=NOW)  # fmt: skip
    with pytest.raises(ValueError, match="naive datetime"):
        await store.insert_incidents([naive])
    with pytest.raises(ValueError, match="firing or resolved"):
        await store.insert_incidents([replace(naive, starts_at=NOW, status="pending")])


async def test_a_log_only_response_is_complete_as_recorded(store: Store) -> None:
    seen = _count_statements(store)
    body = notification(alert("log-only", labels=_labels(3)))  # low, a wedding not live: strategy log
    parsed, raw = parse_notification(json.dumps(body).encode())
    await ingest(store, parsed, raw, STATUSES, ACTIONS, NOW)
    # No statement after the actions' insert completes the response: it was inserted complete.
    assert seen == [["insert_notification", "find_incidents", "insert_incidents", "get_automation", "insert_responses",
                     "insert_actions"]]  # fmt: skip
    (response,) = await store.list_responses()
    assert response["strategy"] == "log"
    assert response["first_action_completed_at"] is not None
