"""The mobile probe's `offline` step (a non-critical step) and wedwatch_probe_step_success, against the stand-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpClient
from scrape import Scrape, parse_scrape

from wedwatch.calendar import Wedding
from wedwatch.config import LoadedConfig, parse_config
from wedwatch.config.steps import Assertion
from wedwatch.errors import ConfigError
from wedwatch.exporter.app import create_app
from wedwatch.exporter.contract import METRICS
from wedwatch.exporter.probes import ProbeResult, probe_context, probe_session, run_probe
from wedwatch.exporter.probes.checks import compile_check
from wedwatch.platform import PlatformSettings
from wedwatch.platform import create_app as platform_app

MakeConfig = Callable[..., LoadedConfig]
WEDDING = "demo-ceremony"


async def fault(base: str, **body: object) -> None:
    async with aiohttp.ClientSession() as session, session.post(f"{base}/admin/faults", json=body) as r:
        assert r.status == 201, await r.text()


async def probe_and_scrape(client: Any, wedding: str = WEDDING) -> tuple[str, Scrape]:
    response = await client.get("/probe", params={"wedding": wedding, "operation": "mobile", "debug": "true"})
    assert response.status == 200
    return await response.text(), parse_scrape(await (await client.get("/metrics")).read())


def step_success(metrics: Scrape, step: str, wedding: str = WEDDING) -> float | None:
    return metrics.value("wedwatch_probe_step_success", wedding_id=wedding, operation="mobile", step=step)


def test_the_contract_has_the_step_success_gauge() -> None:
    spec = next(m for m in METRICS if m.name == "wedwatch_probe_step_success")
    assert (spec.type, spec.labels) == ("gauge", ("wedding_id", "operation", "step"))


async def test_a_healthy_platform_passes_both_steps(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    text, metrics = await probe_and_scrape(client)
    assert "Probe succeeded" in text, text
    assert metrics.value("wedwatch_probe_success", wedding_id=WEDDING, operation="mobile") == 1.0
    assert step_success(metrics, "load") == 1.0
    assert step_success(metrics, "offline") == 1.0
    # The HTTP steps still describe the load; both named steps are timed.
    for step in ("connect", "ttfb", "transfer", "load", "offline"):
        assert (
            metrics.value("wedwatch_probe_step_duration_seconds", wedding_id=WEDDING, operation="mobile", step=step)
            is not None
        )
    # Every probe of a tracked wedding: the single-request operations have no named steps to report.
    await client.get("/probe", params={"wedding": WEDDING, "operation": "timeline_sync"})
    await client.get("/probe", params={"wedding": WEDDING, "operation": "guest_list"})
    metrics = parse_scrape(await (await client.get("/metrics")).read())
    steps = {(s["operation"], s["step"]) for s in metrics.series("wedwatch_probe_step_success")}
    assert steps == {
        ("mobile", "load"),
        ("mobile", "offline"),
        ("timeline_sync", "write"),
        ("timeline_sync", "propagation"),
    }


@pytest.mark.parametrize("mode", ["missing", "stale"])
async def test_a_lost_offline_bundle_fails_the_step_not_the_probe(
    mode: str, make_config: MakeConfig, platform_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    await fault(platform_url, operation="mobile", wedding_id=WEDDING, offline=mode)
    text, metrics = await probe_and_scrape(client)
    assert "Probe succeeded" in text and "not critical, failed: offline" in text, text
    assert metrics.value("wedwatch_probe_success", wedding_id=WEDDING, operation="mobile") == 1.0
    # Exactly what WedwatchOfflineCapabilityLost selects.
    assert step_success(metrics, "offline") == 0.0
    assert step_success(metrics, "load") == 1.0
    assert (
        metrics.value("wedwatch_operation_failures_total", operation="mobile", tier="wedding_day", reason="http_status")
        == 0
    )
    why = "HTTP 404" if mode == "missing" else "s old, expected at most 86400s"
    assert why in text, text
    # Another wedding's bundle is untouched.
    _, metrics = await probe_and_scrape(client, "demo-eve")
    assert step_success(metrics, "offline", "demo-eve") == 1.0


async def test_a_failing_load_fails_the_probe_and_the_offline_step_does_not_run(
    make_config: MakeConfig, platform_url: str, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(make_config(), record=False, schedule=False))
    await fault(platform_url, operation="mobile", wedding_id=WEDDING, error_rate=1, status=503)
    _, metrics = await probe_and_scrape(client)
    assert metrics.value("wedwatch_probe_success", wedding_id=WEDDING, operation="mobile") == 0.0
    assert step_success(metrics, "load") == 0.0
    assert step_success(metrics, "offline") is None  # a mobile outage is not also an offline alert


@pytest.fixture
async def half_hour_behind(weddings: list[Wedding]) -> AsyncIterator[str]:
    """A stand-in whose clock runs 30 minutes behind: its hourly bundle is 30 to 90 minutes old."""
    settings = PlatformSettings(guest_list_base_seconds=0, guest_list_per_guest_seconds=0)
    app = platform_app(weddings, settings=settings, clock=lambda: datetime.now(UTC) - timedelta(minutes=30))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.mark.parametrize(("max_age", "passes"), [(86400, True), (7200, True), (1200, False)])
async def test_offline_max_age_is_an_option(
    max_age: int, passes: bool, make_config: MakeConfig, half_hour_behind: str, aiohttp_client: AiohttpClient
) -> None:
    loaded = make_config(
        platform={"base_url": half_hour_behind}, operations={"mobile": {"offline_max_age_seconds": max_age}}
    )
    client = await aiohttp_client(create_app(loaded, record=False, schedule=False))
    _, metrics = await probe_and_scrape(client)
    assert step_success(metrics, "offline") == (1.0 if passes else 0.0)
    assert metrics.value("wedwatch_probe_success", wedding_id=WEDDING, operation="mobile") == 1.0


@pytest.fixture
async def hanging_manifest() -> AsyncIterator[str]:
    """A manifest URL that never answers (a CDN in trouble)."""

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response()

    app = web.Application()
    app.router.add_get("/manifest", hang)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/manifest"))
    finally:
        await server.close()


async def test_a_hanging_offline_step_fails_alone_at_the_deadline(
    make_config: MakeConfig, hanging_manifest: str, weddings: list[Wedding]
) -> None:
    loaded = make_config(operations={"mobile": {"timeout_seconds": 0.5, "offline_url": hanging_manifest}})
    wedding = next(w for w in weddings if w.id == WEDDING)
    async with probe_session(limit=4, connect_timeout=5) as session:
        ctx = probe_context(session, loaded.config, wedding, "mobile", debug=True)
        result: ProbeResult = await run_probe(ctx)
    assert result.success, result.message
    assert result.step_success == {"load": True, "offline": False}
    assert any("offline" in line and "timeout" in line for line in ctx.log_lines), ctx.log_lines
    # The step ran to the deadline (its log line says timeout), but the probe's duration ends with the load.
    assert result.duration_seconds < result.steps["offline"]


async def test_a_deadline_passed_in_a_non_critical_step_still_times_out_a_later_critical_one(
    make_config: MakeConfig, hanging_manifest: str, platform_url: str, weddings: list[Wedding]
) -> None:
    steps = [
        {"name": "manifest", "critical": False, "request": {"url": hanging_manifest}},
        {"name": "load", "request": {"url": "{base_url}/api/mobile/weddings/{wedding_id}"}},
    ]
    loaded = make_config(operations={"mobile": {"timeout_seconds": 0.3, "steps": steps}})
    wedding = next(w for w in weddings if w.id == WEDDING)
    async with probe_session(limit=4, connect_timeout=5) as session:
        result = await run_probe(probe_context(session, loaded.config, wedding, "mobile"))
    assert (result.success, result.reason) == (False, "timeout")
    assert result.step_success == {"manifest": False, "load": False}


def _mobile(**options: Any) -> list[dict[str, Any]]:
    config = parse_config(yaml.safe_dump({"operations": {"mobile": options}}), source="w.yml")
    return [s.model_dump(exclude_unset=True, by_alias=True) for s in config.config.operations.mobile.run_steps]


def test_preset_options_shape_the_offline_step() -> None:
    default = _mobile()
    assert [s["name"] for s in default] == ["load", "offline"]
    assert default[1]["critical"] is False
    assert {"path": "$.generated_at", "max_age_seconds": 86400.0} in default[1]["expect"]["assert"]
    assert [s["name"] for s in _mobile(offline=False)] == ["load"]
    # Re-targeted at another platform, the probe does not guess where its manifest is.
    assert [s["name"] for s in _mobile(url="https://app.example/m/{wedding_id}")] == ["load"]
    moved = _mobile(url="https://app.example/m/{wedding_id}", offline_url="https://cdn.example/{wedding_id}.json",
                    offline_max_age_seconds=3600, user_agent="Android")  # fmt: skip
    assert moved[1]["request"]["url"] == "https://cdn.example/{wedding_id}.json"
    assert {"path": "$.generated_at", "max_age_seconds": 3600.0} in moved[1]["expect"]["assert"]
    assert {s["request"]["headers"]["User-Agent"] for s in moved} == {"Android"}


@pytest.mark.parametrize(
    ("steps", "field", "reason"),
    [
        (
            [{"name": "a", "critical": False, "request": {"url": "http://x/"}}],
            "operations.rsvp.steps",
            "at least one step must be critical (otherwise the probe could never fail)",
        ),
        (
            [{"name": "a", "request": {"url": "ws://x/"}}, {"name": "b", "critical": False, "wait": {"socket": "rt"}}],
            "operations.rsvp.steps[1] (b).critical",
            "only a request step may be non-critical (a socket's steps depend on each other)",
        ),
        (
            [
                {"name": "a", "critical": False, "request": {"url": "http://x/"}, "capture": {"id": "$.id"}},
                {"name": "b", "request": {"url": "http://x/{id}"}},
            ],
            "operations.rsvp.steps[1] (b).request.url",
            "unknown variable {id} (known here: base_url, ceremony_at, guests, operation, run_id, vendors, wedding_id)",
        ),
    ],
)
def test_non_critical_steps_are_checked(steps: list[dict[str, Any]], field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml.safe_dump({"operations": {"rsvp": {"steps": steps}}}), source="w.yml")
    assert (info.value.field, info.value.reason) == (field, reason)


def _age_check(max_age: object) -> Any:
    return compile_check(Assertion.model_validate({"path": "$.at", "max_age_seconds": max_age}))


@pytest.mark.parametrize(
    ("at", "holds"),
    [
        ((datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z"), True),
        ((datetime.now(UTC) - timedelta(days=2)).isoformat(), False),
        ((datetime.now(UTC) + timedelta(minutes=5)).isoformat(), True),
        (time.time() - 60, True),
        (time.time() - 90_000, False),
        ("2030-05-01T12:00:00", False),  # no offset: not RFC 3339
        ("yesterday", False),
        (True, False),
    ],
)
def test_max_age_seconds_assertion(at: object, holds: bool) -> None:
    failure = _age_check(86400).failure({"at": at}, {})
    assert (failure is None) is holds, failure


def test_max_age_seconds_says_why() -> None:
    assert _age_check(60).failure({}, {}) == "$.at selects nothing, expected a time at most 60s old"
    stale = _age_check("{limit}").failure({"at": "2020-01-01T00:00:00Z"}, {"limit": 3600})
    assert (
        stale is not None
        and stale.startswith('$.at is "2020-01-01T00:00:00Z", ')
        and stale.endswith("expected at most 3600s")
    )
