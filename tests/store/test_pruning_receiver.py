"""The receiver prunes on its schedule (receiver/service.py) and says so in its metrics, on both back ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient

from wedwatch.config import LoadedConfig, load_config
from wedwatch.receiver.app import create_app
from wedwatch.receiver.contract import receiver_metric_names
from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.receiver.service import Receiver
from wedwatch.store import open_store_ctx
from wedwatch.store.pruning import LEASE

NOW = datetime(2028, 6, 1, 12, tzinfo=UTC)


def _config(tmp_path: Path, store_url: str, **retention: Any) -> LoadedConfig:
    (tmp_path / "weddings.yml").write_text("weddings: []\n")
    document = {
        "calendar": {"file": "weddings.yml"},
        "store": {"url": store_url, "timeout_seconds": 3, "retention": retention},
        "features": {"predictive_scaling": False},
    }
    path = tmp_path / "wedwatch.yml"
    path.write_text(yaml.safe_dump(document))
    return load_config(path)


async def _start(aiohttp_client: AiohttpClient, loaded: LoadedConfig) -> tuple[TestClient, Receiver]:  # type: ignore[type-arg]
    client = await aiohttp_client(create_app(loaded, now=lambda: NOW, run_worker=False))
    return client, client.app[RECEIVER_KEY]


async def _old_notifications(store_url: str, n: int) -> None:
    async with open_store_ctx(store_url) as store:
        for i in range(n):
            await store.record_notification(
                dedup_key=f"k{i}", group_key="g", receiver="r", status="firing", alert_count=1, payload={},
                received_at=NOW - timedelta(days=31, seconds=i),
            )  # fmt: skip


async def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[type-arg]
    text = await (await client.get("/metrics")).text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_prune_once_counts_rows_and_runs(store_url: str, tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    await _old_notifications(store_url, 5)
    client, receiver = await _start(aiohttp_client, _config(tmp_path, store_url, interval_seconds=3600))
    report = await receiver.prune_once()
    assert report.tables["notifications"] == 5
    samples = await _samples(client)
    assert samples[("wedwatch_store_pruned_rows_total", (("table", "notifications"),))] == 5
    assert samples[("wedwatch_store_pruned_rows_total", (("table", "performance_alerts"),))] == 0
    assert samples[("wedwatch_store_prune_runs_total", (("outcome", "completed"),))] == 1
    assert samples[("wedwatch_store_prune_last_completed_timestamp_seconds", ())] > 1.7e9
    assert samples[("wedwatch_store_prune_last_duration_seconds", ())] >= 0
    names = {name for name, _ in samples}
    assert {n for n in receiver_metric_names() if n.startswith("wedwatch_store_")} <= names


async def test_a_replica_holding_the_lease_makes_the_others_skip(
    store_url: str, tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    client, receiver = await _start(aiohttp_client, _config(tmp_path, store_url, interval_seconds=3600))
    assert await receiver.require_store().acquire_lease(LEASE, "replica-2", seconds=60)
    report = await receiver.prune_once()
    assert report.skipped and report.holder == "replica-2"
    samples = await _samples(client)
    assert samples[("wedwatch_store_prune_runs_total", (("outcome", "skipped"),))] == 1
    assert samples[("wedwatch_store_prune_last_completed_timestamp_seconds", ())] == 0


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_schedule_runs_only_when_enabled(
    store_url: str, tmp_path: Path, aiohttp_client: AiohttpClient, enabled: bool
) -> None:
    await _old_notifications(store_url, 3)
    client, receiver = await _start(
        aiohttp_client, _config(tmp_path, store_url, interval_seconds=0.05, enabled=enabled)
    )
    completed = ("wedwatch_store_prune_runs_total", (("outcome", "completed"),))
    for _ in range(100):
        if (await _samples(client))[completed] >= 2 or not enabled:
            break
        await asyncio.sleep(0.05)
    if not enabled:
        await asyncio.sleep(0.5)  # ten intervals
    samples = await _samples(client)
    assert (samples[completed] >= 2) is enabled
    assert samples[("wedwatch_store_pruned_rows_total", (("table", "notifications"),))] == (3 if enabled else 0)


async def test_with_pruning_off_the_receiver_still_creates_the_day_partitions_ahead(
    postgres_schema_url: str, tmp_path: Path, aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pruning creates the partitions a week ahead; switched off, a loop of its own does (PostgreSQL)."""
    monkeypatch.setattr("wedwatch.receiver.service.PARTITION_INTERVAL_SECONDS", 0.05)
    clock = {"now": NOW}
    loaded = _config(tmp_path, postgres_schema_url, enabled=False)
    client = await aiohttp_client(create_app(loaded, now=lambda: clock["now"], run_worker=False))
    receiver: Receiver = client.app[RECEIVER_KEY]
    assert "store pruning" not in {t.get_name() for t in receiver._tasks}

    async def newest_day() -> datetime:
        parts = await receiver.require_store().list_partitions("notifications")
        return max(p.lower for p in parts if p.lower is not None and not p.is_default)

    async with asyncio.timeout(30):
        while receiver.store is None:
            await asyncio.sleep(0.05)
    clock["now"] = NOW + timedelta(days=20)  # three weeks on: the start's week ahead has run out
    async with asyncio.timeout(30):
        while await newest_day() < datetime(2028, 6, 21, tzinfo=UTC):
            await asyncio.sleep(0.05)
