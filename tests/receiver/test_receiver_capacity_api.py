"""The capacity target on /metrics and at GET /api/v1/capacity, on both store back ends; two receivers
on one store export the same values (it is read from the store and the calendar, not kept in memory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from receiver_support import AUTH, NOW, Clock, MakeConfig, MakeReceiver
from scrape import parse_scrape

from wedwatch.forecast.persist import PredictionSet, save_prediction_set
from wedwatch.forecast.prediction import Forecast

RESOURCES = ("instances", "db_connections", "cache_mb")
REASONS = ("emergency", "plan", "forecast", "minimum")
# w-123 (180 guests) has its ceremony at 21:00 UTC on NOW's day: its window opens at 19:00.
OPENS = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)


async def capacity(client: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/capacity", headers=AUTH)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = await response.json()
    return body


async def exported(client: Any) -> dict[str, tuple[float | None, str | None]]:
    """{resource: (target, the reason at 1)} from /metrics, read with prometheus_client's parser."""
    response = await client.get("/metrics")
    assert response.status == 200
    page = parse_scrape(await response.read())
    out: dict[str, tuple[float | None, str | None]] = {}
    for resource in RESOURCES:
        reasons = {r: page.value("wedwatch_capacity_target_reason", resource=resource, reason=r) for r in REASONS}
        won = [r for r, v in reasons.items() if v == 1.0]
        assert sorted(v for v in reasons.values() if v is not None) in ([], [0.0, 0.0, 0.0, 1.0]), reasons
        out[resource] = (page.value("wedwatch_capacity_target", resource=resource), won[0] if won else None)
    return out


async def test_api_shape_exactly(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, _ = await make_receiver(make_config())
    # At NOW w-123's window is open: the plan sizes 180 guests (x 0.05, 0.3, 2 MB in 64 MB steps).
    assert await capacity(client) == {
        "status": "success",
        "data": {
            "instances": {"target": 9, "reason": "plan", "bounds": [2, 10]},
            "db_connections": {"target": 54, "reason": "plan", "bounds": [20, 100]},
            "cache_mb": {"target": 384, "reason": "plan", "bounds": [256, 1024]},
        },
    }
    document = await (await client.get("/openapi.json")).json()
    schema = document["components"]["schemas"]["CapacityTargets"]
    assert schema["properties"]["data"]["required"] == list(RESOURCES)
    assert "/api/v1/capacity" in document["paths"]


async def test_api_needs_credentials(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, _ = await make_receiver(make_config())
    assert (await client.get("/api/v1/capacity")).status == 401


@pytest.mark.parametrize(
    ("at", "emergency", "forecast_rps", "expected"),
    [
        # Before the window opens, nothing applies.
        (OPENS - timedelta(seconds=1), False, None, {r: "minimum" for r in RESOURCES}),
        # The window opens: the plan.
        (OPENS, False, None, {r: "plan" for r in RESOURCES}),
        # Outside any window, the current hour's forecast: 120 req/s -> 10 instances, 80 connections, 960 MB.
        (OPENS - timedelta(seconds=1), False, 120.0, {r: "forecast" for r in RESOURCES}),
        # Inside, the plan is sized by the same forecast's peak over its step: the plan (ties go to it).
        (OPENS, False, 120.0, {r: "plan" for r in RESOURCES}),
        # Emergency over everything.
        (OPENS, True, 120.0, {r: "emergency" for r in RESOURCES}),
    ],
)
async def test_two_replicas_export_the_same_target(
    make_config: MakeConfig,
    make_receiver: MakeReceiver,
    clock: Clock,
    at: datetime,
    emergency: bool,
    forecast_rps: float | None,
    expected: dict[str, str],
) -> None:
    loaded = make_config()
    replicas = [await make_receiver(loaded, worker_id=f"replica-{i}") for i in range(2)]
    clock.now = at
    store = replicas[0][1].require_store()
    if emergency:
        await store.enter_emergency(entered_at=at, reason="test")
    if forecast_rps is not None:
        start = at.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        values = (forecast_rps,) * 24
        pset = PredictionSet.from_forecast("requests", Forecast(start, values, values, values, values, values), created_at=start)
        await save_prediction_set(store, pset)
    seen = [await exported(client) for client, _ in replicas]
    api = [await capacity(client) for client, _ in replicas]
    assert seen[0] == seen[1]
    assert api[0] == api[1]
    for resource, reason in expected.items():
        value, won = seen[0][resource]
        assert won == reason == api[0]["data"][resource]["reason"], resource
        assert value == api[0]["data"][resource]["target"], resource


async def test_entering_the_window_raises_the_target(
    make_config: MakeConfig, make_receiver: MakeReceiver, clock: Clock
) -> None:
    client, _ = await make_receiver(make_config())
    clock.now = OPENS - timedelta(minutes=1)
    assert (await exported(client))["instances"] == (2.0, "minimum")
    clock.now = OPENS
    assert (await exported(client))["instances"] == (9.0, "plan")
    clock.now = NOW + timedelta(hours=6)  # the window closed at 03:00
    assert (await exported(client))["instances"] == (2.0, "minimum")


async def test_without_the_store_the_target_is_left_out(make_config: MakeConfig, make_receiver: MakeReceiver) -> None:
    client, receiver = await make_receiver(make_config())
    store = receiver.store
    receiver.store = None  # as before the store was first reached
    try:
        assert (await exported(client))["instances"] == (None, None)
        response = await client.get("/api/v1/capacity", headers=AUTH)
        assert response.status == 503
    finally:
        receiver.store = store
