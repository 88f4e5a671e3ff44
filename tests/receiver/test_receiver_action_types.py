"""The action types are spelled once (the config's ActionDefinition union); every other list derives from it."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from wedwatch.config import parse_config
from wedwatch.config.actions import ACTION_TYPES, BUILTIN_ACTIONS, ActionDefinition
from wedwatch.config.loader import _DROPPED_LOC
from wedwatch.errors import ConfigError
from wedwatch.receiver.actions import ACTIONS


def test_every_action_type_has_one_module_in_the_registry() -> None:
    assert list(ACTIONS) == list(ACTION_TYPES)


def test_builtin_actions_are_the_types_that_need_nothing_but_their_type() -> None:
    assert BUILTIN_ACTIONS == {"log", "scale", "cache_warm"}
    adapter: TypeAdapter[ActionDefinition] = TypeAdapter(ActionDefinition)
    for kind in ACTION_TYPES:
        if kind in BUILTIN_ACTIONS:
            assert adapter.validate_python({"type": kind}).type == kind
        else:
            with pytest.raises(ValueError, match="Field required"):
                adapter.validate_python({"type": kind})


def test_config_errors_leave_every_action_type_out_of_the_field() -> None:
    assert set(ACTION_TYPES) <= _DROPPED_LOC
    with pytest.raises(ConfigError) as info:
        parse_config("actions:\n  definitions:\n    page: {type: pager}\n", environ={})
    expected = ", ".join(repr(kind) for kind in ACTION_TYPES)
    assert info.value.field == "actions.definitions.page"
    assert f"expected one of {expected}" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config("actions:\n  definitions:\n    page: {type: notify}\n", environ={})
    assert info.value.field == "actions.definitions.page.url"
