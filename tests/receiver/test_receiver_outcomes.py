"""The worker's outcomes, group-committed: many actions per commit, nothing half written, retried after a failed write."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from receiver_support import AUTH, Clock, MakeConfig, MakeReceiver, alert, notification

from wedwatch.errors import StoreError, StoreUnavailable
from wedwatch.store.records import ActionFinish
from wedwatch.store.transaction import Transaction

# Low and for a wedding months away: the `log` strategy, one action each, mapped to `page` here:
# `log` actions are recorded done at decision time and never reach the worker.
LOW = {"alertname": "WedwatchOperationSlow", "severity": "low", "operation": "mobile", "wedding_id": "w-june"}
WORKED = {"strategies": {"emergency": ["page"], "urgent": ["page"], "standard": ["page"], "log": ["page"]}}


async def _post(client: Any, body: dict[str, Any]) -> int:
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(body).encode()), headers={"Content-Type": "application/json", **AUTH})
    return int(response.status)


async def _actions(receiver: Any) -> list[dict[str, Any]]:
    store = receiver.require_store()
    return [a for i in await store.list_incidents(limit=1000) for a in await store.list_actions(i["id"])]


async def test_outcomes_of_one_round_share_commits(
    make_config: MakeConfig, make_receiver: MakeReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, receiver = await make_receiver(make_config(receiver={"worker_batch": 50}, actions=WORKED))
    alerts = [alert(f"low-{i}", labels={**LOW, "instance": f"i{i}"}) for i in range(20)]
    assert await _post(client, notification(*alerts)) == 200
    store = receiver.require_store()
    writes: list[int] = []
    finish_actions = store.finish_actions

    async def counted(finishes: Sequence[ActionFinish], *, tx: Transaction | None = None) -> int:
        if tx is not None and all(f.status == "done" for f in finishes):
            writes.append(len(finishes))
        return await finish_actions(finishes, tx=tx)

    monkeypatch.setattr(store, "finish_actions", counted)
    assert receiver.worker is not None
    assert await receiver.worker.tick() == 20
    # Every outcome is written, in fewer commits than actions (the first action's write is in
    # flight while the other nineteen finish; they go together in the next).
    assert sum(writes) == 20
    assert 1 <= len(writes) < 20
    actions = await _actions(receiver)
    assert [a["status"] for a in actions] == ["done"] * 20
    # A done action also completed its incident's response, in the same commit.
    responses = await store.list_responses(limit=100)
    assert len(responses) == 20 and all(r["first_action_completed_at"] is not None for r in responses)


async def test_a_failed_write_reaches_every_action_and_the_lease_brings_them_back(
    make_config: MakeConfig, make_receiver: MakeReceiver, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, receiver = await make_receiver(make_config(receiver={"worker_batch": 50}, actions=WORKED))
    alerts = [alert(f"low-{i}", labels={**LOW, "instance": f"i{i}"}) for i in range(5)]
    assert await _post(client, notification(*alerts)) == 200
    store = receiver.require_store()
    complete = store.complete_response_actions

    async def broken(completions: Sequence[Any], *, tx: Transaction | None = None) -> int:
        raise StoreUnavailable("store sqlite:///w.db unavailable: disk I/O error")

    monkeypatch.setattr(store, "complete_response_actions", broken)
    assert receiver.worker is not None
    with pytest.raises(StoreError, match="disk I/O error"):
        await receiver.worker.tick()
    # The outcome and the response's completion are one transaction: neither was kept.
    actions = await _actions(receiver)
    assert {a["status"] for a in actions} == {"running"}
    assert all(r["first_action_completed_at"] is None for r in await store.list_responses(limit=100))

    monkeypatch.setattr(store, "complete_response_actions", complete)
    assert await receiver.worker.tick() == 0  # still leased
    clock.advance(seconds=120)  # past the lease (the longest action timeout + 60 s)
    assert await receiver.worker.tick() == 5
    actions = await _actions(receiver)
    assert [(a["status"], a["attempts"]) for a in actions] == [("done", 2)] * 5


async def test_finish_actions_in_one_call(make_config: MakeConfig, make_receiver: MakeReceiver, clock: Clock) -> None:
    client, receiver = await make_receiver(make_config(actions=WORKED))
    assert await _post(client, notification(*[alert(f"low-{i}", labels={**LOW, "instance": f"i{i}"}) for i in range(3)])) == 200
    store = receiver.require_store()
    claimed = await store.claim_actions("w", 10, 60, clock())
    first, second, third = (row["id"] for row in claimed)
    at = clock() + timedelta(seconds=1)
    finishes = [ActionFinish(first, "done", at, {"ok": True}), ActionFinish(second, "failed", at, error="HTTP 502")]
    assert await store.finish_actions(finishes) == 2
    assert await store.finish_actions([*finishes, ActionFinish(third, "skipped", at, error="kill switch")]) == 1
    rows = {a["id"]: a for a in await _actions(receiver)}
    assert [(rows[i]["status"], rows[i]["result"], rows[i]["error"], rows[i]["finished_at"]) for i in (first, second, third)] == [
        ("done", {"ok": True}, None, at), ("failed", None, "HTTP 502", at), ("skipped", None, "kill switch", at)
    ]  # fmt: skip
    with pytest.raises(ValueError, match="status must be one of"):
        await store.finish_actions([ActionFinish(first, "running", at)])
    assert await store.finish_actions([]) == 0
