"""Probe results reach the store aggregated, on both back ends, and survive a dead database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from wedwatch.errors import StoreUnavailable
from wedwatch.exporter.probes.base import ProbeResult
from wedwatch.exporter.recorder import Recorder
from wedwatch.store import Store

CountRows = Callable[[str], Awaitable[int]]

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
