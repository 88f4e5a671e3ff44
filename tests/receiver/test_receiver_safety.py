"""The rails around automation: hourly budget, cooldown, kill switch, dry run, flap gating, retries, emergency exit."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from receiver_support import AUTH, NOW, Clock, MakeConfig, MakeReceiver, Target, alert, notification

from wedwatch.receiver.service import Receiver

JUNE = {"alertname": "WedwatchWeddingSlow", "severity": "high", "wedding_id": "w-june", "operation": "mobile"}


async def post(client: Any, body: Any) -> int:
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(body).encode()),
                                 headers={"Content-Type": "application/json", **AUTH})  # fmt: skip
    return int(response.status)


async def drain(receiver: Receiver, rounds: int = 200) -> None:
    assert receiver.worker is not None
    for _ in range(rounds):
        if await receiver.worker.tick() == 0:
            return


async def statuses(receiver: Receiver) -> dict[str, list[str]]:
    """Outbox rows by status: the action names."""
    out: dict[str, list[str]] = {}
    for incident in await receiver.require_store().list_incidents(limit=1000):
        for row in await receiver.require_store().list_actions(incident["id"]):
            out.setdefault(row["status"], []).append(row["action"])
    return out


async def test_alert_storm_runs_no_more_actions_than_the_budget(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    loaded = make_config(actions={"hourly_budget": 10}, receiver={"worker_batch": 500})
    client, receiver = await make_receiver(loaded)
    # 1,000 alerts for one operation inside a minute, ten notifications of a hundred.
    for n in range(10):
        alerts = [alert(f"storm-{n}-{i}", labels={"alertname": "WedwatchOperationErrors", "severity": "medium",
                                                  "operation": "guest_list", "instance": f"i{i}"},
                        starts=NOW - timedelta(seconds=n)) for i in range(100)]  # fmt: skip
        assert await post(client, notification(*alerts, group=f"storm{n}")) == 200
    await drain(receiver)
    by_status = await statuses(receiver)
    acted = [a for a in by_status.get("done", []) if a != "log"]
    assert len(acted) == 10
    assert len(target.requests) == 10
    rows = [r for i in await receiver.require_store().list_incidents(limit=1000)
            for r in await receiver.require_store().list_actions(i["id"]) if r["status"] == "skipped"]  # fmt: skip
    assert rows and all("hourly budget of 10 actions is spent" in r["error"] for r in rows)
    assert by_status.get("done", []).count("log") == 1000  # logging is free


async def test_cooldown_per_action_and_target(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target, clock: Clock
) -> None:
    client, receiver = await make_receiver(make_config(actions={"cooldown_seconds": 300}))
    await post(client, notification(alert("c1", labels=JUNE), group="a"))
    await post(client, notification(alert("c2", labels={**JUNE, "operation": "guest_list"}), group="b"))
    await drain(receiver)
    assert len(target.hits("/scale")) == 1  # same action, same wedding, inside the cooldown
    clock.advance(seconds=301)
    await post(client, notification(alert("c3", labels={**JUNE, "operation": "photo_upload"}), group="c"))
    await drain(receiver)
    assert len(target.hits("/scale")) == 2


async def test_emergency_is_not_held_back_by_a_milder_cooldown(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    client, receiver = await make_receiver(make_config(actions={"cooldown_seconds": 300}))
    live = {"alertname": "WedwatchWeddingSlow", "wedding_id": "w-123", "operation": "guest_list"}
    await post(client, notification(alert("m", labels={**live, "severity": "medium"}), group="m"))  # -> high, urgent
    await drain(receiver)
    await post(client, notification(alert("h", labels={**live, "severity": "high"}), group="h"))  # -> critical, emergency
    await drain(receiver)
    sizes = [body["capacity"]["instances"] for body in target.hits("/scale")]
    assert sizes == [pytest.approx(2 + 3), 10.0]  # sized by 180 guests, then the upper bound


async def test_kill_switch_through_the_api(make_config: MakeConfig, make_receiver: MakeReceiver, target: Target) -> None:
    client, receiver = await make_receiver(make_config())
    off = {"enabled": False, "reason": "vendor maintenance", "by": "sam"}
    assert (await client.post("/api/v1/automation", json=off)).status == 401
    assert (await client.post("/api/v1/automation", json=off, headers=AUTH)).status == 200
    assert (await client.post("/api/v1/automation", json={"enabled": "nah"}, headers=AUTH)).status == 400
    state = await (await client.get("/api/v1/automation", headers=AUTH)).json()
    assert state["data"]["enabled"] is False
    await post(client, notification(alert("k1", labels=JUNE), group="a"))
    await drain(receiver)
    assert target.requests == []
    skipped = (await statuses(receiver))["skipped"]
    assert sorted(skipped) == ["log", "scale"]
    assert (await client.post("/api/v1/automation", json={"enabled": True}, headers=AUTH)).status == 200
    await post(client, notification(alert("k2", labels=JUNE), group="b"))
    await drain(receiver)
    assert len(target.hits("/scale")) == 1


async def test_kill_switch_in_config_and_dry_run(make_config: MakeConfig, make_receiver: MakeReceiver, target: Target) -> None:
    for actions in ({"enabled": False}, {"dry_run": True}):
        client, receiver = await make_receiver(make_config(actions=actions))
        await post(client, notification(alert(f"d-{len(actions)}-{list(actions)[0]}", labels=JUNE), group=list(actions)[0]))
        await drain(receiver)
    assert target.requests == []
    metrics = await (await client.get("/metrics")).text()
    assert 'wedwatch_actions_total{action="scale",outcome="dry_run"} 1.0' in metrics


async def test_flapping_alert_notifies_instead_of_acting(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    client, receiver = await make_receiver(make_config(actions={"flap_max_transitions": 2}))
    for minutes in (30, 20, 10):  # the same alert starting three times in the window
        await post(client, notification(alert("flappy", labels=JUNE, starts=NOW - timedelta(minutes=minutes)), group="f"))
    await drain(receiver)
    assert len(target.hits("/scale")) == 2
    assert len(target.hits("/page")) == 1
    (latest, *_) = await receiver.require_store().list_responses()
    assert "flapping: notify instead of act" in latest["details"]["reasons"]


async def test_failed_action_is_retried_with_backoff_then_given_up(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target, clock: Clock
) -> None:
    client, receiver = await make_receiver(make_config(receiver={"action_max_attempts": 2, "backoff_seconds": 5}))
    target.status = 502
    await post(client, notification(alert("r1", labels=JUNE), group="r"))
    await drain(receiver)
    assert len(target.hits("/scale")) == 1
    await drain(receiver)
    assert len(target.hits("/scale")) == 1  # not due again yet
    clock.advance(seconds=6)
    await drain(receiver)
    assert len(target.hits("/scale")) == 2
    by_status = await statuses(receiver)
    assert by_status["failed"] == ["scale"]


async def test_emergency_mode_held_after_the_last_critical_resolves(
    make_config: MakeConfig, make_receiver: MakeReceiver, clock: Clock
) -> None:
    client, receiver = await make_receiver(make_config(receiver={"emergency_hold_seconds": 600}))
    live = {"alertname": "WedwatchWeddingSlow", "severity": "critical", "wedding_id": "w-123", "operation": "guest_list"}
    fired = alert("e1", labels=live)
    await post(client, notification(fired, group="e"))
    await drain(receiver)
    assert 'wedwatch_emergency_mode 1.0' in await (await client.get("/metrics")).text()
    clock.advance(minutes=5)
    await post(client, notification(alert("e1", status="resolved", labels=live, ends=clock.now), group="e"))
    await drain(receiver)
    store = receiver.require_store()
    assert await store.active_emergency() is not None  # inside the hold time
    clock.advance(seconds=601)
    await drain(receiver)
    assert await store.active_emergency() is None
    (period,) = await store.list_emergency_events()
    assert period["exited_at"] == clock.now and "every emergency incident resolved" in period["exit_reason"]
    assert 'wedwatch_emergency_mode 0.0' in await (await client.get("/metrics")).text()


async def test_one_emergency_state_for_two_receivers(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    loaded = make_config()
    a_client, a = await make_receiver(loaded, worker_id="a")
    b_client, _ = await make_receiver(loaded, worker_id="b")
    live = {"alertname": "X", "severity": "critical", "wedding_id": "w-123"}
    await post(a_client, notification(alert("p1", labels=live), group="1"))
    await post(b_client, notification(alert("p2", labels=live), group="2"))
    assert len(await a.require_store().list_emergency_events()) == 1
