"""The action outbox: idempotent enqueue, leased claims, outcomes, retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.store import Store

T0 = datetime(2027, 6, 12, 13, 0, tzinfo=UTC)


async def _incident(store: Store, fingerprint: str = "f1") -> int:
    incident_id, _ = await store.upsert_incident(
        fingerprint=fingerprint, starts_at=T0, alertname="A", status="firing", severity="high", labels={}, annotations={}
    )
    return incident_id


async def test_enqueue_is_idempotent(store: Store) -> None:
    incident_id = await _incident(store)
    assert await store.enqueue_action(incident_id, "scale", f"{incident_id}:scale", {"instances": 4}, now=T0)
    assert not await store.enqueue_action(incident_id, "scale", f"{incident_id}:scale", {"instances": 9}, now=T0)
    assert await store.enqueue_action(None, "scale", "plan:w1:2027-06-12", {"instances": 6}, now=T0)
    actions = await store.list_actions(incident_id)
    assert len(actions) == 1
    assert actions[0]["params"] == {"instances": 4}
    assert (actions[0]["status"], actions[0]["attempts"], actions[0]["not_before"]) == ("pending", 0, T0)


async def test_claim_finish_and_lease_expiry(store: Store) -> None:
    incident_id = await _incident(store)
    for action in ("scale", "cache_warm", "log"):
        await store.enqueue_action(incident_id, action, f"{incident_id}:{action}", {}, now=T0)
    await store.enqueue_action(incident_id, "later", f"{incident_id}:later", {}, not_before=T0 + timedelta(hours=1), now=T0)

    claimed = await store.claim_actions("worker-a", limit=2, lease_seconds=30, now=T0)
    assert [row["action"] for row in claimed] == ["scale", "cache_warm"]
    assert all(row["status"] == "running" and row["claimed_by"] == "worker-a" for row in claimed)
    assert all(row["lease_until"] == T0 + timedelta(seconds=30) and row["attempts"] == 1 for row in claimed)

    # Leased rows are not handed out again while the lease holds; the not-yet-due one neither.
    rest = await store.claim_actions("worker-b", limit=10, lease_seconds=30, now=T0 + timedelta(seconds=10))
    assert [row["action"] for row in rest] == ["log"]

    assert await store.finish_action(claimed[0]["id"], "done", {"instances": 4}, now=T0 + timedelta(seconds=5))
    assert not await store.finish_action(claimed[0]["id"], "failed", error="again")  # already final
    done = await store.get_action(claimed[0]["id"])
    assert done is not None
    assert (done["status"], done["result"], done["finished_at"], done["lease_until"]) == (
        "done", {"instances": 4}, T0 + timedelta(seconds=5), None
    )

    # worker-a died holding cache_warm: after its lease it is due again, with a second attempt.
    again = await store.claim_actions("worker-b", limit=10, lease_seconds=30, now=T0 + timedelta(seconds=31))
    assert [(row["action"], row["attempts"], row["claimed_by"]) for row in again] == [("cache_warm", 2, "worker-b")]
    assert await store.claim_actions("worker-c", limit=0, lease_seconds=30, now=T0) == []

    later = await store.claim_actions("worker-c", limit=10, lease_seconds=30, now=T0 + timedelta(hours=2))
    # Every lease has run out by then; the action finished as done stays done.
    assert {row["action"] for row in later} == {"later", "log", "cache_warm"}


async def test_release_puts_an_action_back_for_a_retry(store: Store) -> None:
    incident_id = await _incident(store)
    await store.enqueue_action(incident_id, "http", f"{incident_id}:http", {}, now=T0)
    (claimed,) = await store.claim_actions("w", limit=1, lease_seconds=60, now=T0)
    retry_at = T0 + timedelta(seconds=20)
    assert await store.release_action(claimed["id"], not_before=retry_at, error="HTTP 502")
    assert not await store.release_action(claimed["id"], not_before=retry_at)  # not running any more
    assert await store.claim_actions("w", limit=1, lease_seconds=60, now=T0 + timedelta(seconds=10)) == []
    (retried,) = await store.claim_actions("w", limit=1, lease_seconds=60, now=retry_at)
    assert (retried["attempts"], retried["error"]) == (2, "HTTP 502")
    assert await store.finish_action(retried["id"], "failed", error="HTTP 502 twice")


async def test_recent_actions_feed_the_budget(store: Store) -> None:
    incident_id = await _incident(store)
    for i in range(3):
        await store.enqueue_action(incident_id, "scale", f"k{i}", {}, now=T0)
    await store.claim_actions("w", limit=2, lease_seconds=60, now=T0 + timedelta(minutes=1))
    recent = await store.recent_actions(T0)
    assert [row["action"] for row in recent] == ["scale", "scale"]
    assert await store.recent_actions(T0 + timedelta(minutes=2)) == []


async def test_finish_rejects_unknown_status(store: Store) -> None:
    with pytest.raises(ValueError, match="done, failed, skipped"):
        await store.finish_action(1, "running")
