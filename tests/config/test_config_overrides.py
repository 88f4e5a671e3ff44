"""`WEDWATCH_…` overrides (src/wedwatch/config/overrides.py): each field gets the value its type reads.

A string field takes the string as given (no YAML: `0123` is not octal 83, `18:30` is not 1110);
numbers and booleans are parsed by the field's type; lists and mappings are YAML; YAML's null
unsets a field that takes None but no string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wedwatch.config import Config, Phase, parse_config
from wedwatch.config.overrides import override_value
from wedwatch.errors import ConfigError

# A file that sets what the overrides then replace, so that an override visibly wins.
BASE = """\
operations:
  guest_list: {guarantee_seconds: 0.75}
forecast:
  backtest: {step_hours: 24}
actions:
  definitions:
    hook: {type: http, url: "http://127.0.0.1:9/hook"}
"""

Read = Callable[[Config], Any]

CASES: list[tuple[str, str, Read, Any]] = [
    # strings: exactly as given, whatever YAML would have made of them
    ("WEDWATCH_RECEIVER__AUTH__BEARER_TOKEN", "0123", lambda c: c.receiver.auth.bearer_token, "0123"),
    ("WEDWATCH_RECEIVER__AUTH__BEARER_TOKEN", "true", lambda c: c.receiver.auth.bearer_token, "true"),
    ("WEDWATCH_RECEIVER__AUTH__BEARER_TOKEN", "null", lambda c: c.receiver.auth.bearer_token, "null"),
    ("WEDWATCH_RECEIVER__AUTH__BEARER_TOKEN", "[x]", lambda c: c.receiver.auth.bearer_token, "[x]"),
    ("WEDWATCH_RECEIVER__AUTH__BEARER_TOKEN", "a: b", lambda c: c.receiver.auth.bearer_token, "a: b"),
    ("WEDWATCH_RECEIVER__AUTH__BEARER_TOKEN", "", lambda c: c.receiver.auth.bearer_token, ""),
    ("WEDWATCH_FORECAST__PLAN__EVE_WARM_LOCAL_TIME", "18:30", lambda c: c.forecast.plan.eve_warm_local_time, "18:30"),
    ("WEDWATCH_STORE__URL", "postgresql://u@db:5432/w", lambda c: c.store.url, "postgresql://u@db:5432/w"),
    ("WEDWATCH_OPERATIONS__MOBILE__USER_AGENT", "1.0", lambda c: c.operations.mobile.user_agent, "1.0"),
    ("WEDWATCH_FORECAST__MODE", "act", lambda c: c.forecast.mode, "act"),  # a Literal of strings
    # inside a tagged union (the action's type decides its fields)
    ("WEDWATCH_ACTIONS__DEFINITIONS__HOOK__URL", "0123", lambda c: c.actions.definitions["hook"].url, "0123"),
    ("WEDWATCH_ACTIONS__DEFINITIONS__HOOK__TIMEOUT_SECONDS", "2.5",
     lambda c: c.actions.definitions["hook"].timeout_seconds, 2.5),
    # integers
    ("WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS", "25", lambda c: c.schedule.max_tracked_weddings, 25),
    ("WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS", "0123", lambda c: c.schedule.max_tracked_weddings, 123),
    ("WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS", " 25 ", lambda c: c.schedule.max_tracked_weddings, 25),
    # floats, in a section and as a mapping's value
    ("WEDWATCH_SCHEDULE__JITTER_RATIO", "0.25", lambda c: c.schedule.jitter_ratio, 0.25),
    ("WEDWATCH_SCHEDULE__INTERVALS__CEREMONY", "5", lambda c: c.schedule.intervals[Phase.CEREMONY], 5.0),
    ("WEDWATCH_SCHEDULE__INTERVALS__CEREMONY", "1e1", lambda c: c.schedule.intervals[Phase.CEREMONY], 10.0),
    # booleans, and the seed's switch names
    ("WEDWATCH_FEATURES__PERFORMANCE_MONITORING", "false", lambda c: c.features.performance_monitoring, False),
    ("WEDWATCH_FEATURES__PERFORMANCE_MONITORING", "0", lambda c: c.features.performance_monitoring, False),
    ("WEDWATCH_FEATURES__PERFORMANCE_MONITORING", "Off", lambda c: c.features.performance_monitoring, False),
    ("WEDWATCH_ACTIONS__DRY_RUN", "yes", lambda c: c.actions.dry_run, True),
    ("PERFORMANCE_MONITORING_ENABLED", "false", lambda c: c.features.performance_monitoring, False),
    # lists and mappings: YAML, with YAML's quoting inside
    ("WEDWATCH_ACTIONS__ALLOWED_EXECUTABLES", "[/bin/true, /usr/bin/env]", lambda c: c.actions.allowed_executables,
     ["/bin/true", "/usr/bin/env"]),
    ("WEDWATCH_ACTIONS__STRATEGIES__LOG", "[log]", lambda c: c.actions.strategies["log"], ["log"]),
    ("WEDWATCH_PLATFORM__HEADERS", '{X-Tenant: "0123"}', lambda c: c.platform.headers, {"X-Tenant": "0123"}),
    # None where a field takes it but no string; a number otherwise
    ("WEDWATCH_OPERATIONS__GUEST_LIST__GUARANTEE_SECONDS", "null", lambda c: c.operations.guest_list.guarantee_seconds, None),
    ("WEDWATCH_OPERATIONS__GUEST_LIST__GUARANTEE_SECONDS", "0.5", lambda c: c.operations.guest_list.guarantee_seconds, 0.5),
    ("WEDWATCH_FORECAST__BACKTEST__STEP_HOURS", "~", lambda c: c.forecast.backtest.step_hours, None),
    ("WEDWATCH_FORECAST__BACKTEST__STEP_HOURS", "12", lambda c: c.forecast.backtest.step_hours, 12),
]  # fmt: skip


@pytest.mark.parametrize(("variable", "value", "read", "expected"), CASES, ids=[f"{v}={x!r}" for v, x, _, _ in CASES])
def test_an_override_gives_the_field_the_value_its_type_reads(variable: str, value: str, read: Read, expected: Any) -> None:
    config = parse_config(BASE, environ={variable: value}).config
    got = read(config)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("variable", "value", "field", "reason"),
    [
        ("WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS", "many", "schedule.max_tracked_weddings", "valid integer"),
        ("WEDWATCH_SCHEDULE__MAX_TRACKED_WEDDINGS", "0x10", "schedule.max_tracked_weddings", "valid integer"),
        ("WEDWATCH_FEATURES__PERFORMANCE_MONITORING", "maybe", "features.performance_monitoring", "valid boolean"),
        ("WEDWATCH_ACTIONS__ALLOWED_EXECUTABLES", "/bin/true", "actions.allowed_executables", "valid list"),
        # the string reaches the field's own validator, which names what it expected
        ("WEDWATCH_FORECAST__PLAN__EVE_WARM_LOCAL_TIME", "25:00", "forecast.plan.eve_warm_local_time", "expected HH:MM"),
    ],
)
def test_an_override_the_field_cannot_take_is_an_error_naming_it(variable: str, value: str, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE, environ={variable: value})
    assert info.value.field == field
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("keys", "text", "expected"),
    [
        # an operation added by name: its fields are those of every operation
        (("operations", "rest_guests", "url"), "0123", "0123"),
        (("operations", "rest_guests", "timeout_seconds"), "0123", "0123"),  # a string pydantic parses as 123.0
        (("operations", "rest_guests", "steps"), "[]", []),
        # outside the schema (validation reports the key) or typed `object`: YAML as before
        (("no_such_section", "key"), "0123", 83),
        (("actions", "definitions", "hook", "body", "count"), "7", 7),
        (("actions", "definitions", "hook", "body", "count"), "[unclosed", "[unclosed"),
    ],
)
def test_override_value_follows_the_schema(keys: tuple[str, ...], text: str, expected: Any) -> None:
    assert override_value(keys, text) == expected
