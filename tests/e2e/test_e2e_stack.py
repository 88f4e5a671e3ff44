"""The whole stack for real: Debian's Prometheus and Alertmanager, the project's rules (time-compressed),
the platform stand-in, the exporter and the receiver on loopback, and the on-call page in Chromium.

Case 1: a guest-list slowdown on the wedding in its ceremony window fires WedwatchWeddingSlow with
severity and wedding_id; the receiver raises it to critical (the wedding is live), takes the
emergency strategy, its actions reach a target this test runs, and once the fault is removed the
incident resolves with its effectiveness recorded. Case 2: the same slowdown on a wedding months
away gives a lower severity and no emergency.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from e2e_support import eventually, free_port, recorded_actions, serve
from grafana_queries import all_queries

from wedwatch.calendar import Wedding, parse_calendar
from wedwatch.config import load_config
from wedwatch.demo import ALERTMANAGER_NAMES, PROMETHEUS_NAMES, LocalStack, find_binary
from wedwatch.demo.exporters import ResourceExporters, postgres_exporter_dsn
from wedwatch.exporter.app import create_app as exporter_app
from wedwatch.platform import PlatformSettings
from wedwatch.platform import create_app as platform_app
from wedwatch.receiver.app import RECEIVER_KEY
from wedwatch.receiver.app import create_app as receiver_app
from wedwatch.receiver.service import Receiver

pytestmark = pytest.mark.e2e
TOKEN = "e2e-receiver-token"
SLOW = 3.5  # above the `high` p95 threshold (3 s), below `critical` (5 s)
SCREENSHOT_DIR = Path(__file__).parents[2] / "docs" / "images"


@dataclass
class Stack:
    platform: str
    exporter: str
    receiver_url: str
    receiver: Receiver
    local: LocalStack
    target_requests: list[tuple[str, dict[str, Any]]]

    async def fault(self, session: aiohttp.ClientSession, wedding_id: str, seconds: float) -> None:
        body = {"operation": "guest_list", "wedding_id": wedding_id, "latency_seconds": seconds}
        async with session.post(f"{self.platform}/admin/faults", json=body) as r:
            assert r.status == 201, await r.text()

    async def clear(self, session: aiohttp.ClientSession) -> None:
        async with session.delete(f"{self.platform}/admin/faults") as r:
            assert r.status == 200

    async def query(self, session: aiohttp.ClientSession, promql: str) -> list[dict[str, Any]]:
        async with session.get(f"{self.local.prometheus_url}/api/v1/query", params={"query": promql}) as r:
            body = await r.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])


def calendar(*entries: tuple[str, datetime, str]) -> list[dict[str, Any]]:
    """Calendar entries from (id, ceremony instant, zone)."""
    from zoneinfo import ZoneInfo

    return [
        {"id": wid, "ceremony_at": at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"), "timezone": zone,
         "guests": 150, "vendors": 10}
        for wid, at, zone in entries
    ]  # fmt: skip


@pytest.fixture
def binaries() -> None:
    if find_binary(PROMETHEUS_NAMES) is None or find_binary(ALERTMANAGER_NAMES) is None:
        pytest.fail("Prometheus and Alertmanager are missing: `make test` installs Debian's packages")


@pytest.fixture
async def stack_factory(tmp_path: Path, binaries: None, postgres_url: str) -> AsyncIterator[Callable[[list[dict[str, Any]]], Awaitable[Stack]]]:
    runners: list[web.AppRunner] = []
    stacks: list[LocalStack] = []
    resource_exporters: list[ResourceExporters] = []

    async def make(entries: list[dict[str, Any]]) -> Stack:
        d = tmp_path / f"stack{len(stacks)}"
        d.mkdir()
        (d / "weddings.yml").write_text(yaml.safe_dump({"weddings": entries}))
        weddings: list[Wedding] = parse_calendar(entries, source="e2e").weddings
        requests: list[tuple[str, dict[str, Any]]] = []

        async def record(request: web.Request) -> web.Response:
            requests.append((request.path, await request.json() if request.can_read_body else {}))
            return web.json_response({"ok": True})

        target_app = web.Application()
        target_app.router.add_route("*", "/{tail:.*}", record)
        target = await serve(target_app, runners)
        settings = PlatformSettings(guest_list_per_guest_seconds=0)
        platform = await serve(platform_app(weddings, settings=settings), runners)
        every = dict.fromkeys(["ceremony", "wedding_day", "eve", "after", "week", "month", "planning"], 1)
        config = {
            "platform": {"base_url": f"http://{platform}"},
            "calendar": {"file": "weddings.yml", "refresh_interval_seconds": 5},
            "schedule": {"intervals": every, "jitter_ratio": 0.05},
            "operations": {"photo_upload": {"size_bytes": 4096}},
            "store": {"url": "sqlite:///receiver.db"},
            "receiver": {"auth": {"bearer_token": TOKEN, "public_read": True}, "emergency_hold_seconds": 5},
            "actions": recorded_actions(target),
        }  # fmt: skip
        (d / "wedwatch.yml").write_text(yaml.safe_dump(config))
        loaded = load_config(d / "wedwatch.yml", environ={})
        exporter = await serve(exporter_app(loaded, record=False), runners)
        rapp = receiver_app(loaded)
        receiver = await serve(rapp, runners)
        found = ResourceExporters.installed(d / "exporters", postgres_dsn=postgres_exporter_dsn(postgres_url))
        resource_exporters.append(found)
        await found.start()
        local = LocalStack(
            d / "prometheus-stack", loaded.config, exporter, receiver, TOKEN,
            prometheus_port=free_port(), alertmanager_port=free_port(), time_compression=30,
            scrape_configs=found.scrape_configs(),
        )  # fmt: skip
        local.write_files()
        stacks.append(local)
        await local.start()
        return Stack(f"http://{platform}", f"http://{exporter}", f"http://{receiver}", rapp[RECEIVER_KEY], local, requests)

    yield make
    for local in stacks:
        local.stop()
    for found in resource_exporters:
        found.stop()
    for runner in reversed(runners):
        await runner.cleanup()


async def test_slow_guest_list_on_the_live_wedding_reaches_emergency_and_resolves(
    stack_factory: Callable[[list[dict[str, Any]]], Awaitable[Stack]], tmp_path: Path
) -> None:
    now = started = datetime.now(UTC)
    stack = await stack_factory(calendar(("w-live", now + timedelta(minutes=30), "Europe/London"),
                                         ("w-week", now + timedelta(days=4), "America/New_York")))  # fmt: skip
    async with aiohttp.ClientSession() as session:
        await eventually(lambda: stack.query(session, 'up{job=~"wedwatch-.*"} == 1'), "Prometheus scraping both targets")
        await stack.fault(session, "w-live", SLOW)

        firing = await eventually(
            lambda: stack.query(session, 'ALERTS{alertname="WedwatchWeddingSlow",alertstate="firing",severity="high"}'),
            "WedwatchWeddingSlow to fire in Prometheus",
        )
        assert {a["metric"]["wedding_id"] for a in firing} == {"w-live"}
        assert {a["metric"]["operation"] for a in firing} == {"guest_list"}

        store = stack.receiver.require_store()

        async def emergency_incident() -> dict[str, Any] | None:
            for incident in await store.list_incidents(limit=200):
                # The medium tier crosses first (2 s) and is a separate alert; wait for the high one.
                if (incident["alertname"], incident["wedding_id"], incident["severity"]) == ("WedwatchWeddingSlow", "w-live", "high"):
                    return incident
            return None

        incident = await eventually(emergency_incident, "the receiver to store the wedding's alert")
        assert (incident["severity"], incident["escalated_severity"], incident["strategy"]) == ("high", "critical", "emergency")
        await eventually(lambda: _done(stack), "the emergency actions to reach the target")
        assert await store.active_emergency() is not None

        await _browser_check(stack.receiver_url, tmp_path)

        await stack.clear(session)

        async def resolved() -> dict[str, Any] | None:
            response = await store.get_response(incident["id"])
            return response if response and response["resolved_at"] is not None else None

        response = await eventually(resolved, "the incident to resolve after the fault is removed", timeout=120)
        assert response["outcome"] == "resolved_after_action"
        assert response["resolution_seconds"] is not None and response["resolution_seconds"] >= 0

        await _seed_forecast(stack)
        await _every_panel_has_data(stack, session, started)


async def _seed_forecast(stack: Stack) -> None:
    """A prediction set as the forecaster writes it; the receiver exports it as wedwatch_forecast."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    points = [{"ts": (hour + timedelta(hours=h)).isoformat().replace("+00:00", "Z"),
               "yhat": 12.0 + h, "yhat_lower": 10.0 + h, "yhat_upper": 15.0 + h} for h in range(24)]  # fmt: skip
    await stack.receiver.require_store().save_prediction_set(
        series="probes_per_second", horizon_start=hour, horizon_end=hour + timedelta(hours=24),
        model="prophet", points=points,
    )  # fmt: skip
    await stack.receiver.refresh_forecasts()
    async with aiohttp.ClientSession() as session:
        await eventually(lambda: stack.query(session, 'wedwatch_forecast{series="probes_per_second",bound="yhat"}'),
                         "Prometheus to scrape wedwatch_forecast")  # fmt: skip


