"""Fixtures for exporter tests: a real platform stand-in on loopback and configs pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer

from wedwatch.calendar import Wedding
from wedwatch.calendar.demo import demo_weddings
from wedwatch.config import LoadedConfig, load_config
from wedwatch.platform import PlatformSettings, create_app

NOW = datetime.now(UTC)


@pytest.fixture
def weddings() -> list[Wedding]:
    """A wedding in every phase right now (demo-ceremony is in its ceremony window)."""
    return demo_weddings(NOW)


@pytest.fixture
async def platform_url(weddings: list[Wedding]) -> AsyncIterator[str]:
    """Base URL of a real `wedwatch platform` app on a loopback port."""
    settings = PlatformSettings(
        guest_list_base_seconds=0.001,
        guest_list_per_guest_seconds=0.0,
        timeline_propagation_seconds=0.01,
        notification_sent_seconds=0.005,
        notification_delivery_seconds=0.01,
    )
    server = TestServer(create_app(weddings, settings=settings), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


MakeConfig = Callable[..., LoadedConfig]


@pytest.fixture
def make_config(tmp_path: Path, weddings: list[Wedding], platform_url: str) -> MakeConfig:
    """Write weddings.yml and wedwatch.yml (with `overrides` merged in) and load them."""

    def make(**overrides: object) -> LoadedConfig:
        (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}))
        document: dict[str, object] = {
            "platform": {"base_url": platform_url},
            "calendar": {"file": "weddings.yml", "refresh_interval_seconds": 3600},
            "store": {"url": "sqlite:///wedwatch.db"},
            "operations": {"photo_upload": {"size_bytes": 4096}},
        }
        for key, value in overrides.items():
            section = document.setdefault(key, {})
            assert isinstance(section, dict) and isinstance(value, dict)
            section.update(value)
        path = tmp_path / "wedwatch.yml"
        path.write_text(yaml.safe_dump(document))
        return load_config(path, environ={})

    return make
