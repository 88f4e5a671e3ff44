"""The domain methods and the transaction API, on both back ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.calendar import parse_calendar, parse_entry
from wedwatch.calendar.model import Wedding
from wedwatch.errors import StoreError
from wedwatch.store import CriticalPathSample, ProbeAggregate, Store

from .conftest import CountRows

T0 = datetime(2027, 6, 12, 13, 0, tzinfo=UTC)


def _wedding(raw: dict[str, object]) -> Wedding:
    parsed = parse_entry(0, raw)
    assert isinstance(parsed, Wedding), parsed
    return parsed


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_weddings_round_trip_through_the_calendar_parser(store: Store) -> None:
    entries = [
        {"id": "w1", "ceremony_at": "2027-06-12T15:00", "timezone": "Europe/London", "guests": 120, "vendors": 8},
        {
            "id": "w2",
            "ceremony_at": "2027-03-28T01:30",
            "timezone": "America/New_York",
            "guests": 40,
            "vendors": 3,
            "name": "Ada & Grace",
            "venue": "Lighthouse",
        },
    ]
    assert await store.upsert_weddings([_wedding(e) for e in entries]) == 2
    rows = await store.list_weddings()
    assert [set(row) for row in rows] == [{"id", "ceremony_at", "timezone", "guests", "vendors", "name", "venue"}] * 2
    assert rows[0] == {**entries[0], "name": None, "venue": None}
    loaded = parse_calendar(rows, source="store", strict=False)
    assert loaded.errors == []
    assert [w.to_dict() for w in loaded.weddings] == [_wedding(e).to_dict() for e in entries]

    # An upsert replaces by id.
    await store.upsert_weddings([_wedding({**entries[0], "guests": 150})])
    assert [row["guests"] for row in await store.list_weddings()] == [150, 40]
    assert await store.upsert_weddings([]) == 0


async def test_probe_aggregates_add_up(store: Store) -> None:
    def agg(probes: int, failures: int, total: float, worst: float, reason: str | None) -> ProbeAggregate:
        return ProbeAggregate(
            wedding_id="w1",
            operation="guest_list",
            bucket_start=T0,
            bucket_seconds=60,
            tier="wedding_day",
            phase="ceremony",
            probes=probes,
            failures=failures,
            duration_sum_seconds=total,
            duration_max_seconds=worst,
            last_reason=reason,
        )

    await store.record_probe_aggregates([agg(6, 1, 1.5, 0.5, "timeout"), agg(4, 0, 1.0, 0.25, None)])
    # Concurrent flushes (several exporters) add up too.
    await asyncio.gather(*(store.record_probe_aggregates([agg(1, 1, 0.25, 2.0 if i == 3 else 0.1, "http_status")]) for i in range(10)))
    other = ProbeAggregate("w1", "guest_list", T0 + timedelta(minutes=1), 60, "wedding_day", "ceremony", 1, 0, 0.1, 0.1)
    assert await store.record_probe_aggregates([other]) == 1

    rows = await store.list_probe_aggregates(T0)
    assert len(rows) == 2
    first = rows[0]
    assert first["bucket_start"] == T0
    assert (first["probes"], first["failures"]) == (20, 11)
    assert first["duration_sum_seconds"] == pytest.approx(5.0)
    assert first["duration_max_seconds"] == 2.0
    assert first["last_reason"] == "http_status"
    assert await store.list_probe_aggregates(T0 + timedelta(minutes=1)) == [rows[1]]


async def test_critical_path_ignores_repeats_and_keeps_latest(store: Store, count_rows: CountRows) -> None:
    samples = [
        CriticalPathSample("w1", T0, guests_checked_in=10, guests_expected=100, vendors_confirmed=3, vendors_booked=5),
        CriticalPathSample("w1", T0 + timedelta(seconds=10), guests_checked_in=12, guests_expected=100),
        CriticalPathSample("w2", T0, next_milestone_delay_seconds=120.5, open_incidents=1, incident_response_seconds=30.0),
    ]
    assert await store.record_critical_path(samples) == 3
    assert await store.record_critical_path(samples[:1]) == 0
    assert await count_rows("critical_path_metrics") == 3
    latest = {row["wedding_id"]: row for row in await store.latest_critical_path()}
    assert latest["w1"]["guests_checked_in"] == 12
    assert latest["w1"]["observed_at"] == T0 + timedelta(seconds=10)
    assert latest["w2"]["next_milestone_delay_seconds"] == 120.5


async def test_notification_is_new_once(store: Store, count_rows: CountRows) -> None:
    kwargs = {"group_key": "{}:{alertname=\"X\"}", "receiver": "wedwatch", "status": "firing", "alert_count": 1}
    assert await store.record_notification(dedup_key="k1", payload={"a": 1}, **kwargs) is True
    assert await store.record_notification(dedup_key="k1", payload={"a": 2}, **kwargs) is False
    assert await store.record_notification(dedup_key="k2", payload={"a": 3}, **kwargs) is True
    assert await count_rows("notifications") == 2


async def test_incident_repeat_updates_but_never_duplicates(store: Store) -> None:
    base = {
        "fingerprint": "abc123",
        "starts_at": T0,
        "alertname": "GuestListSlow",
        "severity": "high",
        "labels": {"alertname": "GuestListSlow", "wedding_id": "w1"},
        "annotations": {"summary": "slow"},
    }
    first_id, created = await store.upsert_incident(
        **base, status="firing", seen_at=T0, escalated_severity="critical", strategy="emergency", wedding_id="w1"
    )
    assert created
    same_id, created = await store.upsert_incident(**base, status="firing", seen_at=T0 + timedelta(minutes=1))
    assert (same_id, created) == (first_id, False)
    end = T0 + timedelta(minutes=5)
    assert await store.upsert_incident(**base, status="resolved", ends_at=end, seen_at=end) == (first_id, False)
    # A late retry of an older delivery does not move last_seen_at backwards.
    await store.upsert_incident(**base, status="resolved", ends_at=end, seen_at=T0 + timedelta(minutes=2))

    row = await store.get_incident(first_id)
    assert row is not None
    assert row["status"] == "resolved"
    assert (row["first_seen_at"], row["last_seen_at"], row["resolved_at"], row["ends_at"]) == (T0, end, end, end)
    # First decision stays.
    assert (row["escalated_severity"], row["strategy"], row["wedding_id"]) == ("critical", "emergency", "w1")

    other_id, created = await store.upsert_incident(**{**base, "starts_at": T0 + timedelta(hours=1)}, status="firing")
    assert created and other_id != first_id
    assert [r["id"] for r in await store.list_incidents(status="firing")] == [other_id]
    assert [r["id"] for r in await store.list_incidents(status="resolved")] == [first_id]
    assert len(await store.list_incidents(limit=1)) == 1
    with pytest.raises(ValueError, match="firing or resolved"):
        await store.upsert_incident(**base, status="pending")


async def test_receiver_writes_commit_together_or_not_at_all(store: Store, count_rows: CountRows) -> None:
    async def deliver(fail: bool) -> None:
        async with store.transaction() as tx:
            await store.record_notification(
                dedup_key="n1", group_key="g", receiver="r", status="firing", alert_count=1, payload={}, tx=tx
            )
            incident_id, _ = await store.upsert_incident(
                fingerprint="f", starts_at=T0, alertname="A", status="firing", severity="low",
                labels={}, annotations={}, tx=tx,
            )
            await store.enqueue_action(incident_id, "log", f"{incident_id}:log", {}, tx=tx)
            if fail:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await deliver(fail=True)
    for table in ("notifications", "performance_alerts", "action_outbox"):
        assert await count_rows(table) == 0, table
    await deliver(fail=False)
    for table in ("notifications", "performance_alerts", "action_outbox"):
        assert await count_rows(table) == 1, table


async def test_nested_transaction_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(StoreError, match="pass tx="):
            await store.list_weddings()
        assert await store.list_weddings(tx=tx) == []


async def test_transaction_cannot_be_used_after_it_ends(store: Store) -> None:
    async with store.transaction() as tx:
        pass
    with pytest.raises(StoreError, match="already ended"):
        await tx.fetchall("list_weddings")


async def test_cancelled_transaction_rolls_back_and_store_recovers(store: Store, count_rows: CountRows) -> None:
    started = asyncio.Event()

    async def held_writer() -> None:
        async with store.transaction() as tx:
            await store.record_notification(
                dedup_key="cancelled", group_key="g", receiver="r", status="firing", alert_count=1, payload={}, tx=tx
            )
            started.set()
            await asyncio.Event().wait()  # holds the transaction open until cancelled

    task = asyncio.create_task(held_writer())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.record_notification(
        dedup_key="after", group_key="g", receiver="r", status="firing", alert_count=1, payload={}
    )
    assert await count_rows("notifications") == 1


async def test_transaction_api_counts_rows(store: Store) -> None:
    rows = [{**_wedding({"id": f"w{i}", "ceremony_at": "2027-06-12T15:00", "timezone": "UTC", "guests": i}).to_dict(),
             "updated_at": T0} for i in range(5)]
    async with store.transaction() as tx:
        assert await tx.executemany("upsert_wedding", rows) == 5
        assert await tx.executemany("upsert_wedding", []) == 0
        assert len(await tx.fetchall("list_weddings")) == 5
        assert await tx.fetchone("ping") == {"ok": 1}
        assert await tx.execute("finish_action", {"id": 1, "status": "done", "now": T0, "result": None, "error": None}) == 0


async def test_prediction_sets_latest_per_series(store: Store) -> None:
    def points(scale: float) -> list[dict[str, object]]:
        return [{"ts": "2027-06-12T13:00:00Z", "yhat": 1.5 * scale, "yhat_lower": 1.0, "yhat_upper": 2.0}]

    common = {"horizon_start": T0, "horizon_end": T0 + timedelta(days=14), "model": "prophet"}
    old = await store.save_prediction_set(series="rps", points=points(1), created_at=T0, **common)
    new = await store.save_prediction_set(
        series="rps",
        points=points(2),
        created_at=T0 + timedelta(hours=6),
        metrics={"relative_mae": 0.73},
        recommendations=[{"resource": "instances", "value": 4}],
        **common,
    )
    other = await store.save_prediction_set(series="db", points=[], created_at=T0, **common)
    assert len({old, new, other}) == 3
    latest = await store.latest_prediction_sets()
    assert [(row["series"], row["id"]) for row in latest] == [("db", other), ("rps", new)]
    assert latest[1]["points"] == points(2)
    assert latest[1]["metrics"] == {"relative_mae": 0.73}
    assert latest[1]["recommendations"] == [{"resource": "instances", "value": 4}]
    assert latest[1]["horizon_end"] == T0 + timedelta(days=14)