# Panels that cannot have data in a two-minute run, and why.
NO_DATA_IN_A_SHORT_RUN = {
    # Forecast against actual compares with the forecast made an hour earlier (`offset 1h`).
    "offset 1h": "needs an hour of history",
    'resource!=""': "no resource alert fires in this test",
}


async def _every_panel_has_data(stack: Stack, session: aiohttp.ClientSession, start: datetime) -> None:
    """Every dashboard's PromQL, run over this test's window against the real Prometheus, returns data."""
    empty = []
    # Past now by two scrape intervals: the range's last step must not fall before the newest samples.
    end = datetime.now(UTC) + timedelta(seconds=4)
    for q in all_queries(stack.receiver.config):
        if q.datasource != "prometheus" or any(k in q.text for k in NO_DATA_IN_A_SHORT_RUN):
            continue
        promql = q.promql({"wedding_id": "w-live", "__rate_interval": "4s", "__range": "2m"})
        params = {"query": promql, "start": start.timestamp(), "end": end.timestamp(), "step": "2"}
        async with session.get(f"{stack.local.prometheus_url}/api/v1/query_range", params=params) as r:
            body = await r.json()
        assert body["status"] == "success", (str(q), body)
        if not body["data"]["result"]:
            empty.append(str(q))
    assert empty == [], "dashboard queries without data:\n" + "\n".join(empty)


