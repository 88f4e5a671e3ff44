"""The pruning pass on both back ends: one process at a time by the store's lease, a pass that lost
its lease stops, and SQLite hands the freed pages back to the file system."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wedwatch.store import Store, open_store_ctx
from wedwatch.store.pruning import LEASE, prune
from wedwatch.store.sqlite import sqlite_path

from .retention_support import AT, LONG_AGO, WINDOWS, labels, seed


async def _old_notifications(store: Store, n: int, *, size: int = 10) -> None:
    async with store.transaction() as tx:
        for i in range(n):
            await store.record_notification(
                dedup_key=f"old-{i}", group_key="g", receiver="r", status="firing", alert_count=1,
                payload={"pad": "x" * size}, received_at=LONG_AGO + timedelta(seconds=i), tx=tx,
            )  # fmt: skip


async def test_a_pass_skips_while_another_holder_has_the_lease(store: Store, store_url: str) -> None:
    await seed(store)
    before = await labels(store_url)
    assert await store.acquire_lease(LEASE, "replica-b", seconds=60)
    report = await prune(store, WINDOWS, holder="replica-a", at=AT)
    assert report.skipped and report.holder == "replica-b" and report.rows == 0
    assert await labels(store_url) == before
    lease = await store.get_lease(LEASE)
    assert lease is not None and lease["holder"] == "replica-b"


async def test_a_lapsed_lease_is_taken_over_and_released_after_the_pass(store: Store) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    assert await store.acquire_lease(LEASE, "died", seconds=60, now=long_ago)
    report = await prune(store, WINDOWS, holder="replica-a", at=AT)
    assert not report.skipped
    assert await store.get_lease(LEASE) is None


async def test_leases_one_holder_at_a_time(store: Store) -> None:
    now = datetime(2028, 1, 1, tzinfo=UTC)
    assert await store.acquire_lease("x", "a", seconds=10, now=now)
    assert not await store.acquire_lease("x", "b", seconds=10, now=now + timedelta(seconds=9))
    assert await store.acquire_lease("x", "a", seconds=10, now=now + timedelta(seconds=9))  # its holder renews
    assert await store.renew_lease("x", "a", seconds=10, now=now + timedelta(seconds=15))
    assert not await store.renew_lease("x", "b", seconds=10, now=now)
    assert await store.acquire_lease("x", "b", seconds=10, now=now + timedelta(seconds=26))  # lapsed at 25
    assert not await store.renew_lease("x", "a", seconds=10, now=now)
    assert not await store.release_lease("x", "a")
    assert await store.release_lease("x", "b")
    assert await store.get_lease("x") is None


async def test_two_pruners_at_once_one_prunes_the_other_skips(store_url: str) -> None:
    async with open_store_ctx(store_url) as first, open_store_ctx(store_url) as second:
        await _old_notifications(first, 10)
        first_batch = asyncio.Event()
        go_on = asyncio.Event()

        async def held_pause(seconds: float) -> None:
            first_batch.set()
            await go_on.wait()

        running = asyncio.create_task(prune(first, WINDOWS, holder="a", at=AT, batch_size=4, sleep=held_pause))
        await asyncio.wait_for(first_batch.wait(), 10)
        other = await prune(second, WINDOWS, holder="b", at=AT, batch_size=4)
        go_on.set()
        done = await asyncio.wait_for(running, 30)
    assert other.skipped and other.holder == "a" and other.rows == 0
    assert not done.skipped and done.tables["notifications"] == 10


async def test_a_pass_whose_lease_was_taken_over_stops_and_rolls_its_batch_back(store: Store, store_url: str) -> None:
    await _old_notifications(store, 10)
    paused = asyncio.Event()
    go_on = asyncio.Event()

    async def held_pause(seconds: float) -> None:
        paused.set()
        await go_on.wait()

    running = asyncio.create_task(prune(store, WINDOWS, holder="a", at=AT, batch_size=4, sleep=held_pause))
    await asyncio.wait_for(paused.wait(), 10)
    # "a" stalled past its lease; "b" took it over.
    assert await store.acquire_lease(LEASE, "b", seconds=60, now=datetime.now(UTC) + timedelta(minutes=5))
    go_on.set()
    report = await asyncio.wait_for(running, 10)
    assert report.lease_lost and report.tables["notifications"] == 4
    assert len((await labels(store_url))["notifications"]) == 6
    lease = await store.get_lease(LEASE)
    assert lease is not None and lease["holder"] == "b"  # not released by the loser


async def test_sqlite_hands_freed_pages_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    async with open_store_ctx(url) as store:
        await _old_notifications(store, 400, size=4000)
        pages_full = _pages(url)
        report = await prune(store, WINDOWS, holder="a", at=AT, pause_seconds=0)
    assert report.tables["notifications"] == 400
    assert report.reclaimed_pages > 300  # ~1.6 MB of payloads in 4 KiB pages
    conn = sqlite3.connect(sqlite_path(url))
    try:
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # incremental, from creation
        assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)
    finally:
        conn.close()
    assert _pages(url) < pages_full / 2


def _pages(url: str) -> int:
    conn = sqlite3.connect(sqlite_path(url))
    try:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()


async def test_sqlite_created_before_auto_vacuum_reuses_pages_without_returning_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE left_over (x)")  # a database with a table: auto_vacuum can no longer change
    conn.close()
    async with open_store_ctx(f"sqlite:///{path}") as store:
        await _old_notifications(store, 100, size=4000)
        report = await prune(store, WINDOWS, holder="a", at=AT, pause_seconds=0)
    assert report.tables["notifications"] == 100 and report.reclaimed_pages == 0
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (0,)
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] > 0  # reused by later writes
    finally:
        conn.close()


async def test_pass_refuses_unknown_kinds(store: Store) -> None:
    with pytest.raises(ValueError, match="no such kind of data: notes"):
        await prune(store, {"notes": timedelta(days=1)}, holder="a", at=AT)
