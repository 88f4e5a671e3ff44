"""examples/platforms/supabase.yml against `wedwatch platform --dialect supabase`: real processes, faults included.

The exporter reads its calendar from the platform's PostgREST `weddings` table and probes all six
operations written as steps; faults injected through the platform's admin API must come back as
the right failure reason.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from exporter_support import ExporterProcess, exporter_process
from reliability_support import free_port, stop_process

from wedwatch.calendar.demo import demo_weddings
from wedwatch.config.model import OPERATIONS

EXAMPLE = Path(__file__).parents[2] / "examples" / "platforms" / "supabase.yml"
KEY = "e2e-supabase-key-71c3"
pytestmark = pytest.mark.e2e


@pytest.fixture
async def supabase(tmp_path: Path) -> AsyncIterator[str]:
    """`wedwatch platform --dialect supabase` on a free port, serving the demo weddings."""
    weddings = demo_weddings(datetime.now(UTC))
    calendar = tmp_path / "weddings.yml"
    calendar.write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}))
    port = free_port()
    log = (tmp_path / "platform.log").open("wb")
    env = {**__import__("os").environ, "WEDWATCH_PLATFORM_API_KEY": KEY}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", "platform", "--dialect", "supabase", "--calendar.file", str(calendar),
         "--web.listen-address", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            for _ in range(300):
                with suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{url}/-/healthy") as response:
                        if response.status == 200:
                            break
                assert proc.poll() is None, (tmp_path / "platform.log").read_text()
                await asyncio.sleep(0.1)
        yield url
    finally:
        await asyncio.to_thread(stop_process, proc)
        log.close()


def _config(url: str, **operations: Any) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text().replace("${SUPABASE_KEY}", KEY))
    config["platform"]["base_url"] = url
    config["schedule"] = {"intervals": dict.fromkeys(("ceremony", "wedding_day", "eve", "week", "month", "after", "planning"), 3600)}
    for name, extra in operations.items():
        config["operations"][name].update(extra)
    return config


async def _probe(exporter: ExporterProcess, session: aiohttp.ClientSession, operation: str, wedding: str = "demo-ceremony") -> str:
    params = {"wedding": wedding, "operation": operation, "debug": "true"}
    async with session.get(f"{exporter.base}/probe", params=params) as response:
        assert response.status == 200, await response.text()
        return await response.text()


async def _fault(session: aiohttp.ClientSession, url: str, **body: Any) -> None:
    async with session.post(f"{url}/admin/faults", json=body) as response:
        assert response.status in (200, 201), await response.text()


async def test_every_operation_of_the_example_succeeds(supabase: str, tmp_path: Path) -> None:
    async with exporter_process(tmp_path / "exporter", _config(supabase)) as exporter, aiohttp.ClientSession() as session:
        for operation in OPERATIONS:
            text = await _probe(exporter, session, operation)
            assert "Probe succeeded" in text, text
            assert KEY not in text  # the key is redacted from the debug output
        scrape = await exporter.scrape(session)
        # The websocket's propagation: from the insert's answer to the change on the socket, at least
        # the platform's 20 ms propagation delay (a poll interval would show as 0 or as its own length).
        propagation = scrape.value("wedwatch_probe_step_duration_seconds", wedding_id="demo-ceremony", operation="timeline_sync", step="propagation")
        assert propagation is not None and 0.015 <= propagation < 2.0, propagation
        assert scrape.value("wedwatch_guests_checked_in_ratio", wedding_id="demo-ceremony") is not None
        async with session.get(f"{supabase}/admin/storage") as response:
            assert (await response.json())["objects"] == 0  # every upload was cleaned up


async def test_faults_come_back_as_their_reasons(supabase: str, tmp_path: Path) -> None:
    config = _config(supabase, guest_list={"timeout_seconds": 1.0})
    async with exporter_process(tmp_path / "exporter", config) as exporter, aiohttp.ClientSession() as session:
        await _fault(session, supabase, operation="mobile", wedding_id="demo-ceremony", error_rate=1, status=503)
        text = await _probe(exporter, session, "mobile")
        assert "failed (http_status)" in text and "HTTP 503" in text, text
        await _fault(session, supabase, operation="guest_list", wedding_id="demo-eve", latency_seconds=0.4)
        text = await _probe(exporter, session, "guest_list", wedding="demo-eve")
        assert "Probe succeeded" in text, text
        await _fault(session, supabase, operation="guest_list", wedding_id="demo-week", latency_seconds=5)
        text = await _probe(exporter, session, "guest_list", wedding="demo-week")
        assert "failed (timeout): no answer within 1s" in text, text
        scrape = await exporter.scrape(session)
        slow = scrape.value("wedwatch_probe_duration_seconds", wedding_id="demo-eve", operation="guest_list")
        assert slow is not None and slow >= 0.4


async def test_a_short_guest_list_is_an_assertion_failure(supabase: str, tmp_path: Path) -> None:
    # The exporter's calendar says more guests than the platform lists for demo-ceremony.
    weddings = [w.to_dict() for w in demo_weddings(datetime.now(UTC))]
    weddings[0]["guests"] += 5
    (tmp_path / "calendar.json").write_text(json.dumps({"weddings": weddings}))
    config = _config(supabase)
    config["calendar"] = {"file": str(tmp_path / "calendar.json")}
    async with exporter_process(tmp_path / "exporter", config) as exporter, aiohttp.ClientSession() as session:
        text = await _probe(exporter, session, "guest_list", wedding=weddings[0]["id"])
        assert "failed (assertion)" in text and f"the calendar expects {weddings[0]['guests']}" in text, text
