"""The probe connector times each probe's own connection, also with many probes in flight at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from wedwatch.calendar import Wedding
from wedwatch.config.model import GuestListConfig, PollingConfig
from wedwatch.exporter.probes import ProbeContext, ProbeResult, probe_connector, run_probe


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=probe_connector(limit=200)) as s:
        yield s


def _context(session: aiohttp.ClientSession, wedding: Wedding, base_url: str, operation: str = "guest_list") -> ProbeContext:
    config = GuestListConfig() if operation == "guest_list" else PollingConfig()
    return ProbeContext(session=session, wedding=wedding, operation=operation, config=config, base_url=base_url)


def _check_steps(result: ProbeResult) -> None:
    assert result.success, result.message
    steps = result.steps
    assert steps["connect"] > 0
    assert steps["ttfb"] > 0
    assert steps["connect"] + steps["ttfb"] + steps["transfer"] <= result.duration_seconds


async def test_connect_is_timed(session: aiohttp.ClientSession, weddings: list[Wedding], platform_url: str) -> None:
    _check_steps(await run_probe(_context(session, weddings[0], platform_url)))


async def test_concurrent_probes_each_get_their_own_timing(
    session: aiohttp.ClientSession, weddings: list[Wedding], platform_url: str
) -> None:
    results = await asyncio.gather(*(run_probe(_context(session, w, platform_url)) for w in weddings * 5))
    for result in results:
        _check_steps(result)


async def test_every_request_of_a_probe_opens_a_new_connection(
    session: aiohttp.ClientSession, weddings: list[Wedding], platform_url: str
) -> None:
    # timeline_sync writes, then polls: several requests, each on a fresh connection.
    result = await run_probe(_context(session, weddings[0], platform_url, "timeline_sync"))
    assert result.success, result.message
    assert result.steps["connect"] > 0
    assert session.connector is not None and session.connector.force_close


async def test_requests_outside_a_probe_are_untouched(session: aiohttp.ClientSession, platform_url: str) -> None:
    async with session.get(f"{platform_url}/-/healthy") as response:
        assert response.status == 200
