"""POST /alerts end to end on both store back ends: the ack contract, idempotency, effectiveness."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from receiver_support import AUTH, NOW, TOKEN, Clock, MakeConfig, MakeReceiver, Target, alert, fixture, notification

CountRows = Callable[[str], Awaitable[int]]


async def post(client: Any, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post("/alerts", data=io.BytesIO(data), headers={"Content-Type": "application/json", **(AUTH if headers is None else headers)})
    return response.status, await response.json()


async def test_firing_then_resolved_gives_one_incident_one_response_and_effectiveness(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target, clock: Clock, count_rows: CountRows
) -> None:
    client, receiver = await make_receiver(make_config())
    status, body = await post(client, fixture("firing"))
    assert (status, body["status"], body["incidents_created"]) == (200, "accepted", 1)
    assert receiver.worker is not None
    assert await receiver.worker.tick() == 3  # scale, cache_warm, page; `log` was recorded done at decision
    # w-123 is in its ceremony window and the alert is critical: emergency.
    assert sorted(p for p, _ in target.requests) == ["/page", "/scale", "/warm"]
    assert target.hits("/scale")[0]["capacity"] == {"db_connections": 100.0, "cache_mb": 1024.0, "instances": 10.0}
    store = receiver.require_store()
    (incident,) = await store.list_incidents()
    assert (incident["strategy"], incident["escalated_severity"], incident["wedding_id"]) == ("emergency", "critical", "w-123")
    assert await store.active_emergency() is not None

    clock.advance(minutes=3)
    status, body = await post(client, fixture("resolved"))
    assert status == 200
    (response,) = await store.list_responses()
    assert response["outcome"] == "resolved_after_action"
    # The captured alert ended at 21:44:20Z; the actions completed at NOW (21:45:00Z): clamped to 0.
    assert response["resolution_seconds"] == 0.0
    assert await count_rows("performance_alerts") == 1
    assert await count_rows("degradation_responses") == 1
    metrics = await (await client.get("/metrics")).text()
    assert 'wedwatch_response_resolution_seconds_count{strategy="emergency"} 1.0' in metrics


async def test_resolution_seconds_from_first_completed_action_to_ends_at(
    make_config: MakeConfig, make_receiver: MakeReceiver, clock: Clock
) -> None:
    client, receiver = await make_receiver(make_config())
    fired = alert("f1", starts=NOW - timedelta(minutes=5))
    await post(client, notification(fired))
    assert receiver.worker is not None
    await receiver.worker.tick()  # actions complete at NOW
    resolved = alert("f1", status="resolved", starts=NOW - timedelta(minutes=5), ends=NOW + timedelta(seconds=90))
    clock.advance(minutes=2)
    await post(client, notification(resolved))
    (response,) = await receiver.require_store().list_responses()
    assert response["resolution_seconds"] == 90.0


async def test_same_notification_three_times_acts_once(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target, count_rows: CountRows
) -> None:
    client, receiver = await make_receiver(make_config())
    statuses = [(await post(client, fixture("firing")))[1]["status"] for _ in range(3)]
    assert statuses == ["accepted", "duplicate", "duplicate"]
    assert receiver.worker is not None
    await receiver.worker.tick()
    await receiver.worker.tick()
    assert len(target.hits("/page")) == 1
    assert await count_rows("notifications") == 1
    assert await count_rows("action_outbox") == 4


async def test_two_receivers_on_one_database_act_once(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target, count_rows: CountRows
) -> None:
    loaded = make_config()
    a_client, a = await make_receiver(loaded, worker_id="replica-a")
    b_client, b = await make_receiver(loaded, worker_id="replica-b")
    many = [notification(alert(f"fp{i}", labels={"alertname": "X", "severity": "high", "wedding_id": "w-june",
                                                   "operation": "mobile"}), group=f"g{i}") for i in range(5)]  # fmt: skip
    for body in many:  # an HA pair: every notification reaches both replicas
        assert (await post(a_client, body))[0] == 200
        assert (await post(b_client, body))[0] == 200
    assert a.worker is not None and b.worker is not None
    for _ in range(3):
        await asyncio.gather(a.worker.tick(), b.worker.tick())
    # high, not live -> urgent -> scale + log, five incidents: five scale calls, never ten.
    assert len(target.hits("/scale")) == 5
    assert await count_rows("performance_alerts") == 5
    assert await count_rows("action_outbox") == 10


async def test_firing_notification_carrying_a_resolved_alert_closes_it_without_acting(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    client, receiver = await make_receiver(make_config())
    labels = {"alertname": "Slow", "severity": "medium", "wedding_id": "w-june", "operation": "mobile"}
    first = alert("a", labels=labels)
    await post(client, notification(first, group="g"))
    still = alert("b", labels=labels)
    gone = alert("a", status="resolved", labels=labels, ends=NOW)
    status, body = await post(client, notification(still, gone, group="g"))
    assert status == 200 and body["incidents_created"] == 1
    store = receiver.require_store()
    by_fp = {i["fingerprint"]: i for i in await store.list_incidents()}
    assert by_fp["a"]["status"] == "resolved" and by_fp["b"]["status"] == "firing"
    actions_a = await store.list_actions(by_fp["a"]["id"])
    # Resolved before the worker ran them; `log` was done at decision time.
    assert {(a["action"], a["status"]) for a in actions_a} == {("ops", "skipped"), ("log", "done")}
    assert receiver.worker is not None
    await receiver.worker.tick()
    assert len(target.hits("/ops")) == 1  # only b's standard response acted


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"{not json", AUTH, 400, "body is not valid JSON"),
        (json.dumps({**fixture("firing"), "version": "3"}).encode(), AUTH, 400, "unsupported webhook version '3'"),
        (json.dumps({**fixture("firing"), "alerts": [{"status": "firing"}]}).encode(), AUTH, 400, "alerts.0.labels"),
        (json.dumps([1, 2]).encode(), AUTH, 400, "must be a JSON object"),
        (json.dumps(notification(alert("a\x00b"))).encode(), AUTH, 400, "body.alerts[0].fingerprint: contains a NUL character"),
        (json.dumps(notification(alert("a", labels={"k\x00": "v"}))).encode(), AUTH, 400, "contains a NUL character"),
        (json.dumps(notification(alert("a", labels={"k": "\ud800"}))).encode(), AUTH, 400, "body.alerts[0].labels.k: contains an unpaired UTF-16 surrogate"),
        (json.dumps(notification(alert("a"))).encode("utf-16"), AUTH, 400, "body is not valid UTF-8"),
        (json.dumps({**fixture("firing"), "extra": float("nan")}).encode(), AUTH, 400, "NaN is not a JSON value"),
        (json.dumps({**fixture("firing"), "extra": float("-inf")}).encode(), AUTH, 400, "-Infinity is not a JSON value"),
        (b"x" * (5 * 1024 * 1024), AUTH, 413, "limit"),
        (json.dumps(fixture("firing")).encode(), {}, 401, "credentials"),
        (json.dumps(fixture("firing")).encode(), {"Authorization": "Bearer nope"}, 401, "credentials"),
        (json.dumps(fixture("firing")).encode(), {"Authorization": f"Basic {TOKEN}"}, 401, "credentials"),
    ],
)
async def test_rejections_store_nothing(
    body: bytes, headers: dict[str, str], status: int, message: str,
    make_config: MakeConfig, make_receiver: MakeReceiver, count_rows: CountRows,
) -> None:  # fmt: skip
    client, _ = await make_receiver(make_config())
    got, answer = await post(client, body, headers)
    assert got == status
    assert message in answer["error"]
    assert await count_rows("notifications") == 0
    assert await count_rows("performance_alerts") == 0


async def test_escaped_pairs_and_suspect_looking_escapes_are_accepted(
    make_config: MakeConfig, make_receiver: MakeReceiver
) -> None:
    # ensure_ascii escapes the emoji as a surrogate pair (valid), and an escaped backslash
    # before `u0000` is text, not NUL: the quick escape check walks the body and lets both by.
    body = json.dumps(notification(alert("a", labels={"k": "\U0001f600 \\u0000"}))).encode()
    assert b"\\ud83d\\ude00" in body
    client, receiver = await make_receiver(make_config())
    status, answer = await post(client, body)
    assert status == 200, answer
    (incident,) = await receiver.require_store().list_incidents()
    assert incident["labels"]["k"] == "\U0001f600 \\u0000"


async def test_basic_auth_is_accepted_when_configured(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    loaded = make_config(receiver={"auth": {"basic": {"username": "am", "password": "pw"}}})
    client, _ = await make_receiver(loaded)
    good = {"Authorization": "Basic " + base64.b64encode(b"am:pw").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"am:px").decode()}
    assert (await post(client, fixture("firing"), good))[0] == 200
    assert (await post(client, fixture("firing"), bad))[0] == 401


async def test_statuses_are_computed_once_a_second_and_on_every_calendar_change(
    make_config: MakeConfig, make_receiver: MakeReceiver, clock: Clock
) -> None:
    # plan() walks the whole calendar; a notification must not pay for it every time.
    _, receiver = await make_receiver(make_config())
    first = receiver.statuses()
    clock.advance(seconds=0.5)
    assert receiver.statuses() is first
    clock.advance(seconds=0.6)
    second = receiver.statuses()
    assert second is not first and second == first  # recomputed; nothing changed in 1.1 s
    assert receiver.config.calendar.file is not None
    calendar = Path(receiver.config.calendar.file)
    weddings = yaml.safe_load(calendar.read_text())["weddings"]
    calendar.write_text(yaml.safe_dump({"weddings": [w for w in weddings if w["id"] != "w-june"]}))
    assert await receiver.calendar.refresh(receiver.config)
    assert [s.wedding.id for s in receiver.statuses()] == ["w-123"]  # a refresh is seen at once
    cached = receiver.statuses()
    clock.advance(seconds=-5)  # a clock set back is not a cache hit
    assert receiver.statuses() is not cached
    live = {s.wedding.id: s.phase.value for s in receiver.statuses()}
    clock.advance(hours=12)  # w-123's ceremony window has closed
    assert {s.wedding.id: s.phase.value for s in receiver.statuses()} != live
