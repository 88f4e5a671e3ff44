"""The receiver on system and resource alerts (issue 17): config of the resource responses, sizing
only the named capacity, and a database alert through the real receiver on both store back ends."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from receiver_support import AUTH, MakeConfig, MakeReceiver, Target, alert, fixture, notification

from wedwatch.config import load_config
from wedwatch.config.actions import CapacityConfig
from wedwatch.errors import ConfigError
from wedwatch.receiver.sizing import size_capacity


def _load(tmp_path: Path, actions: dict[str, Any]) -> None:
    path = tmp_path / "wedwatch.yml"
    path.write_text(yaml.safe_dump({"actions": actions}))
    load_config(path, environ={})


@pytest.mark.parametrize(
    ("actions", "field", "reason"),
    [
        ({"resources": {"database": {"actions": ["page_dba"]}}}, "actions.resources.database.actions",
         "unknown action 'page_dba'; define it under actions.definitions (or say 'notify' for every notify action)"),
        ({"resources": {"cache": {"actions": ["scale"], "down": ["restart_redis"]}}}, "actions.resources.cache.down",
         "unknown action 'restart_redis'; define it under actions.definitions (or say 'notify' for every notify action)"),
        ({"resources": {"gpu": {"actions": ["scale"]}}}, "actions.resources.gpu",
         "Input should be 'database', 'cache', 'cpu', 'memory', 'disk' or 'offline' (got 'gpu')"),
        ({"resources": {"database": {"actions": ["scale"], "capacity": ["connections"]}}},
         "actions.resources.database.capacity[0]",
         "Input should be 'db_connections', 'cache_mb' or 'instances' (got 'connections')"),
        ({"resources": {"disk": {"actions": ["notify"], "capacty": ["instances"]}}}, "actions.resources.disk.capacty",
         "unknown key"),
        ({"resources": {"disk": {}}}, "actions.resources.disk.actions", "Field required"),
    ],
)  # fmt: skip
def test_invalid_resource_responses_name_field_and_reason(
    tmp_path: Path, actions: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, actions)
    assert (info.value.field, info.value.reason) == (field, reason)


def test_resource_responses_accept_definitions_builtins_and_notify(tmp_path: Path) -> None:
    _load(
        tmp_path,
        {
            "definitions": {"log": {"type": "log"}, "dba": {"type": "http", "url": "http://127.0.0.1:9/dba"}},
            "resources": {"database": {"actions": ["dba", "scale", "notify"], "down": ["dba", "log"]},
                          "offline": {"actions": []}},
        },
    )  # fmt: skip


@pytest.mark.parametrize(
    ("strategy", "resources", "expected"),
    [
        ("urgent", (), {"db_connections": 65.0, "cache_mb": 706.0, "instances": 5.0}),  # 180 guests; all: as before
        # A resource under pressure asks for its upper bound, never what guests alone would size.
        ("urgent", ("db_connections",), {"db_connections": 100.0}),
        ("standard", ("cache_mb",), {"cache_mb": 1024.0}),
        ("urgent", ("instances",), {"instances": 10.0}),
        ("emergency", (), {"db_connections": 100.0, "cache_mb": 1024.0, "instances": 10.0}),
        ("emergency", ("cache_mb",), {"cache_mb": 1024.0}),
    ],
)
def test_sizing_names_only_the_resources_asked_for(
    strategy: str, resources: tuple[str, ...], expected: dict[str, float]
) -> None:
    targets = size_capacity(180, strategy, CapacityConfig(), resources)
    assert {c.resource: c.value for c in targets} == expected


async def _post(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/alerts", data=io.BytesIO(json.dumps(body).encode()),
                                 headers={"Content-Type": "application/json", **AUTH})  # fmt: skip
    assert response.status == 200
    result: dict[str, Any] = await response.json()
    return result


async def test_database_connections_high_scales_only_db_connections(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    # w-123 is in its ceremony window: the rule already fired `high` at the live threshold (80 %),
    # so the receiver does not raise it again: urgent, not emergency.
    client, receiver = await make_receiver(make_config())
    body = await _post(client, fixture("database-connections-high"))
    assert body["incidents_created"] == 1
    assert receiver.worker is not None and receiver.store is not None
    assert await receiver.worker.tick() == 1  # scale; `log` was recorded done at decision
    assert [p for p, _ in target.requests] == ["/scale"]
    # The database under pressure: its upper bound (guests alone would size 20 + 180 / 4 = 65).
    assert target.hits("/scale")[0]["capacity"] == {"db_connections": 100.0}
    assert target.hits("/scale")[0]["strategy"] == "urgent"

    responses = (await (await client.get("/api/v1/responses", headers=AUTH)).json())["data"]
    assert [(r["strategy"], r["severity"]) for r in responses] == [("urgent", "high")]
    assert responses[0]["details"]["capacity"] == ["db_connections"]
    actions = {a["action"]: a for a in responses[0]["actions"]}
    assert (actions["scale"]["status"], actions["log"]["status"]) == ("done", "done")
    assert actions["scale"]["result"]["capacity"] == {"db_connections": 100.0}
    rows = await receiver.store.list_optimizations()
    assert [(r["kind"], r["resource"], r["after_value"]) for r in rows] == [("scale", "db_connections", 100.0)]


async def test_a_database_scale_does_not_hold_back_a_cache_scale(
    make_config: MakeConfig, make_receiver: MakeReceiver, target: Target
) -> None:
    # Both platform-wide, within the cooldown: the cooldown is per resource, not per "platform".
    client, receiver = await make_receiver(make_config(actions={"cooldown_seconds": 300}))
    await _post(client, fixture("database-connections-high"))
    cache = {"alertname": "WedwatchCacheEvictions", "resource": "cache", "signal": "evictions", "severity": "high",
             "job": "redis", "instance": "127.0.0.1:9121"}  # fmt: skip
    await _post(client, notification(alert("c4c4e0f1a2b3c4d5", labels=cache), group="cache"))
    assert receiver.worker is not None
    await receiver.worker.tick()
    assert [hit["capacity"] for hit in target.hits("/scale")] == [{"db_connections": 100.0}, {"cache_mb": 1024.0}]
    assert [hit["wedding_id"] for hit in target.hits("/warm")] == ["w-123"]  # the live wedding's caches
