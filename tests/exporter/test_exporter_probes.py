"""Every operation against a real platform stand-in, and faults that move exactly the right series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import yaml
from pytest_aiohttp import AiohttpClient
from scrape import parse_scrape

from wedwatch.config import LoadedConfig
from wedwatch.config.model import OPERATIONS
from wedwatch.config.operations import preset
from wedwatch.exporter.app import EXPORTER_KEY, create_app

MakeConfig = Callable[..., LoadedConfig]


async def fault(base: str, **body: object) -> None:
    async with aiohttp.ClientSession() as session, session.post(f"{base}/admin/faults", json=body) as r:
        assert r.status in (200, 201), await r.text()


def test_registry_covers_every_contract_operation() -> None:
    assert all(preset(name)["steps"] for name in OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_every_operation_succeeds(operation: str, make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    response = await client.get("/probe", params={"wedding": "demo-ceremony", "operation": operation, "debug": "true"})
    text = await response.text()
    assert response.status == 200
    assert "Probe succeeded" in text, text
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert metrics.value("wedwatch_probe_success", wedding_id="demo-ceremony", operation=operation) == 1.0
    assert metrics.value("wedwatch_operation_probes_total", operation=operation, tier="wedding_day") == 1.0
    steps = {
        "timeline_sync": "propagation",
        "vendor_notification": "delivery",
    }.get(operation, "ttfb")
    assert metrics.value("wedwatch_probe_step_duration_seconds", wedding_id="demo-ceremony", operation=operation, step=steps) is not None


async def test_critical_path_readings_become_gauges(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    await client.get("/probe", params={"wedding": "demo-ceremony", "operation": "critical_path"})
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    ratio = metrics.value("wedwatch_guests_checked_in_ratio", wedding_id="demo-ceremony")
    assert ratio is not None and 0.0 <= ratio <= 1.0
    assert metrics.value("wedwatch_timeline_delay_seconds", wedding_id="demo-ceremony") is not None
    vendors = metrics.value("wedwatch_vendors_confirmed_ratio", wedding_id="demo-ceremony")
    assert vendors is not None and 0.0 <= vendors <= 1.0


async def test_latency_on_one_wedding_moves_only_its_series(
    make_config: MakeConfig, platform_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    await fault(platform_url, operation="guest_list", wedding_id="demo-ceremony", latency_seconds=2)
    for wedding in ("demo-ceremony", "demo-wedding-day", "demo-week"):
        await client.get("/probe", params={"wedding": wedding, "operation": "guest_list"})
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    slow = metrics.value("wedwatch_probe_duration_seconds", wedding_id="demo-ceremony", operation="guest_list")
    others = [
        metrics.value("wedwatch_probe_duration_seconds", wedding_id=w, operation="guest_list")
        for w in ("demo-wedding-day", "demo-week")
    ]
    assert slow is not None and slow >= 2.0
    assert all(o is not None and o < slow / 4 for o in others), (slow, others)
    # Both wedding-day probes land in the wedding_day histogram: one above 2 s, one far below.
    assert metrics.value("wedwatch_operation_duration_seconds_bucket", operation="guest_list", tier="wedding_day", le="1.0") == 1.0
    assert metrics.value("wedwatch_operation_duration_seconds_count", operation="guest_list", tier="wedding_day") == 2.0
    assert metrics.value("wedwatch_operation_duration_seconds_bucket", operation="guest_list", tier="standard", le="1.0") == 1.0


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"error_rate": 1, "status": 503}, "http_status")],
)
async def test_error_rate_moves_failure_counter_with_reason(
    body: dict[str, object], reason: str, make_config: MakeConfig, platform_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    await fault(platform_url, operation="mobile", **body)
    for _ in range(3):
        await client.get("/probe", params={"wedding": "demo-eve", "operation": "mobile"})
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert metrics.value("wedwatch_operation_failures_total", operation="mobile", tier="standard", reason=reason) == 3.0
    assert metrics.value("wedwatch_operation_failures_total", operation="mobile", tier="standard", reason="timeout") == 0.0
    assert metrics.value("wedwatch_probe_success", wedding_id="demo-eve", operation="mobile") == 0.0


async def test_guest_count_mismatch_is_an_assertion_failure(
    make_config: MakeConfig, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config()
    # The calendar the exporter reads says 999 guests; the platform serves the real count.
    path = Path(loaded.config.calendar.file or "")
    doc = yaml.safe_load(path.read_text())
    doc["weddings"][0]["guests"] = 999
    path.write_text(yaml.safe_dump(doc))
    client = await aiohttp_client(create_app(loaded, record=False, schedule=False))
    wid = doc["weddings"][0]["id"]
    text = await (await client.get("/probe", params={"wedding": wid, "operation": "guest_list", "debug": "1"})).text()
    assert "failed (assertion)" in text and "the calendar expects 999" in text


async def test_hanging_endpoint_times_out(
    make_config: MakeConfig, platform_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(make_config(operations={"mobile": {"timeout_seconds": 0.5}}), record=False, schedule=False))
    await fault(platform_url, operation="mobile", wedding_id="demo-week", hang=True)
    text = await (await client.get("/probe", params={"wedding": "demo-week", "operation": "mobile", "debug": "1"})).text()
    assert "failed (timeout): no answer within 0.5s" in text
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    assert metrics.value("wedwatch_operation_failures_total", operation="mobile", tier="standard", reason="timeout") == 1.0


async def test_unreachable_platform_is_a_connect_failure(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(create_app(make_config(platform={"base_url": "http://127.0.0.1:1"}), record=False, schedule=False))
    text = await (await client.get("/probe", params={"wedding": "demo-week", "operation": "mobile", "debug": "1"})).text()
    assert "failed (connect)" in text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"wedding": "demo-week"}, 400),
        ({"wedding": "not-a-wedding", "operation": "mobile"}, 404),
        ({"wedding": "demo-week", "operation": "http://evil.example/"}, 404),
        ({"target": "http://127.0.0.1:22", "module": "http_2xx"}, 400),
    ],
)
async def test_probe_is_not_an_open_relay(
    params: dict[str, str], status: int, make_config: MakeConfig, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    assert (await client.get("/probe", params=params)).status == status


async def test_exporter_state_reachable_from_app(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    app = create_app(make_config(), record=False, schedule=False)
    client = await aiohttp_client(app)
    assert set(app[EXPORTER_KEY].weddings) >= {"demo-ceremony", "demo-archived"}
    assert (await client.get("/-/ready")).status == 200
    assert (await client.get("/-/healthy")).status == 200
    assert "wedwatch exporter" in await (await client.get("/")).text()
