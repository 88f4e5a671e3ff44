"""The receiver on system and resource alerts (issue 17): config of the resource responses, sizing
only the named capacity, and a database alert through the real receiver on both store back ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from wedwatch.config import load_config
from wedwatch.errors import ConfigError


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
