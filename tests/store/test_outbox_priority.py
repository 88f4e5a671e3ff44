"""The outbox by priority: emergency, urgent, standard, then `log`, oldest first within each;
`log` actions recorded final at insert; migration 0005 backfills rows queued before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.store import Store, open_store_ctx
from wedwatch.store import migrations as migrations_module
from wedwatch.store.outbox import FinishedAction, action_priority
from wedwatch.store.records import ActionRow

T0 = datetime(2027, 6, 12, 13, 0, tzinfo=UTC)


async def _incident(store: Store, fingerprint: str) -> int:
    incident_id, _ = await store.upsert_incident(
        fingerprint=fingerprint, starts_at=T0, alertname="A", status="firing", severity="high", labels={}, annotations={}
    )
    return incident_id


@pytest.mark.parametrize(
    ("action", "strategy", "priority"),
    [("scale", "emergency", 0), ("scale", "urgent", 1), ("cache_warm", "standard", 2), ("log", "emergency", 3),
     ("page", "log", 3), ("scale", None, 2)],
)  # fmt: skip
def test_action_priority(action: str, strategy: str | None, priority: int) -> None:
    assert action_priority(action, {"strategy": strategy} if strategy else {}) == priority


async def test_a_log_action_queued_first_is_claimed_after_an_emergency_one(store: Store) -> None:
    incident_id = await _incident(store, "f1")
    queued = [("log", "log"), ("ops", "standard"), ("scale", "urgent"), ("scale", "emergency")]
    for n, (action, strategy) in enumerate(queued):  # each queued a second after the one before
        at = T0 + timedelta(seconds=n)
        await store.enqueue_action(incident_id, action, f"k{n}", {"strategy": strategy}, now=at)
    now = T0 + timedelta(minutes=1)
    claimed = await store.claim_actions("w", limit=1, lease_seconds=30, now=now)
    assert [row["idempotency_key"] for row in claimed] == ["k3"]  # emergency, queued last
    claimed = await store.claim_actions("w", limit=10, lease_seconds=30, now=now)
    assert [row["idempotency_key"] for row in claimed] == ["k2", "k1", "k0"]


async def test_oldest_first_within_one_priority(store: Store) -> None:
    incident_id = await _incident(store, "f1")
    for n in (3, 1, 2):
        at = T0 + timedelta(seconds=n)
        await store.enqueue_action(incident_id, f"a{n}", f"k{n}", {"strategy": "urgent"}, now=at)
    await store.enqueue_action(incident_id, "later", "k-later", {"strategy": "emergency"}, now=T0,
                               not_before=T0 + timedelta(hours=1))  # fmt: skip
    claimed = await store.claim_actions("w", limit=10, lease_seconds=30, now=T0 + timedelta(minutes=1))
    assert [row["action"] for row in claimed] == ["a1", "a2", "a3"]  # not due yet: not claimed


async def test_log_actions_recorded_final_need_no_worker_and_stay_idempotent(store: Store) -> None:
    incident_id = await _incident(store, "f1")
    scale = ActionRow(incident_id, "scale", "f1:scale", {"strategy": "urgent"}, T0, "w-1")
    log = ActionRow(incident_id, "log", "f1:log", {"strategy": "urgent"}, T0, "w-1")
    done = FinishedAction(log, "done", {"logged": True})
    assert await store.enqueue_actions([scale], finished=[done]) == 2
    assert await store.enqueue_actions([scale], finished=[done]) == 0  # a duplicate queues nothing
    rows = {row["action"]: row for row in await store.list_actions(incident_id)}
    assert (rows["log"]["status"], rows["log"]["attempts"], rows["log"]["result"]) == ("done", 1, {"logged": True})
    assert rows["log"]["started_at"] == rows["log"]["finished_at"] == T0 and rows["log"]["priority"] == 3
    assert (rows["scale"]["status"], rows["scale"]["result"], rows["scale"]["priority"]) == ("pending", None, 1)
    claimed = await store.claim_actions("w", limit=10, lease_seconds=30, now=T0)
    assert [row["action"] for row in claimed] == ["scale"]
    skipped = FinishedAction(ActionRow(incident_id, "log", "f1:log2", {}, T0), "skipped", {"outcome": "dry_run"}, "dry run")
    assert await store.enqueue_actions([], finished=[skipped]) == 1
    assert await store.get_response(incident_id) is None  # no response here: completing it changes nothing
    with pytest.raises(ValueError, match="status must be one of"):
        await store.enqueue_actions([], finished=[FinishedAction(log, "running")])


async def test_migration_0005_backfills_pending_rows(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    every = migrations_module.load_migrations
    monkeypatch.setattr(migrations_module, "load_migrations", lambda dialect: every(dialect)[:4])
    async with open_store_ctx(store_url) as store:  # a database as it was before migration 0005
        incident_id = await _incident(store, "f1")
        async with store.transaction() as tx:
            for n, (action, strategy) in enumerate([("log", "log"), ("page", "standard"), ("scale", "emergency")]):
                # Literal SQL on purpose: the named queries already know the new column.
                await tx.run_script(
                    "INSERT INTO action_outbox (idempotency_key, incident_id, action, params, status, attempts, "
                    f"not_before, created_at) VALUES ('k{n}', {incident_id}, '{action}', "
                    f"'{{\"strategy\": \"{strategy}\"}}', 'pending', 0, '2027-06-12T13:00:0{n}.000000Z', "
                    f"'2027-06-12T13:00:0{n}.000000Z');"
                )
    monkeypatch.setattr(migrations_module, "load_migrations", every)
    async with open_store_ctx(store_url) as store:  # migrates to the newest
        rows = {row["action"]: row["priority"] for row in await store.list_actions(incident_id)}
        assert rows == {"log": 3, "page": 2, "scale": 0}
        claimed = await store.claim_actions("w", limit=10, lease_seconds=30, now=T0 + timedelta(minutes=1))
        assert [row["action"] for row in claimed] == ["scale", "page", "log"]


async def test_a_finished_log_action_completes_a_log_only_response(store: Store) -> None:
    first, second = await _incident(store, "f1"), await _incident(store, "f2")
    for incident_id in (first, second):
        await store.record_response(incident_id=incident_id, strategy="log", severity="low", wedding_id=None,
                                    decided_at=T0, details={})  # fmt: skip
    only = FinishedAction(ActionRow(first, "log", "f1:log", {}, T0), "done", {"logged": True}, completes_response=True)
    mixed = FinishedAction(ActionRow(second, "log", "f2:log", {}, T0), "done", {"logged": True})
    assert await store.enqueue_actions([], finished=[only, mixed]) == 2
    assert (await store.get_response(first) or {})["first_action_completed_at"] == T0
    assert (await store.get_response(second) or {})["first_action_completed_at"] is None

