"""The exporter running for real: its scheduler, /metrics through promtool, reload, and switches."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient
from scrape import parse_scrape

from wedwatch.config import LoadedConfig
from wedwatch.exporter.app import EXPORTER_KEY, LIFECYCLE_DISABLED, create_app
from wedwatch.exporter.contract import METRICS

MakeConfig = Callable[..., LoadedConfig]
FAST = {"intervals": {"ceremony": 0.2, "wedding_day": 0.2, "eve": 0.2, "after": 0.2, "week": 0.2, "month": 0.2, "planning": 0.2}}


async def wait_for(condition: Callable[[], bool], *, tries: int = 200, pause: float = 0.05) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(pause)
    raise AssertionError("condition never held")


async def test_metrics_pass_promtool_check_metrics(
    make_config: MakeConfig, aiohttp_client: AiohttpClient, promtool: str
) -> None:
    app = create_app(make_config(schedule=FAST), record=False)
    client = await aiohttp_client(app)
    state = app[EXPORTER_KEY].state
    await wait_for(lambda: len(state.last) >= 5 * 6 and "demo-ceremony" in state.critical)
    body = await (await client.get("/metrics")).read()
    done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, check=False)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    families = {f.name for f in text_string_to_metric_families(body.decode())}
    # Every family of the contract is on the page (counters appear without their _total suffix).
    assert {m.name.removesuffix("_total") for m in METRICS} <= families


async def test_gzip_when_the_scraper_accepts_it(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    response = await client.get("/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert (await response.read())[:2] == b"\x1f\x8b"


async def test_hanging_wedding_does_not_delay_the_others(
    make_config: MakeConfig, platform_url: str, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config(schedule=FAST, operations={"guest_list": {"timeout_seconds": 1.5}})
    app = create_app(loaded, record=False)
    await aiohttp_client(app)
    exporter = app[EXPORTER_KEY]
    async with aiohttp.ClientSession() as session:
        await session.post(f"{platform_url}/admin/faults", json={"operation": "guest_list", "wedding_id": "demo-week", "hang": True})
    state = exporter.state
    await wait_for(lambda: ("demo-eve", "guest_list") in state.last)
    first = state.last[("demo-eve", "guest_list")].timestamp
    probes_before = state.probes.get(("guest_list", "standard"), 0)
    await wait_for(lambda: state.failures.get(("guest_list", "standard", "timeout"), 0) >= 1, tries=100)
    hung = state.last[("demo-week", "guest_list")]
    assert (hung.success, hung.reason) == (False, "timeout")
    assert hung.duration_seconds >= 1.5
    # While demo-week's probe hung for its whole deadline, demo-eve kept being probed.
    assert state.last[("demo-eve", "guest_list")].timestamp > first
    assert state.probes[("guest_list", "standard")] - probes_before >= 3
    assert state.skipped >= 1  # demo-week came due again while its probe still hung


async def test_performance_monitoring_off_serves_metrics_without_probing(
    make_config: MakeConfig, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config(schedule=FAST, features={"performance_monitoring": False})
    app = create_app(loaded, record=False)
    client = await aiohttp_client(app)
    exporter = app[EXPORTER_KEY]
    await wait_for(lambda: exporter.ready)
    # Planned, yet nothing in the timetable: no probe can ever come due (no sleep needed to see it).
    assert exporter.schedule.next_due() is None
    assert exporter.state.probes == {}
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert metrics.value("wedwatch_weddings", phase="ceremony") == 1
    response = await client.get("/probe", params={"wedding": "demo-ceremony", "operation": "mobile"})
    assert response.status == 503


async def test_reload_with_invalid_file_keeps_old_config(
    make_config: MakeConfig, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    loaded = make_config()
    app = create_app(loaded, record=False, schedule=False, enable_lifecycle=True)
    client = await aiohttp_client(app)
    exporter = app[EXPORTER_KEY]
    assert loaded.path is not None
    good = loaded.path.read_text()
    loaded.path.write_text(good + "schedule:\n  intervals:\n    ceremony: soon\n")
    response = await client.post("/-/reload")
    assert response.status == 500
    assert exporter.config is loaded.config
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert metrics.value("wedwatch_exporter_config_last_reload_successful") == 0
    # The old configuration still serves probes.
    assert (await client.get("/probe", params={"wedding": "demo-eve", "operation": "mobile"})).status == 200

    document = yaml.safe_load(good)
    document["schedule"] = {"max_tracked_weddings": 2}
    loaded.path.write_text(yaml.safe_dump(document))
    assert (await client.post("/-/reload")).status == 200
    assert exporter.config.schedule.max_tracked_weddings == 2
    assert sum(s.tracked for s in exporter.state.statuses.values()) == 2
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert metrics.value("wedwatch_exporter_config_last_reload_successful") == 1
    assert len(metrics.series("wedwatch_wedding_info")) == 2


async def test_reload_over_http_is_refused_without_enable_lifecycle(
    make_config: MakeConfig, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config()
    app = create_app(loaded, record=False, schedule=False)
    response = await (await aiohttp_client(app)).post("/-/reload")
    assert (response.status, await response.text()) == (403, LIFECYCLE_DISABLED)
    assert "--web.enable-lifecycle" in LIFECYCLE_DISABLED and "SIGHUP" in LIFECYCLE_DISABLED
    # Nothing was re-read: a reload, even of the same file, replaces the configuration object.
    assert app[EXPORTER_KEY].config is loaded.config


async def test_weddings_leaving_tracked_set_lose_their_series(
    make_config: MakeConfig, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config()
    app = create_app(loaded, record=False, schedule=False)
    client = await aiohttp_client(app)
    await client.get("/probe", params={"wedding": "demo-after", "operation": "mobile"})
    assert "demo-after" in parse_scrape(await (await client.get("/metrics")).read()).label_values("wedding_id")
    assert loaded.config.calendar.file is not None
    calendar = Path(loaded.config.calendar.file)
    document = yaml.safe_load(calendar.read_text())
    document["weddings"] = [w for w in document["weddings"] if w["id"] != "demo-after"]
    calendar.write_text(yaml.safe_dump(document))
    await app[EXPORTER_KEY].refresh()
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert "demo-after" not in metrics.label_values("wedding_id")
    # ...but its probe still counts in the per-operation totals.
    assert metrics.value("wedwatch_operation_probes_total", operation="mobile", tier="standard") == 1