async def _done(stack: Stack) -> bool:
    paths = {p for p, _ in stack.target_requests}
    return {"/scale", "/warm", "/page"} <= paths


async def _browser_check(receiver_url: str, tmp_path: Path) -> None:
    """Headless Chromium loads the on-call page: the live wedding and its alert are on it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is missing: `make test` installs Debian's chromium package")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1280,1000"]  # fmt: skip
    dom = await asyncio.to_thread(
        subprocess.run, [*flags, "--dump-dom", f"{receiver_url}/"], capture_output=True, text=True, timeout=60, check=False
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    live = dom.stdout.split("Weddings live now")[1].split("Next 48 hours")[0]
    assert "w-live" in live and "WedwatchWeddingSlow" in live
    assert "EMERGENCY MODE" in dom.stdout
    shot = tmp_path / "oncall.png"
    done = await asyncio.to_thread(
        subprocess.run, [*flags, f"--screenshot={shot}", f"{receiver_url}/"], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0 and shot.stat().st_size > 10_000
    if SCREENSHOT_DIR.exists() and __import__("os").environ.get("WEDWATCH_UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, SCREENSHOT_DIR / "oncall-page.png")


async def test_same_slowdown_months_away_is_lower_severity_and_no_emergency(
    stack_factory: Callable[[list[dict[str, Any]]], Awaitable[Stack]],
) -> None:
    now = datetime.now(UTC)
    stack = await stack_factory(calendar(("w-far", now + timedelta(days=75), "Europe/Paris")))
    async with aiohttp.ClientSession() as session:
        await eventually(lambda: stack.query(session, 'up{job=~"wedwatch-.*"} == 1'), "Prometheus scraping both targets")
        await stack.fault(session, "w-far", SLOW)
        store = stack.receiver.require_store()

        async def incident() -> dict[str, Any] | None:
            for row in await store.list_incidents(limit=200):
                if row["alertname"] == "WedwatchOperationSlow" and row["severity"] == "high":
                    return row
            return None

        row = await eventually(incident, "WedwatchOperationSlow (high) to reach the receiver")
        # Months away the wedding has no series of its own; the operation's standard tier alerts.
        assert row["labels"]["tier"] == "standard" and row["wedding_id"] is None
        assert (row["escalated_severity"], row["strategy"]) == ("high", "urgent")
        await eventually(lambda: _scaled(stack), "the urgent strategy's scale action")
        assert await store.active_emergency() is None
        assert not await store.list_emergency_events()
        assert not any(p == "/page" for p, _ in stack.target_requests)


async def _scaled(stack: Stack) -> bool:
    return any(p == "/scale" for p, _ in stack.target_requests)
