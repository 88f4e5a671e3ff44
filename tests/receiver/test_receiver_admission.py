"""The ingest gate: under a storm, a live wedding's notification gets the store before the ones
waiting ahead of it (receiver/admission.py)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from typing import Any

import pytest
from receiver_support import AUTH, MakeConfig, MakeReceiver, alert, notification
from scrape import parse_scrape

from wedwatch.receiver.admission import ROUTINE, URGENT, IngestGate, priority
from wedwatch.receiver.payload import Notification, parse_notification

FAR = {"alertname": "WedwatchWeddingSlow", "severity": "low", "operation": "mobile", "wedding_id": "w-june"}


def _parsed(*alerts: dict[str, Any]) -> Notification:
    parsed, _ = parse_notification(json.dumps(notification(*alerts)).encode())
    return parsed


@pytest.mark.parametrize(
    ("labels", "status", "live", "any_live", "expected"),
    [
        (FAR, "firing", set(), False, ROUTINE),
        (FAR, "firing", {"w-123"}, True, ROUTINE),  # another wedding is live: not this one
        ({**FAR, "wedding_id": "w-123"}, "firing", {"w-123"}, True, URGENT),
        ({**FAR, "live": "true"}, "firing", set(), False, URGENT),  # the fast path says so itself
        ({**FAR, "severity": "critical"}, "firing", set(), False, URGENT),
        ({**FAR, "severity": "CRITICAL"}, "firing", set(), False, URGENT),
        ({**FAR, "wedding_id": "w-123"}, "resolved", {"w-123"}, True, ROUTINE),  # a resolution can wait
        ({k: v for k, v in FAR.items() if k != "wedding_id"}, "firing", {"w-123"}, True, URGENT),  # platform-wide
        ({k: v for k, v in FAR.items() if k != "wedding_id"}, "firing", set(), False, ROUTINE),
    ],
)
def test_priority(labels: dict[str, str], status: str, live: set[str], any_live: bool, expected: int) -> None:
    assert priority(_parsed(alert("f1", status=status, labels=labels)), live, any_live) == expected


def test_one_urgent_alert_makes_the_notification_urgent() -> None:
    parsed = _parsed(alert("a", labels=FAR), alert("b", labels={**FAR, "wedding_id": "w-123"}))
    assert priority(parsed, {"w-123"}, True) == URGENT


async def _holders(gate: IngestGate, order: list[str], jobs: list[tuple[str, int]]) -> list[asyncio.Task[None]]:
    async def hold(name: str, prio: int) -> None:
        async with gate.slot(prio):
            order.append(name)
            await asyncio.sleep(0)

    tasks = []
    for name, prio in jobs:
        tasks.append(asyncio.create_task(hold(name, prio)))
        await asyncio.sleep(0)  # queued in this order
    return tasks


async def test_gate_lets_urgent_waiters_in_first_then_by_arrival() -> None:
    gate, order = IngestGate(1), []
    release = asyncio.Event()

    async def first() -> None:
        async with gate.slot(ROUTINE):
            order.append("holder")
            await release.wait()

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    tasks = await _holders(gate, order, [("r1", ROUTINE), ("r2", ROUTINE), ("u1", URGENT), ("r3", ROUTINE), ("u2", URGENT)])
    assert gate.waiting == 5
    release.set()
    await asyncio.gather(holder, *tasks)
    assert order == ["holder", "u1", "u2", "r1", "r2", "r3"]
    assert gate.waiting == 0


async def test_gate_holds_at_most_its_slots_and_passes_on_a_cancelled_waiters_turn() -> None:
    gate = IngestGate(2)
    inside, most = 0, 0
    release = asyncio.Event()

    async def hold(prio: int) -> None:
        nonlocal inside, most
        async with gate.slot(prio):
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(hold(ROUTINE)) for _ in range(6)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert inside == 2 and gate.waiting == 4
    tasks[2].cancel()  # a waiter that gives up (its client went away) loses its turn, nobody else's
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert most == 2
    assert [type(r).__name__ for r in results].count("CancelledError") == 1
    # Every slot came back: a new holder gets in at once.
    async with asyncio.timeout(5):
        async with gate.slot(ROUTINE):
            pass


async def test_gate_refuses_no_slots() -> None:
    with pytest.raises(ValueError, match="slots must be at least 1"):
        IngestGate(0)


async def test_live_weddings_notification_is_stored_before_the_storm_waiting_ahead_of_it(
    make_config: MakeConfig, make_receiver: MakeReceiver
) -> None:
    """Through the real app: while the store is busy, 40 storm notifications queue up, then one for
    the live wedding w-123 arrives; it is stored first of them all."""
    client, receiver = await make_receiver(make_config())

    async def post(body: dict[str, Any]) -> int:
        data = io.BytesIO(json.dumps(body).encode())
        response = await client.post("/alerts", data=data, headers={"Content-Type": "application/json", **AUTH})
        return int(response.status)

    busy = asyncio.Event()
    store = receiver.config.store
    slots = 1 if store.url.startswith("sqlite") else store.pool_max_size  # as the receiver sizes its gate

    async def occupy() -> None:  # the store busy with earlier notifications: every slot taken
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(slots):
                await stack.enter_async_context(receiver.gate.slot(ROUTINE))
            busy.set()
            await release.wait()

    release = asyncio.Event()
    occupant = asyncio.create_task(occupy())
    await busy.wait()
    storm = [
        asyncio.create_task(post(notification(alert(f"storm-{i:02d}", labels={**FAR, "instance": f"i{i}"}), group=f"s{i}")))
        for i in range(40)
    ]
    async with asyncio.timeout(30):
        while receiver.gate.waiting < 40:
            await asyncio.sleep(0.01)
    live = asyncio.create_task(post(notification(alert("live-1", labels={**FAR, "wedding_id": "w-123"}), group="live")))
    async with asyncio.timeout(30):
        while receiver.gate.waiting < 41:
            await asyncio.sleep(0.01)
    scrape = parse_scrape(await (await client.get("/metrics")).text())
    assert scrape.value("wedwatch_receiver_ingest_waiting") == 41
    release.set()
    await occupant
    assert set(await asyncio.gather(*storm, live)) == {200}
    incidents = sorted(await receiver.require_store().list_incidents(limit=100), key=lambda i: i["id"])
    assert len(incidents) == 41
    # Let in first: with one slot (SQLite) it is stored first; with the pool's slots (PostgreSQL) it
    # goes in with the first `slots` storm notifications let in beside it, whose transactions race
    # it for their incidents' ids. First come, first served would have stored it last.
    rank = [i["fingerprint"] for i in incidents].index("live-1")
    assert rank < slots, (rank, slots)
    scrape = parse_scrape(await (await client.get("/metrics")).text())
    assert scrape.value("wedwatch_receiver_ingest_waiting") == 0
