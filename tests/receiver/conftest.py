"""Receiver fixtures: a config on each store back end, an action target, a client factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient
from receiver_support import NOW, TOKEN, Clock, MakeConfig, MakeReceiver, Target

from wedwatch.config import LoadedConfig, load_config
from wedwatch.receiver.app import create_app
from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.receiver.service import Receiver

CALENDAR = [
    # Live at NOW: its ceremony window runs 19:00-03:00 UTC.
    {"id": "w-123", "ceremony_at": "2026-11-28T21:00", "timezone": "Europe/London", "guests": 180, "vendors": 12},
    # Months away.
    {"id": "w-june", "ceremony_at": "2027-06-12T14:00", "timezone": "Europe/London", "guests": 90, "vendors": 8},
]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    t = Target()
    server = TestServer(t.app(), host="127.0.0.1")
    await server.start_server()
    t.url = str(server.make_url("")).rstrip("/")
    yield t
    await server.close()


@pytest.fixture
def make_config(store_url: str, tmp_path: Path, target: Target) -> MakeConfig:
    """Config with Bearer auth, actions aimed at `target`, the store under test; sections merge in."""

    def make(**sections: dict[str, Any]) -> LoadedConfig:
        (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": CALENDAR}))
        actions: dict[str, Any] = {
            "hourly_budget": 100,
            "cooldown_seconds": 0,
            "definitions": {
                "log": {"type": "log"},
                "page": {"type": "notify", "url": f"{target.url}/page"},
                "ops": {"type": "http", "url": f"{target.url}/ops",
                        "body": {"wedding": "{wedding_id}", "alert": "{alertname}", "note": "{label_note}"}},
                "scale": {"type": "scale", "url": f"{target.url}/scale"},
                "cache_warm": {"type": "cache_warm", "url": f"{target.url}/warm"},
            },
            "strategies": {
                "emergency": ["scale", "cache_warm", "page", "log"],
                "urgent": ["scale", "log"],
                "standard": ["ops", "log"],
                "log": ["log"],
            },
        }  # fmt: skip
        document: dict[str, Any] = {
            "platform": {"base_url": target.url},
            "calendar": {"file": "weddings.yml"},
            "store": {"url": store_url, "timeout_seconds": 2},
            "receiver": {"auth": {"bearer_token": "${WEDWATCH_TEST_RECEIVER_TOKEN}"}, "emergency_hold_seconds": 600},
            "actions": actions,
        }
        for key, value in sections.items():
            section = document.setdefault(key, {})
            section.update(value)
        path = tmp_path / "wedwatch.yml"
        path.write_text(yaml.safe_dump(document))
        return load_config(path, environ={"WEDWATCH_TEST_RECEIVER_TOKEN": TOKEN})

    return make


@pytest.fixture
def make_receiver(aiohttp_client: AiohttpClient, clock: Clock) -> MakeReceiver:
    """Start a receiver app (worker not looping: tests call `receiver.worker.tick()`)."""

    async def make(loaded: LoadedConfig, **kwargs: Any) -> tuple[TestClient, Receiver]:  # type: ignore[type-arg]
        app = create_app(loaded, now=clock, run_worker=False, **kwargs)
        client = await aiohttp_client(app)
        return client, app[RECEIVER_KEY]

    return make


__all__ = ["CALENDAR", "MakeConfig", "MakeReceiver", "NOW"]
