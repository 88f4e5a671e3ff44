"""Three receivers on one database, every notification sent to all of them (an HA Alertmanager pair
with retries): each action runs once, budgets and emergency mode are shared."""

from __future__ import annotations

import asyncio
import io
import json
import random
from typing import Any

from receiver_support import AUTH, MakeConfig, MakeReceiver, Target, alert, notification

LIVE = {"alertname": "WedwatchWeddingSlow", "severity": "high", "wedding_id": "w-123", "operation": "guest_list"}


async def post(client: Any, body: Any) -> int:
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(body).encode()),
                                 headers={"Content-Type": "application/json", **AUTH})  # fmt: skip
    return int(response.status)


async def test_three_replicas_act_once_and_share_one_emergency(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    loaded = make_config(actions={"hourly_budget": 12})
    replicas = [await make_receiver(loaded, worker_id=f"replica-{i}") for i in range(3)]
    bodies = [notification(alert(f"fp{i}", labels={**LIVE, "operation": op}), group=f"g{i}")
              for i, op in enumerate(["guest_list", "mobile", "photo_upload", "timeline_sync", "vendor_notification"])]  # fmt: skip
    rng = random.Random(7)
    deliveries = [(client, body) for body in bodies for client, _ in replicas for _ in range(2)]  # each twice to each
    rng.shuffle(deliveries)
    statuses = await asyncio.gather(*(post(client, body) for client, body in deliveries))
    assert set(statuses) == {200}
    for _ in range(4):
        await asyncio.gather(*(r.worker.tick() for _, r in replicas if r.worker is not None))
    # Five incidents, each emergency (high raised to critical on a live wedding): scale, cache_warm,
    # page and log once each: 15 actions that cost budget, above the budget of 12 shared by all three.
    acted = [p for p, _ in target.requests]
    assert len(acted) == 12
    store = replicas[0][1].require_store()
    incidents = await store.list_incidents()
    assert len(incidents) == 5
    rows = [row for i in incidents for row in await store.list_actions(i["id"])]
    assert len(rows) == 20  # one row per incident and action, however many deliveries
    assert sorted(r["status"] for r in rows if r["action"] != "log") == ["done"] * 12 + ["skipped"] * 3
    assert all("hourly budget" in r["error"] for r in rows if r["status"] == "skipped")
    assert len(await store.list_emergency_events()) == 1
    for _, r in replicas:
        assert await r.require_store().active_emergency() is not None
