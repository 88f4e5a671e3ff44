"""The receiver drives the forecaster: it refits off the request path (on schedule and when an alert
asks for capacity), stores the prediction set and exports it as wedwatch_forecast."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from receiver_support import AUTH, MakeConfig, MakeReceiver, alert, notification

from wedwatch.forecast import runner
from wedwatch.forecast.synthetic import generate_history


@pytest.fixture
def store_url(tmp_path: Any) -> str:
    """Forecasting is not about the store back end: SQLite is enough here."""
    return f"sqlite:///{tmp_path / 'forecast.db'}"


@pytest.fixture
async def prometheus() -> AsyncIterator[str]:
    """A Prometheus-compatible query_range serving three weeks of synthetic hourly load up to now."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    history = generate_history(3, start=now - timedelta(hours=3 * 168), hours=3 * 168, outages=False).series

    async def query_range(request: web.Request) -> web.Response:
        start, end = float(request.query["start"]), float(request.query["end"])
        values = [[history.start.timestamp() + i * 3600, f"{v:.4f}"] for i, v in enumerate(history.values)
                  if v is not None and start <= history.start.timestamp() + i * 3600 <= end]  # fmt: skip
        return web.json_response({"status": "success", "data": {"resultType": "matrix",
                                  "result": [{"metric": {}, "values": values}] if values else []}})  # fmt: skip

    app = web.Application()
    app.router.add_get("/api/v1/query_range", query_range)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_refit_on_schedule_and_export(
    make_config: MakeConfig, make_receiver: MakeReceiver, prometheus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "REFIT_START_DELAY_SECONDS", 0.0)
    monkeypatch.setattr(runner, "REFIT_MIN_SPACING_SECONDS", 0.0)
    loaded = make_config(forecast={"prometheus_url": prometheus, "horizon_hours": 48, "workers": 1,
                                   "series": {"requests": {"query": "sum(rate(requests_total[1h]))"}},
                                   "backtest": {"origins": 0}})  # fmt: skip
    client, receiver = await make_receiver(loaded)
    store = receiver.require_store()

    async def stored() -> list[Any]:
        for _ in range(240):
            sets = await store.latest_prediction_sets()
            if sets:
                return sets
            await asyncio.sleep(0.25)
        raise AssertionError("no prediction set after 60 s")

    (pset,) = await stored()
    assert pset["series"] == "requests" and len(pset["points"]) == 48
    assert pset["model"].startswith("prophet"), pset["model"]
    metrics = await (await client.get("/metrics")).text()
    assert 'wedwatch_forecast{bound="yhat",series="requests"}' in metrics

    # An alert that asks for capacity wakes the refit loop (the interval is 6 h); nothing runs on the request path.
    labels = {"alertname": "X", "severity": "high", "wedding_id": "w-june", "operation": "mobile"}
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(notification(alert("cap", labels=labels))).encode()),
                                 headers={"Content-Type": "application/json", **AUTH})  # fmt: skip
    assert response.status == 200

    async def refitted() -> bool:
        for _ in range(240):
            (latest,) = await store.latest_prediction_sets()
            if latest["id"] > pset["id"]:  # the clock is frozen in tests: compare by row
                return True
            await asyncio.sleep(0.25)
        return False

    assert await refitted(), "the alert asking for capacity did not trigger a refit"
