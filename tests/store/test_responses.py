"""Degradation responses (effectiveness) and optimization results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wedwatch.store import Store

from .conftest import CountRows

T0 = datetime(2027, 6, 12, 13, 0, tzinfo=UTC)


async def test_response_resolution_time_runs_from_first_completed_action(store: Store) -> None:
    incident_id, _ = await store.upsert_incident(
        fingerprint="f", starts_at=T0, alertname="A", status="firing", severity="critical", labels={}, annotations={}
    )
    decided = {"incident_id": incident_id, "strategy": "emergency", "severity": "critical", "decided_at": T0}
    assert await store.record_response(**decided, wedding_id="w1", details={"live": True})
    assert not await store.record_response(**decided)

    assert await store.complete_response_action(incident_id, T0 + timedelta(seconds=90))
    assert await store.complete_response_action(incident_id, T0 + timedelta(seconds=60))  # earlier wins
    assert not await store.complete_response_action(incident_id, T0 + timedelta(seconds=120))

    resolved = await store.resolve_response(incident_id, T0 + timedelta(seconds=360), "resolved")
    assert resolved is not None
    assert resolved["resolution_seconds"] == 300.0
    assert resolved["first_action_completed_at"] == T0 + timedelta(seconds=60)
    assert resolved["details"] == {"live": True}
    assert await store.resolve_response(incident_id, T0 + timedelta(seconds=999), "resolved") is None
    assert await store.resolve_response(incident_id + 1, T0, "resolved") is None
    assert [row["incident_id"] for row in await store.list_responses()] == [incident_id]


async def test_response_without_completed_action_has_no_resolution_time(store: Store) -> None:
    incident_id, _ = await store.upsert_incident(
        fingerprint="f", starts_at=T0, alertname="A", status="firing", severity="low", labels={}, annotations={}
    )
    await store.record_response(incident_id=incident_id, strategy="log", severity="low", decided_at=T0)
    resolved = await store.resolve_response(incident_id, T0 + timedelta(minutes=3), "resolved_without_action")
    assert resolved is not None and resolved["resolution_seconds"] is None
    fetched = await store.get_response(incident_id)
    assert fetched is not None and fetched["outcome"] == "resolved_without_action"


async def test_optimizations_are_idempotent_by_key(store: Store, count_rows: CountRows) -> None:
    common = {"kind": "scale", "resource": "instances", "executed_at": T0, "outcome": "ok"}
    assert await store.record_optimization(**common, idempotency_key="k", before_value=2, after_value=4, dry_run=True)
    assert not await store.record_optimization(**common, idempotency_key="k")
    # Without a key every record is new.
    assert await store.record_optimization(**common)
    assert await store.record_optimization(**common)
    assert await count_rows("optimization_results") == 3
    newest = await store.list_optimizations()
    keyed = [row for row in newest if row["idempotency_key"] == "k"][0]
    assert keyed["dry_run"] is True
    assert (keyed["before_value"], keyed["after_value"]) == (2.0, 4.0)
    assert all(row["dry_run"] is False for row in newest if row["idempotency_key"] is None)
