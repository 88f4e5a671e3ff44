"""Probe results reach the store aggregated, on both back ends, and survive a dead database; untracked weddings
add up per phase, operation and bucket, with no rows (nor critical-path samples) of their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from pytest_aiohttp import AiohttpClient

from wedwatch.calendar.model import EntryError, parse_entry
from wedwatch.config import LoadedConfig, Phase
from wedwatch.errors import StoreUnavailable
from wedwatch.exporter.app import EXPORTER_KEY, create_app
from wedwatch.exporter.probes.base import ProbeResult
from wedwatch.exporter.recorder import Recorder
from wedwatch.store import Store, open_store_ctx, untracked_wedding_id

CountRows = Callable[[str], Awaitable[int]]
MakeConfig = Callable[..., LoadedConfig]

ENTRY = {"id": "w-1", "ceremony_at": "2027-06-12T15:00", "timezone": "Europe/London", "guests": 10}

T0 = datetime(2027, 6, 12, 13, 0, tzinfo=UTC).timestamp()
OK = ProbeResult(True, 0.2)
SLOW = ProbeResult(True, 1.5)
FAIL = ProbeResult(False, 3.0, reason="timeout")
STATUS = ProbeResult(
    True,
    0.05,
    readings={"guests_checked_in": 40, "guests_expected": 120, "next_milestone_delay_seconds": 60.0,
              "vendors_confirmed": 8, "vendors_booked": 9, "open_incidents": 1, "incident_response_seconds": 30.0},
)  # fmt: skip


async def test_probes_are_aggregated_per_bucket(store: Store) -> None:
    recorder = Recorder(store, bucket_seconds=300)
    for offset, result in [(0, OK), (10, SLOW), (20, FAIL), (400, OK)]:
        recorder.add("w-1", "guest_list", "wedding_day", "ceremony", result, T0 + offset)
    assert await recorder.flush()
    # A second flush of more results for the same bucket adds up.
    recorder.add("w-1", "guest_list", "wedding_day", "ceremony", OK, T0 + 30)
    assert await recorder.flush()
    rows = await store.list_probe_aggregates(datetime.fromtimestamp(T0, UTC) - timedelta(hours=1))
    first, second = sorted(rows, key=lambda r: r["bucket_start"])
    assert (first["probes"], first["failures"], first["last_reason"]) == (4, 1, "timeout")
    assert first["duration_sum_seconds"] == 0.2 + 1.5 + 3.0 + 0.2
    assert first["duration_max_seconds"] == 3.0
    assert second["probes"] == 1


async def test_critical_path_is_sampled_once_a_minute(store: Store, count_rows: CountRows) -> None:
    recorder = Recorder(store, critical_path_every_seconds=60)
    for offset in range(0, 180, 10):  # every 10 s for 3 minutes
        recorder.add("w-1", "critical_path", "wedding_day", "ceremony", STATUS, T0 + offset)
    assert await recorder.flush()
    latest = await store.latest_critical_path()
    assert [(r["wedding_id"], r["guests_checked_in"], r["vendors_booked"]) for r in latest] == [("w-1", 40, 9)]
    assert await count_rows("critical_path_metrics") == 3  # at 0, 60 and 120 s
    rows = await store.list_probe_aggregates(datetime.fromtimestamp(T0, UTC) - timedelta(hours=1))
    assert sum(r["probes"] for r in rows) == 18


class _DeadStore:
    """A store whose database is down: every transaction fails as unavailable."""

    def transaction(self) -> object:
        raise StoreUnavailable("database down")


async def test_dead_database_keeps_rows_for_the_next_flush(store: Store) -> None:
    recorder = Recorder(_DeadStore())  # type: ignore[arg-type]
    recorder.add("w-1", "mobile", "standard", "week", OK, T0)
    recorder.add("w-1", "mobile", "standard", "week", FAIL, T0 + 1)
    assert not await recorder.flush()
    recorder.add("w-1", "mobile", "standard", "week", OK, T0 + 2)
    recorder.store = store  # the database is back
    assert await recorder.flush()
    rows = await store.list_probe_aggregates(datetime.fromtimestamp(T0, UTC) - timedelta(hours=1))
    assert [(r["probes"], r["failures"]) for r in rows] == [(3, 1)]


async def test_untracked_weddings_add_up_per_phase_operation_and_bucket(store: Store) -> None:
    recorder = Recorder(store, bucket_seconds=300)
    for n in range(100):  # months away: no rows of their own, however many
        recorder.add(f"p-{n}", "mobile", "standard", "planning", FAIL if n == 7 else OK, T0 + n, tracked=False)
        recorder.add(f"p-{n}", "guest_list", "standard", "planning", OK, T0 + n, tracked=False)
    for n in range(30):
        recorder.add(f"m-{n}", "mobile", "standard", "month", SLOW, T0 + n, tracked=False)
    # Over the tracked cap on their day: counted apart from the tracked ones, in their own tier.
    recorder.add("capped", "mobile", "wedding_day", "ceremony", OK, T0, tracked=False)
    recorder.add("w-1", "mobile", "wedding_day", "ceremony", OK, T0)
    assert await recorder.flush()
    rows = {(r["wedding_id"], r["operation"]): r for r in await store.list_probe_aggregates(datetime.fromtimestamp(T0, UTC))}
    assert set(rows) == {
        (untracked_wedding_id("planning"), "mobile"), (untracked_wedding_id("planning"), "guest_list"),
        (untracked_wedding_id("month"), "mobile"), (untracked_wedding_id("ceremony"), "mobile"), ("w-1", "mobile"),
    }  # fmt: skip
    planning = rows[untracked_wedding_id("planning"), "mobile"]
    assert (planning["probes"], planning["failures"], planning["last_reason"], planning["phase"], planning["tier"]) == (
        100, 1, "timeout", "planning", "standard"
    )  # fmt: skip
    assert planning["duration_max_seconds"] == 3.0
    assert rows[untracked_wedding_id("month"), "mobile"]["duration_sum_seconds"] == 30 * 1.5
    assert rows[untracked_wedding_id("ceremony"), "mobile"]["tier"] == "wedding_day"
    # A second flush adds to the same rows.
    recorder.add("p-1000", "mobile", "standard", "planning", OK, T0 + 200, tracked=False)
    assert await recorder.flush()
    again = await store.list_probe_aggregates(datetime.fromtimestamp(T0, UTC))
    assert len(again) == len(rows)
    assert sum(r["probes"] for r in again if r["wedding_id"] == untracked_wedding_id("planning")) == 201


async def test_untracked_weddings_have_no_critical_path_samples(store: Store, count_rows: CountRows) -> None:
    recorder = Recorder(store, critical_path_every_seconds=60)
    for n in range(50):
        recorder.add(f"p-{n}", "critical_path", "standard", "planning", STATUS, T0, tracked=False)
    recorder.add("w-1", "critical_path", "wedding_day", "ceremony", STATUS, T0)
    assert await recorder.flush()
    assert [r["wedding_id"] for r in await store.latest_critical_path()] == ["w-1"]
    assert await count_rows("critical_path_metrics") == 1


def test_the_placeholder_can_never_be_a_wedding_id() -> None:
    for phase in Phase:
        assert isinstance(parse_entry(0, {**ENTRY, "id": untracked_wedding_id(phase.value)}), EntryError)
    assert not isinstance(parse_entry(0, ENTRY), EntryError)


async def test_the_exporter_records_tracked_weddings_alone_and_the_others_by_phase(
    make_config: MakeConfig, store_url: str, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config(store={"url": store_url})
    client = await aiohttp_client(create_app(loaded, schedule=False))
    statuses = client.app[EXPORTER_KEY].state.statuses
    assert statuses["demo-week"].tracked and not statuses["demo-planning"].tracked
    for wedding in ("demo-week", "demo-planning", "demo-month"):
        response = await client.get("/probe", params={"wedding": wedding, "operation": "mobile"})
        assert response.status == 200, await response.text()
    await client.close()  # the exporter stops and flushes
    async with open_store_ctx(store_url) as store:
        rows = await store.list_probe_aggregates(datetime.now(UTC) - timedelta(hours=1))
    assert sorted((r["wedding_id"], r["phase"], r["probes"]) for r in rows) == [
        (untracked_wedding_id("month"), "month", 1), (untracked_wedding_id("planning"), "planning", 1),
        ("demo-week", "week", 1),
    ]  # fmt: skip
