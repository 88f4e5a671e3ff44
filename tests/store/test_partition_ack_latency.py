"""Dropping partitions must not delay webhook acks (issue 19), PostgreSQL: the receiver's p99 ack while partitions
of `notifications` are dropped stays within 1.5x of its p99 without, in the same run.

Dropping a partition takes an ACCESS EXCLUSIVE lock on `notifications` until its transaction ends, and every
ack inserts into that table (after looking its dedup key up in every partition): an ack that comes during a
drop waits for it. This measures how long, at a far higher rate than production's (one drop a day per table):
phases of ~0.4 s alternate, in a *drop* phase a partition (~500 rows of 1 KB) is dropped every 50 ms through the
store, as a pass drops them; in an *idle* phase nothing is. 60 past partitions plus the week ahead: more than
the 30-day window keeps, so each ack's dedup lookup reads more partitions than in production. ~30 s.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.store import open_store_ctx

from .ack_latency_support import NOW, Acker, describe, latency_receiver, p99

pytestmark = pytest.mark.postgres

PAST_DAYS = 40
ROWS_PER_DAY = 500
PHASE_SECONDS = 0.4
DROP_EVERY_SECONDS = 0.15
WARMUP_ACKS = 150
MAX_RATIO = 1.5


async def _fill(url: str) -> None:
    """PAST_DAYS day partitions of notifications, each with ROWS_PER_DAY rows, written server-side."""
    first = NOW - timedelta(days=PAST_DAYS + 40)
    async with open_store_ctx(url) as store:
        await store.ensure_partitions(first, days_ahead=PAST_DAYS - 1)
        await store.ensure_partitions(NOW)  # the acks' day and the week ahead, as in production
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            """
            INSERT INTO notifications (dedup_key, group_key, receiver, status, alert_count, received_at, payload)
            SELECT 'old-' || g, 'g', 'sink', 'firing', 1, %(first)s + (g %% %(days)s) * interval '1 day' + g * interval '1 ms',
                jsonb_build_object('version', '4', 'pad', repeat('x', 1000))
            FROM generate_series(1, %(n)s) AS g
            """,
            {"first": first, "days": PAST_DAYS, "n": PAST_DAYS * ROWS_PER_DAY},
        )
        await conn.execute("ANALYZE")


@pytest.fixture
async def receiver_client(postgres_schema_url: str, tmp_path: Path, aiohttp_client: AiohttpClient) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    await _fill(postgres_schema_url)
    yield await latency_receiver(aiohttp_client, tmp_path, postgres_schema_url, {"enabled": False})


async def test_p99_ack_while_partitions_are_dropped_stays_within_bounds(receiver_client: TestClient) -> None:  # type: ignore[type-arg]
    client = receiver_client
    store = client.app[RECEIVER_KEY].require_store()
    ack = Acker(client)

    dropping = asyncio.Event()
    drops: list[float] = []
    dropped_rows: list[int] = []

    async def dropper() -> None:
        while True:
            await dropping.wait()
            began = time.perf_counter()
            async with store.transaction() as tx:
                rows = await store.drop_partition_before("notifications", NOW - timedelta(days=30), tx=tx)
            if rows is None:
                return  # nothing left to drop
            drops.append(time.perf_counter() - began)
            dropped_rows.append(rows)
            await asyncio.sleep(DROP_EVERY_SECONDS)

    for _ in range(WARMUP_ACKS):
        await ack()
    task = asyncio.create_task(dropper())
    idle: list[float] = []
    busy: list[float] = []
    try:
        while not task.done():
            dropping.clear()
            end = time.perf_counter() + PHASE_SECONDS
            while time.perf_counter() < end:
                idle.append(await ack())
            dropping.set()
            end = time.perf_counter() + PHASE_SECONDS
            while time.perf_counter() < end and not task.done():
                busy.append(await ack())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    ratio = p99(busy) / p99(idle)
    summary = (
        f"acks {describe('idle', idle)}; {describe('dropping', busy)}; "
        f"ratio {ratio:.2f}; {len(drops)} partitions dropped ({sum(dropped_rows)} rows), "
        f"each {statistics.median(drops) * 1000:.1f} ms median, {max(drops) * 1000:.1f} ms max"
    )
    print(summary)
    # (the empty partitions made around the wall clock when the store opened are before the cutoff too)
    assert len(drops) >= PAST_DAYS and sum(dropped_rows) == PAST_DAYS * ROWS_PER_DAY, summary
    assert len(busy) >= 500 and len(idle) >= 500, summary
    assert ratio <= MAX_RATIO, summary
