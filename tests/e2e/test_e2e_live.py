"""Seconds, not minutes, at the shipped production settings (no time compression): real Prometheus and
Alertmanager, the platform stand-in, exporter and receiver on loopback.

A slowdown on a wedding in its ceremony reaches the receiver's first non-`log` action within 60 s of
the fault; a single slow probe of another live wedding, at the same time, never raises an alert.
The rules, scrape intervals and Alertmanager routing are what `wedwatch demo --time-compression 1`
writes: deploy/compose's and examples/'s.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from e2e_support import eventually, free_port, serve
from scrape import parse_scrape

from wedwatch.calendar import Wedding, parse_calendar
from wedwatch.config import load_config
from wedwatch.demo import ALERTMANAGER_NAMES, PROMETHEUS_NAMES, LocalStack, find_binary
from wedwatch.exporter.app import create_app as exporter_app
from wedwatch.platform import PlatformSettings
from wedwatch.platform import create_app as platform_app
from wedwatch.receiver.app import create_app as receiver_app
from wedwatch.rules.live import BREACH

pytestmark = pytest.mark.e2e
TOKEN = "e2e-live-token"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    if find_binary(PROMETHEUS_NAMES) is None or find_binary(ALERTMANAGER_NAMES) is None:
        pytest.fail("Prometheus and Alertmanager are missing: `make test` installs Debian's packages")
    runners: list[web.AppRunner] = []
    now = datetime.now(UTC)
    entries = [
        {"id": wid, "ceremony_at": (now + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC",
         "guests": 120, "vendors": 8}
        for wid in ("w-live", "w-once")
    ]  # fmt: skip
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": entries}))
    weddings: list[Wedding] = parse_calendar(entries, source="e2e").weddings
    actions: list[tuple[float, str, dict[str, Any]]] = []

    async def record(request: web.Request) -> web.Response:
        actions.append((time.monotonic(), request.path, await request.json() if request.can_read_body else {}))
        return web.json_response({"ok": True})

    target_app = web.Application()
    target_app.router.add_route("*", "/{tail:.*}", record)
    target = await serve(target_app, runners)
    platform = await serve(platform_app(weddings, settings=PlatformSettings(guest_list_per_guest_seconds=0)), runners)
    config = {
        "platform": {"base_url": f"http://{platform}"},
        "calendar": {"file": "weddings.yml"},
        # Only the operation under test, so that the run stays light; intervals are the defaults.
        "operations": {name: {"enabled": name == "guest_list"} for name in
                       ("guest_list", "photo_upload", "timeline_sync", "vendor_notification", "mobile", "critical_path")},
        "store": {"url": "sqlite:///receiver.db"},
        "receiver": {"auth": {"bearer_token": TOKEN, "public_read": True}},
        "actions": {
            "definitions": {
                "scale": {"type": "scale", "url": f"http://{target}/scale"},
                "page": {"type": "notify", "url": f"http://{target}/page"},
                "cache_warm": {"type": "cache_warm", "url": f"http://{target}/warm"},
            },
            "strategies": {"emergency": ["scale", "cache_warm", "page", "log"], "urgent": ["scale", "log"],
                           "standard": ["cache_warm", "log"], "log": ["log"]},
        },
    }  # fmt: skip
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(config))
    loaded = load_config(tmp_path / "wedwatch.yml", environ={})
    exporter = await serve(exporter_app(loaded, record=False), runners)
    receiver = await serve(receiver_app(loaded), runners)
    local = LocalStack(
        tmp_path / "prometheus-stack", loaded.config, exporter, receiver, TOKEN,
        prometheus_port=free_port(), alertmanager_port=free_port(), time_compression=1,
    )  # fmt: skip
    local.write_files()
    await local.start()
    try:
        yield {"platform": f"http://{platform}", "exporter": f"http://{exporter}", "receiver": f"http://{receiver}",
               "local": local, "actions": actions}  # fmt: skip
    finally:
        local.stop()
        for runner in reversed(runners):
            await runner.cleanup()


async def _slow_probe_ended(session: aiohttp.ClientSession, exporter: str, wedding: str) -> float | None:
    """When the exporter's last guest_list probe of `wedding` ended, if it took the fault's 2.5 s."""
    async with session.get(f"{exporter}/metrics") as response:
        scrape = parse_scrape(await response.read())
    labels = {"wedding_id": wedding, "operation": "guest_list"}
    if (scrape.value("wedwatch_probe_duration_seconds", **labels) or 0.0) < 2.5:
        return None
    return scrape.value("wedwatch_probe_timestamp_seconds", **labels)


async def test_a_live_fault_acts_within_a_minute_and_one_slow_probe_never_alerts(stack: dict[str, Any]) -> None:
    platform, exporter, local = stack["platform"], stack["exporter"], stack["local"]
    async with aiohttp.ClientSession() as session:
        # Prometheus scrapes a new target only after a few seconds: start from a scraped exporter.
        async def scraped() -> bool:
            async with session.get(f"{local.prometheus_url}/api/v1/query", params={"query": 'up{job="wedwatch-exporter"}'}) as r:
                result = (await r.json())["data"]["result"]
            return bool(result) and result[0]["value"][1] == "1"

        await eventually(scraped, "Prometheus scraping the exporter", timeout=60)
        started = time.monotonic()
        for wedding in ("w-live", "w-once"):
            body = {"operation": "guest_list", "wedding_id": wedding, "latency_seconds": 2.5}
            async with session.post(f"{platform}/admin/faults", json=body) as r:
                assert r.status == 201, await r.text()
                if wedding == "w-once":
                    once_id = (await r.json())["id"]

        # w-once: exactly one slow probe, then the fault goes.
        slow_ended = await eventually(lambda: _slow_probe_ended(session, exporter, "w-once"),
                                      "one slow probe of w-once", timeout=30)  # fmt: skip
        async with session.delete(f"{platform}/admin/faults/{once_id}") as r:
            assert r.status in (200, 204), await r.text()

        # w-live: the first action that is not `log` reaches the target within 60 s of the fault.
        await eventually(lambda: _first_action(stack["actions"]), "the live wedding's first action", timeout=90)
        first_at, path, _ = stack["actions"][0]
        assert path in ("/scale", "/warm", "/page")
        assert first_at - started <= 60, f"first action {first_at - started:.1f}s after the fault"

        # w-once must never have alerted. Wait until nothing more can come of its slow probe:
        # Prometheus has scraped a later (good) probe and the live group has evaluated since, so
        # every later window of the fast path holds a good probe.
        await eventually(lambda: _judged_after(session, local.prometheus_url, "w-once", slow_ended),
                         "an evaluation of the live group after w-once's next probe", timeout=60)  # fmt: skip
        # Pending is allowed (the 10-minute p95 of a fresh exporter holds few probes); firing is not.
        promql = 'max_over_time(ALERTS{wedding_id="w-once",alertstate="firing"}[5m])'
        async with session.get(f"{local.prometheus_url}/api/v1/query", params={"query": promql}) as r:
            assert (await r.json())["data"]["result"] == []
        async with session.get(f"{stack['receiver']}/api/v1/alerts") as r:
            assert r.status == 200, await r.text()
            assert "w-once" not in await r.text()
        promql = 'max_over_time(ALERTS{wedding_id="w-live",alertname="WedwatchLiveWeddingSlow"}[5m])'
        async with session.get(f"{local.prometheus_url}/api/v1/query", params={"query": promql}) as r:
            assert (await r.json())["data"]["result"], "the live wedding's fast-path alert never fired"


async def _first_action(actions: list[tuple[float, str, dict[str, Any]]]) -> bool:
    return bool(actions)


async def _query(session: aiohttp.ClientSession, prometheus: str, promql: str) -> list[dict[str, Any]]:
    async with session.get(f"{prometheus}/api/v1/query", params={"query": promql}) as r:
        result: list[dict[str, Any]] = (await r.json())["data"]["result"]
    return result


async def _judged_after(session: aiohttp.ClientSession, prometheus: str, wedding: str, probe_ended: float) -> bool:
    """Whether the live group has evaluated `wedding` since Prometheus scraped a probe ended after `probe_ended`.

    timestamp() of a plain selector is its sample's own time: the scrape, or the evaluation that
    recorded it. A group's evaluations run one after another, its rules in order, so a recorded
    breach later than the scrape means every evaluation up to then is complete.
    """
    matchers = f'{{wedding_id="{wedding}",operation="guest_list"}}'
    probe, breach = f"wedwatch_probe_timestamp_seconds{matchers}", f"{BREACH}{matchers}"
    scraped = await _query(session, prometheus, f"timestamp({probe}) and {probe} > {probe_ended!r}")
    judged = await _query(session, prometheus, f"timestamp({breach})")
    return bool(scraped and judged) and float(judged[0]["value"][1]) > float(scraped[0]["value"][1])
