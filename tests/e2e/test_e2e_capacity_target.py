"""Real Prometheus scraping two receivers on one store: a ceremony entering its two-hour window raises
`wedwatch_capacity_target{resource="instances"}`, and the PromQL of the shipped KEDA ScaledObject
returns that value from that Prometheus.

The receivers' clock is the wall clock plus a shift the test moves, so the window opens when the
test says, not two hours into the run.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from checkout import REPO
from e2e_support import eventually, free_port, serve

from wedwatch.config import load_config
from wedwatch.demo import PROMETHEUS_NAMES, find_binary
from wedwatch.receiver.app import create_app as receiver_app

pytestmark = pytest.mark.e2e
SCALED_OBJECT = REPO / "deploy/kubernetes/components/keda-scaler/scaledobject.yaml"
GUESTS = 120  # x 0.05 instances per guest (forecast.recommendations's default) = 6 instances


def shipped_query() -> str:
    """The PromQL of the ScaledObject's prometheus trigger, as shipped."""
    for document in yaml.safe_load_all(SCALED_OBJECT.read_text()):
        if document and document.get("kind") == "ScaledObject":
            triggers = [t for t in document["spec"]["triggers"] if t["type"] == "prometheus"]
            query: str = triggers[0]["metadata"]["query"]
            return query
    raise AssertionError(f"no ScaledObject in {SCALED_OBJECT}")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    binary = find_binary(PROMETHEUS_NAMES)
    if binary is None:
        pytest.fail("Prometheus is missing: `make test` installs Debian's package")
    real = datetime.now(UTC)
    ceremony = real.replace(second=0, microsecond=0) + timedelta(hours=3)  # its window opens in about an hour
    entries = [{"id": "w-soon", "ceremony_at": ceremony.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC",
                "guests": GUESTS, "vendors": 8}]  # fmt: skip
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": entries}))
    config = {
        "calendar": {"file": "weddings.yml"},
        "store": {"url": "sqlite:///receiver.db"},
        "receiver": {"auth": {"bearer_token": "e2e-capacity-token", "public_read": True}},
    }
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(config))
    loaded = load_config(tmp_path / "wedwatch.yml", environ={})
    shift = [timedelta(0)]

    def now() -> datetime:
        return datetime.now(UTC) + shift[0]

    runners: list[web.AppRunner] = []
    receivers = [await serve(receiver_app(loaded, now=now, run_worker=False, worker_id=f"r{i}"), runners) for i in range(2)]
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "wedwatch-receiver", "static_configs": [{"targets": receivers}]}],
    }))  # fmt: skip
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield {"prometheus": f"http://127.0.0.1:{port}", "receivers": [f"http://{r}" for r in receivers],
               "shift": shift, "window_opens": ceremony - timedelta(hours=2), "real": real}  # fmt: skip
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        for runner in reversed(runners):
            await runner.cleanup()


async def test_a_ceremony_entering_its_window_raises_the_target_keda_reads(stack: dict[str, Any]) -> None:
    prometheus, query = stack["prometheus"], shipped_query()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:

        async def value() -> float | None:
            try:
                async with session.get(f"{prometheus}/api/v1/query", params={"query": query}) as r:
                    body = await r.json()
            except aiohttp.ClientError:
                return None  # not listening yet
            result = body["data"]["result"]
            assert len(result) <= 1, result  # KEDA refuses several elements
            return float(result[0]["value"][1]) if result else None

        async def both_scraped() -> bool:
            async with session.get(f"{prometheus}/api/v1/query", params={"query": 'up{job="wedwatch-receiver"}'}) as r:
                result = (await r.json())["data"]["result"]
            return len(result) == 2 and all(s["value"][1] == "1" for s in result)

        async def equals(expected: float) -> bool:
            return await value() == expected

        await eventually(value, "Prometheus answering the ScaledObject's query", timeout=60)
        await eventually(both_scraped, "Prometheus scraping both receivers", timeout=30)
        # An hour before the window: nothing applies, the lower bound.
        await eventually(lambda: equals(2.0), "the target at the minimum", timeout=30)

        # The clock moves into the two-hour window (10 s past its opening).
        stack["shift"][0] = stack["window_opens"] - stack["real"] + timedelta(seconds=10)
        await eventually(lambda: equals(6.0), "the target raised to the plan's 6 instances", timeout=30)

        # Both replicas export it (each from its next scrape on), and the API says why.
        async def both_raised() -> bool:
            async with session.get(f"{prometheus}/api/v1/query",
                                   params={"query": 'wedwatch_capacity_target{resource="instances"}'}) as r:
                series = (await r.json())["data"]["result"]
            return sorted(float(s["value"][1]) for s in series) == [6.0, 6.0]

        await eventually(both_raised, "both replicas exporting 6 instances", timeout=30)
        for receiver in stack["receivers"]:
            async with session.get(f"{receiver}/api/v1/capacity") as r:
                assert (await r.json())["data"]["instances"] == {"target": 6, "reason": "plan", "bounds": [2, 10]}
