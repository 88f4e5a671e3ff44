"""Under a storm, the live wedding first: `log` actions are recorded done at decision time, and
the worker claims a live wedding's emergency actions before anything queued ahead of them."""

from __future__ import annotations

import io
import json
from typing import Any

from receiver_support import AUTH, MakeConfig, MakeReceiver, Target, alert, fixture, notification
from scrape import parse_scrape

# Low and for a wedding months away: the `log` strategy, one `log` action each.
LOW = {"alertname": "WedwatchOperationSlow", "severity": "low", "operation": "mobile", "wedding_id": "w-june"}
HIGH = {**LOW, "severity": "high"}  # urgent: scale, log


async def _post(client: Any, body: dict[str, Any]) -> int:
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(body).encode()), headers={"Content-Type": "application/json", **AUTH})
    return int(response.status)


async def test_storm_of_log_actions_never_reaches_the_worker_and_the_live_wedding_goes_first(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    client, receiver = await make_receiver(make_config(receiver={"worker_batch": 2}))
    storm = [alert(f"low-{i:02d}", labels={**LOW, "instance": f"i{i}"}) for i in range(30)]
    assert await _post(client, notification(*storm, group="storm")) == 200
    assert await _post(client, notification(*fixture("firing")["alerts"], group="live")) == 200  # w-123, ceremony
    store = receiver.require_store()
    # Every `log` action is done already, without a worker round; its line is written.
    incidents = {i["fingerprint"]: i for i in await store.list_incidents(limit=100)}
    logs = [a for i in incidents.values() for a in await store.list_actions(i["id"]) if a["action"] == "log"]
    assert len(logs) == 31 and {(a["status"], a["attempts"]) for a in logs} == {("done", 1)}
    # A response whose only action is `log` completed with it; the emergency waits for one that acts.
    responses = {r["incident_id"]: r for r in await store.list_responses(limit=100)}
    live = next(i for i in incidents.values() if i["wedding_id"] == "w-123")
    assert all(r["first_action_completed_at"] is not None for k, r in responses.items() if k != live["id"])
    assert responses[live["id"]]["first_action_completed_at"] is None
    # The worker's first round (two actions) is the live wedding's emergency.
    assert receiver.worker is not None
    assert await receiver.worker.tick() == 2
    assert sorted(p for p, _ in target.requests) == ["/scale", "/warm"]
    assert (await store.get_response(live["id"]) or {})["first_action_completed_at"] is not None
    scrape = parse_scrape(await (await client.get("/metrics")).text())
    assert scrape.value("wedwatch_actions_total", action="log", outcome="succeeded") == 31


async def test_a_duplicate_notification_records_no_second_log_action(
    make_config: MakeConfig, make_receiver: MakeReceiver
) -> None:
    client, receiver = await make_receiver(make_config())
    body = notification(alert("h1", labels=HIGH), group="h")
    assert await _post(client, body) == 200
    assert await _post(client, {**body, "groupKey": "h-again"}) == 200  # another group, same incident
    store = receiver.require_store()
    (incident,) = await store.list_incidents()
    actions = await store.list_actions(incident["id"])
    assert sorted((a["action"], a["status"]) for a in actions) == [("log", "done"), ("scale", "pending")]
    assert (await store.get_response(incident["id"]) or {})["first_action_completed_at"] is None
