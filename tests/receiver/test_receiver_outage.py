"""The store goes away mid-stream: 503 so that Alertmanager retries, then exactly once after it returns."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from receiver_support import AUTH, MakeConfig, MakeReceiver, Target, alert, notification
from tcp_proxy import TcpProxy

from wedwatch.store.sqlite import sqlite_path

CountRows = Callable[[str], Awaitable[int]]
LABELS = {"alertname": "Slow", "severity": "high", "wedding_id": "w-june", "operation": "mobile"}


async def post(client: Any, body: dict[str, Any]) -> int:
    response = await client.post(
        "/alerts", data=io.BytesIO(json.dumps(body).encode()), headers={"Content-Type": "application/json", **AUTH}
    )
    return int(response.status)


async def retry_until_accepted(client: Any, body: dict[str, Any], tries: int = 40) -> list[int]:
    """What Alertmanager does with a 5xx: send the same body again, with a pause."""
    seen = []
    for _ in range(tries):
        seen.append(await post(client, body))
        if seen[-1] == 200:
            return seen
        await asyncio.sleep(0.25)
    raise AssertionError(f"never accepted: {seen}")


@pytest.fixture
def store_url(postgres_schema_url: str) -> str:
    """These tests pick their own store per test; the shared parametrization would only repeat them."""
    return postgres_schema_url


@pytest.mark.postgres
async def test_postgres_cut_mid_stream_gives_503_then_exactly_once(
    proxy: TcpProxy, postgres_schema_url: str, make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    parts = urlsplit(postgres_schema_url)
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    client, receiver = await make_receiver(make_config(store={"url": proxied, "timeout_seconds": 1}))
    assert await post(client, notification(alert("before", labels=LABELS), group="g1")) == 200
    await proxy.stop()
    during = notification(alert("during", labels=LABELS), group="g2")
    assert await post(client, during) == 503
    assert (await client.get("/-/ready")).status == 503
    await proxy.start()
    statuses = await retry_until_accepted(client, during)
    assert statuses[-1] == 200
    assert await post(client, during) == 200  # a late retry: a duplicate, acknowledged
    assert receiver.worker is not None
    await receiver.worker.tick()
    fingerprints = sorted(i["fingerprint"] for i in await receiver.require_store().list_incidents())
    assert fingerprints == ["before", "during"]
    metrics = await (await client.get("/metrics")).text()
    assert 'wedwatch_receiver_notifications_total{outcome="unavailable"}' in metrics
    assert len(target.hits("/scale")) == 2  # each incident's scale action once


async def test_sqlite_locked_by_another_process_gives_503_then_exactly_once(
    tmp_path: Any, make_config: MakeConfig, make_receiver: MakeReceiver
) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    client, receiver = await make_receiver(make_config(store={"url": url, "timeout_seconds": 0.3}))
    assert await post(client, notification(alert("before", labels=LABELS), group="g1")) == 200
    # Another process takes the write lock and holds it: writers wait out the busy timeout.
    holder = sqlite3.connect(sqlite_path(url), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    during = notification(alert("during", labels=LABELS), group="g2")
    try:
        assert await post(client, during) == 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await post(client, during) == 200
    assert await post(client, during) == 200
    fingerprints = sorted(i["fingerprint"] for i in await receiver.require_store().list_incidents())
    assert fingerprints == ["before", "during"]


async def test_store_down_at_start_answers_503_until_it_is_reachable(
    make_config: MakeConfig, make_receiver: MakeReceiver
) -> None:
    loaded = make_config(store={"url": "postgresql://postgres@127.0.0.1:1/nothing", "timeout_seconds": 1})
    client, _ = await make_receiver(loaded)
    assert await post(client, notification(alert("x", labels=LABELS))) == 503
    assert (await client.get("/-/ready")).status == 503
    assert (await client.get("/api/v1/alerts", headers=AUTH)).status == 503
    assert (await client.get("/-/healthy")).status == 200
