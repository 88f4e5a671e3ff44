"""The calendar read from the store's `weddings` table, on both back ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wedwatch.calendar import load_calendar_store
from wedwatch.calendar.demo import demo_weddings
from wedwatch.cli import main
from wedwatch.store import Store, open_store_ctx

NOW = datetime(2027, 5, 1, 12, tzinfo=UTC)


async def test_round_trip_through_the_weddings_table(store: Store) -> None:
    weddings = demo_weddings(NOW)
    await store.upsert_weddings(weddings)
    load = await load_calendar_store(store)
    assert load.errors == []
    assert sorted(load.weddings, key=lambda w: w.id) == sorted(weddings, key=lambda w: w.id)


async def test_bad_row_is_reported_and_the_rest_load(store: Store) -> None:
    good = demo_weddings(NOW)[:2]
    await store.upsert_weddings(good)
    # A row written by another tool, with a zone no tz database knows.
    async with store.transaction() as tx:
        await tx.execute("upsert_wedding", {**good[0].to_dict(), "id": "bad-zone", "timezone": "Mars/Olympus", "updated_at": NOW})
    load = await load_calendar_store(store)
    assert {w.id for w in load.weddings} == {w.id for w in good}
    assert [(e.wedding_id, e.field) for e in load.errors] == [("bad-zone", "timezone")]


async def test_weddings_command_reads_the_store(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with open_store_ctx(store_url) as store:
        await store.upsert_weddings(demo_weddings(NOW))
    config = tmp_path / "wedwatch.yml"
    config.write_text(f"calendar:\n  store: true\nstore:\n  url: '{store_url}'\n")
    # The CLI runs its own event loop; call it from a thread.
    code = await asyncio.to_thread(main, ["weddings", "--config.file", str(config), "--at", NOW.isoformat(), "--json"])
    assert code == 0
    out = capsys.readouterr().out
    assert '"wedding_id": "demo-ceremony"' in out and '"phase": "ceremony"' in out
