"""The receiver under faults behind a real Alertmanager: 1,000 alerts while PostgreSQL goes away, and
while the receiver is killed with SIGKILL and restarted. Afterwards every incident is stored exactly
once and every action ran once.

No fixed pause: each fault lasts until Alertmanager reports a delivery it could not make, and the
end is known by a marker alert per Alertmanager group (see `settled`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
import yaml
from reliability_support import TOKEN, free_port, stop_process
from scrape import parse_scrape
from tcp_proxy import TcpProxy

from wedwatch.demo import ALERTMANAGER_NAMES, find_binary
from wedwatch.store import open_store_ctx

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
ALERTS = 1000
NAMES = 10  # ten alert names: ten Alertmanager groups of a hundred alerts
SECONDS = 120.0  # a bound on each wait, not an expectation


class Services:
    """A receiver process (restartable) and an Alertmanager process posting to it."""

    def __init__(self, tmp: Path, store_url: str) -> None:
        self.tmp = tmp
        self.receiver_port = free_port()
        self.am_port = free_port()
        self.receiver: subprocess.Popen[bytes] | None = None
        self.alertmanager: subprocess.Popen[bytes] | None = None
        (tmp / "weddings.yml").write_text("weddings: []\n")
        config = {
            "calendar": {"file": "weddings.yml"},
            "store": {"url": store_url, "timeout_seconds": 1},
            "receiver": {"auth": {"bearer_token": "${RELIABILITY_TOKEN}"}, "backoff_seconds": 0.5},
            "actions": {"cooldown_seconds": 0, "hourly_budget": 100000, "definitions": {"log": {"type": "log"}},
                        "strategies": {s: ["log"] for s in ("emergency", "urgent", "standard", "log")}},
        }  # fmt: skip
        (tmp / "wedwatch.yml").write_text(yaml.safe_dump(config))
        (tmp / "token").write_text(TOKEN)
        am = {
            "route": {"receiver": "wedwatch", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s",
                      "repeat_interval": "1h"},
            "receivers": [{"name": "wedwatch", "webhook_configs": [{
                "url": f"http://127.0.0.1:{self.receiver_port}/alerts", "send_resolved": True, "max_alerts": 0,
                "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(tmp / "token")}}}]}],
        }  # fmt: skip
        (tmp / "alertmanager.yml").write_text(yaml.safe_dump(am))

    def start_receiver(self) -> None:
        with (self.tmp / "receiver.log").open("ab") as log:
            self.receiver = subprocess.Popen(
                [sys.executable, "-m", "wedwatch", "receiver", "--config.file", str(self.tmp / "wedwatch.yml"),
                 "--web.listen-address", f"127.0.0.1:{self.receiver_port}"],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RELIABILITY_TOKEN": TOKEN},
            )  # fmt: skip

    def start_alertmanager(self) -> None:
        binary = find_binary(ALERTMANAGER_NAMES)
        if binary is None:
            pytest.fail("Alertmanager is missing: `make test` installs Debian's prometheus-alertmanager")
        with (self.tmp / "alertmanager.log").open("ab") as log:
            self.alertmanager = subprocess.Popen(
                [binary, f"--config.file={self.tmp / 'alertmanager.yml'}", f"--storage.path={self.tmp / 'am'}",
                 f"--web.listen-address=127.0.0.1:{self.am_port}", "--cluster.listen-address=",
                 f"--web.external-url=http://127.0.0.1:{self.am_port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def stop(self) -> None:
        for proc in (self.alertmanager, self.receiver):
            if proc is not None:
                stop_process(proc)


async def ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(150):
        try:
            async with session.get(url) as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


async def send_alerts(session: aiohttp.ClientSession, port: int, batch: range | list[str]) -> None:
    """Post one alert per item of `batch` (its `n` label) to Alertmanager, Storm0-Storm9 in turn."""
    now = datetime.now(UTC)
    alerts = [{"labels": {"alertname": f"Storm{i % NAMES}", "severity": "low", "n": str(n)},
               "annotations": {"summary": f"alert {n}"},
               "startsAt": (now - timedelta(seconds=5)).isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
              for i, n in enumerate(batch)]  # fmt: skip
    async with session.post(f"http://127.0.0.1:{port}/api/v2/alerts", json=alerts) as r:
        assert r.status == 200, await r.text()


async def failed_deliveries(session: aiohttp.ClientSession, port: int) -> float:
    """Webhook requests Alertmanager has seen fail (5xx or no connection), retries included."""
    async with session.get(f"http://127.0.0.1:{port}/metrics") as r:
        scrape = parse_scrape(await r.read())
    return scrape.value("alertmanager_notification_requests_failed_total", integration="webhook") or 0.0


async def until_a_delivery_fails(session: aiohttp.ClientSession, port: int, before: float) -> None:
    """Return once Alertmanager has failed a delivery since it reported `before` failures."""
    deadline = asyncio.get_running_loop().time() + SECONDS
    while await failed_deliveries(session, port) <= before:
        assert asyncio.get_running_loop().time() < deadline, "Alertmanager never failed a delivery"
        await asyncio.sleep(0.2)


async def settled(session: aiohttp.ClientSession, port: int, schema_url: str) -> tuple[int, dict[str, int]]:
    """Send a marker alert to each Alertmanager group, wait until each is stored and every action is
    done; the incident count and the outbox's statuses.

    Alertmanager flushes a group one notification after another (one ends, retries included, before
    the next begins), and the marker's notification carries its whole group: once every marker is an
    incident, nothing older is left to deliver, so no late duplicate can still arrive.
    """
    await send_alerts(session, port, [f"marker{k}" for k in range(NAMES)])
    async with open_store_ctx(schema_url) as store:
        deadline = asyncio.get_running_loop().time() + SECONDS
        while True:
            rows = await store.list_incidents(limit=ALERTS * 2)
            markers = sum(str(row["labels"].get("n", "")).startswith("marker") for row in rows)
            done = [a for a in await store.recent_actions(datetime(2000, 1, 1, tzinfo=UTC)) if a["status"] == "done"]
            if markers == NAMES and len(done) >= len(rows):  # one log action per incident
                break
            assert asyncio.get_running_loop().time() < deadline, f"{markers} markers, {len(done)}/{len(rows)} done"
            await asyncio.sleep(0.5)
        outbox = [a for r in rows for a in await store.list_actions(r["id"])]
    runs = {}
    for a in outbox:
        runs[a["status"]] = runs.get(a["status"], 0) + 1
    return len(rows), runs


Fault = Callable[[aiohttp.ClientSession], Awaitable[Any]]


async def run_storm(services: Services, during: Fault, schema_url: str) -> tuple[int, dict[str, int]]:
    """Send the alerts in batches, `during` after the fifth; the counts once everything settled."""
    async with aiohttp.ClientSession() as session:
        await ready(session, f"http://127.0.0.1:{services.receiver_port}/-/ready")
        await ready(session, f"http://127.0.0.1:{services.am_port}/-/ready")
        for start in range(0, ALERTS, 100):
            await send_alerts(session, services.am_port, range(start, start + 100))
            if start == 400:
                await during(session)
            await asyncio.sleep(0.2)  # pacing: a stream over a few seconds, not one burst
        return await settled(session, services.am_port, schema_url)


async def test_postgres_unreachable_mid_stream(proxy: TcpProxy, postgres_schema_url: str, tmp_path: Path) -> None:
    parts = urlsplit(postgres_schema_url)
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    services = Services(tmp_path, proxied)
    services.start_receiver()
    services.start_alertmanager()
    try:

        async def outage(session: aiohttp.ClientSession) -> None:
            before = await failed_deliveries(session, services.am_port)
            await proxy.stop()
            # Until Alertmanager gets a 503: it retries with backoff.
            await until_a_delivery_fails(session, services.am_port, before)
            await proxy.start()

        incidents, runs = await run_storm(services, outage, postgres_schema_url)
    finally:
        services.stop()
    log = (tmp_path / "receiver.log").read_text()
    assert "answering 503 so that Alertmanager retries" in log
    assert incidents == ALERTS + NAMES
    assert runs == {"done": ALERTS + NAMES}


async def test_receiver_killed_mid_stream_and_restarted(postgres_schema_url: str, tmp_path: Path) -> None:
    services = Services(tmp_path, postgres_schema_url)
    services.start_receiver()
    services.start_alertmanager()
    try:

        async def crash(session: aiohttp.ClientSession) -> None:
            assert services.receiver is not None
            before = await failed_deliveries(session, services.am_port)
            services.receiver.send_signal(signal.SIGKILL)
            services.receiver.wait()
            # Until Alertmanager finds the connection refused: it retries.
            await until_a_delivery_fails(session, services.am_port, before)
            services.start_receiver()

        incidents, runs = await run_storm(services, crash, postgres_schema_url)
    finally:
        services.stop()
    assert incidents == ALERTS + NAMES
    # An action claimed by the killed process is taken again when its lease runs out: still once done.
    assert runs == {"done": ALERTS + NAMES}
