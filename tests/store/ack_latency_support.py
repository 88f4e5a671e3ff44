"""What the two ack-latency tests share (pruning, partition drops): a real receiver app on the store
under test, a timed ack of a new three-alert notification, and the p99s of two kinds of phase."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from wedwatch.config import load_config
from wedwatch.receiver.app import create_app

NOW = datetime(2028, 6, 1, 12, tzinfo=UTC)
TOKEN = "latency-token"


async def latency_receiver(
    aiohttp_client: AiohttpClient, tmp_path: Path, store_url: str, retention: dict[str, Any]
) -> TestClient:  # type: ignore[type-arg]
    """A receiver on `store_url` (clock at NOW, no worker, every strategy `log`) behind a test client."""
    (tmp_path / "weddings.yml").write_text("weddings: []\n")
    document = {
        "calendar": {"file": "weddings.yml"},
        "store": {"url": store_url, "timeout_seconds": 5, "retention": retention},
        "receiver": {"auth": {"bearer_token": TOKEN}},
        "actions": {
            "definitions": {"log": {"type": "log"}},
            "strategies": {s: ["log"] for s in ("emergency", "urgent", "standard", "log")},
        },
        "features": {"predictive_scaling": False},
    }
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(document))
    app = create_app(load_config(tmp_path / "wedwatch.yml"), now=lambda: NOW, run_worker=False)
    return await aiohttp_client(app)


def notification(i: int) -> dict[str, Any]:
    """The i-th notification: three new firing alerts (three incidents)."""
    starts = (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "LatencyProbe", "severity": "low", "instance": f"i-{i}-{k}"},
            "annotations": {"summary": "latency probe"},
            "startsAt": starts,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
            "fingerprint": f"{i:012x}{k:04x}",
        }
        for k in range(3)
    ]
    return {
        "version": "4", "groupKey": f"{{}}:{{n=\"{i}\"}}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "wedwatch", "groupLabels": {"n": str(i)}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager", "alerts": alerts,
    }  # fmt: skip


class Acker:
    """Sends one new notification at a time and returns how long its 200 took."""

    def __init__(self, client: TestClient) -> None:  # type: ignore[type-arg]
        self.client = client
        self.sent = 0

    async def __call__(self) -> float:
        self.sent += 1
        began = time.perf_counter()
        response = await self.client.post(
            "/alerts", json=notification(self.sent), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        await response.read()
        took = time.perf_counter() - began
        assert response.status == 200, await response.text()
        return took


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def describe(label: str, samples: list[float]) -> str:
    """`label N p50 x ms p99 y ms` for a summary line."""
    return f"{label} {len(samples)} p50 {statistics.median(samples) * 1000:.1f} ms p99 {p99(samples) * 1000:.1f} ms"
