"""Exporter shards: each keeps its own weddings, together exactly the calendar (a bad --shard: tests/commands)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_aiohttp import AiohttpClient

from wedwatch.calendar.shard import Shard
from wedwatch.config import LoadedConfig
from wedwatch.exporter.app import EXPORTER_KEY, create_app

MakeConfig = Callable[..., LoadedConfig]


@pytest.mark.parametrize("n", [2, 3])
async def test_shards_split_the_calendar(n: int, make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    loaded = make_config()
    owned = []
    for i in range(n):
        app = create_app(loaded, record=False, schedule=False, shard=Shard(i, n))
        client = await aiohttp_client(app)
        owned.append(set(app[EXPORTER_KEY].weddings))
        # A shard answers /probe only for its own weddings: no other shard's, no arbitrary target.
        for other in {"demo-ceremony", "demo-week"} - owned[-1]:
            assert (await client.get("/probe", params={"wedding": other, "operation": "mobile"})).status == 404
    unsharded = create_app(loaded, record=False, schedule=False)
    await aiohttp_client(unsharded)
    everyone = set(unsharded[EXPORTER_KEY].weddings)
    assert set().union(*owned) == everyone
    assert sum(len(o) for o in owned) == len(everyone)
