"""Two stores on one database (two receiver replicas, an HA Alertmanager pair) never duplicate."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from wedwatch.store import ProbeAggregate, Store, open_store_ctx

from .conftest import CountRows

T0 = datetime(2027, 6, 12, 13, 0, tzinfo=UTC)
NOTIFICATIONS = 12
COPIES = 3  # each notification arrives this many times at each replica


async def _deliver(store: Store, n: int) -> tuple[bool, int, int]:
    """What the receiver does with one notification, in one transaction."""
    created = enqueued = 0
    async with store.transaction() as tx:
        new = await store.record_notification(
            dedup_key=f"notification-{n}", group_key=f"group-{n % 4}", receiver="wedwatch",
            status="firing", alert_count=2, payload={"n": n}, tx=tx,
        )
        # Two alerts per notification, overlapping with the next one's: incidents are shared.
        # Sorted keys keep PostgreSQL's row locks in one order (no deadlocks between replicas).
        for fingerprint in sorted({f"fp-{n}", f"fp-{n + 1}"}):
            incident_id, was_created = await store.upsert_incident(
                fingerprint=fingerprint, starts_at=T0, alertname="GuestListSlow", status="firing",
                severity="high", labels={"fp": fingerprint}, annotations={}, tx=tx,
            )
            created += was_created
            for action in ("scale", "log"):
                enqueued += await store.enqueue_action(
                    incident_id, action, f"{incident_id}:{action}", {"n": n}, now=T0, tx=tx
                )
    return new, created, enqueued


async def test_concurrent_writers_never_duplicate_keyed_rows(store_url: str, count_rows: CountRows) -> None:
    async with open_store_ctx(store_url) as a, open_store_ctx(store_url) as b:
        jobs = [(store, n) for n in range(NOTIFICATIONS) for store in (a, b) for _ in range(COPIES)]
        random.Random(7).shuffle(jobs)
        results = await asyncio.gather(*(_deliver(store, n) for store, n in jobs))

    incidents = NOTIFICATIONS + 1
    assert sum(new for new, _, _ in results) == NOTIFICATIONS
    assert sum(created for _, created, _ in results) == incidents
    assert sum(enqueued for _, _, enqueued in results) == incidents * 2
    assert await count_rows("notifications") == NOTIFICATIONS
    assert await count_rows("performance_alerts") == incidents
    assert await count_rows("action_outbox") == incidents * 2


async def test_two_workers_never_claim_the_same_action(store_url: str) -> None:
    async with open_store_ctx(store_url) as a, open_store_ctx(store_url) as b:
        for i in range(60):
            await a.enqueue_action(None, "log", f"action-{i}", {"i": i}, now=T0)

        async def worker(store: Store, name: str) -> list[int]:
            taken: list[int] = []
            while rows := await store.claim_actions(name, limit=3, lease_seconds=60, now=T0 + timedelta(seconds=1)):
                assert all(row["claimed_by"] == name for row in rows)
                taken += [row["id"] for row in rows]
            return taken

        claims = await asyncio.gather(*(worker(store, f"{tag}{i}") for tag, store in (("a", a), ("b", b)) for i in range(3)))

    everything = [action_id for claim in claims for action_id in claim]
    assert len(everything) == 60
    assert len(set(everything)) == 60
    assert sum(1 for claim in claims if claim) >= 2  # the work really was shared


async def test_concurrent_probe_flushes_add_up(store_url: str) -> None:
    row = ProbeAggregate("w1", "mobile", T0, 60, "standard", "week", 1, 0, 0.5, 0.5)
    async with open_store_ctx(store_url) as a, open_store_ctx(store_url) as b:
        await asyncio.gather(*(store.record_probe_aggregates([row, row]) for store in (a, b) for _ in range(10)))
        (total,) = await a.list_probe_aggregates(T0)
    assert total["probes"] == 40
    assert total["duration_sum_seconds"] == 20.0
