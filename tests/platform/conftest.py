"""Fixtures for the platform stand-in: the test calendar, a fake clock and a client factory."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from platform_fakes import FAST, AddFault, Client, FakeClock, MakeClient, ServedLikeTheCli, calendar_weddings
from pytest_aiohttp import AiohttpClient

from wedwatch.calendar import Wedding
from wedwatch.platform import Clock, PlatformSettings, create_app


@pytest.fixture
def weddings() -> list[Wedding]:
    return calendar_weddings()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2030, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient, weddings: list[Wedding], clock: FakeClock) -> MakeClient:
    """Start a platform (default: test calendar, FAST settings, fake clock) and return a client for it."""
    default_clock = clock

    def make(
        these: Sequence[Wedding] | None = None,
        *,
        settings: PlatformSettings = FAST,
        clock: Clock | None = None,
        **client_kwargs: Any,
    ) -> Awaitable[Client]:
        app = create_app(weddings if these is None else these, settings=settings, clock=clock or default_clock)
        return aiohttp_client(ServedLikeTheCli(app), **client_kwargs)

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    return await make_client()


@pytest.fixture
def add_fault(client: Client) -> AddFault:
    """Inject a fault through the admin API and return it."""

    async def add(**spec: Any) -> dict[str, Any]:
        response = await client.post("/admin/faults", json=spec)
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    return add
