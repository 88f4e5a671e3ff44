"""Config errors in operations' steps name the operation, the step (index and name) and the field, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from wedwatch.config import parse_config
from wedwatch.errors import ConfigError


def S(**extra: Any) -> dict[str, Any]:
    """A valid step, with `extra` keys."""
    return {"name": "load", "request": {"url": "{base_url}/x"}, **extra}


CASES: dict[str, dict[str, Any]] = {
    "bad jsonpath": {"rsvp": {"steps": [S(expect={"assert": [{"path": "$.guests[", "count": 1}]})]}},
    "unknown step key": {"rsvp": {"steps": [{"name": "load", "reqest": {"url": "x"}}]}},
    "unknown request key": {"rsvp": {"steps": [{"name": "load", "request": {"url": "x", "params": {}}}]}},
    "unknown variable": {"rsvp": {"steps": [S(), {"name": "read", "request": {"url": "{base_url}/{photo}"}}]}},
    "wait no socket": {"rsvp": {"steps": [S(), {"name": "propagation", "wait": {"socket": "rt"}}]}},
    "two bodies": {"rsvp": {"steps": [{"name": "send", "request": {"url": "x", "json": {}, "body": "y"}}]}},
    "two kinds": {"rsvp": {"steps": [{"name": "send", "request": {"url": "x"}, "wait": {"socket": "rt"}}]}},
    "no steps": {"rsvp": {"enabled": True}},
    "duplicate name": {"rsvp": {"steps": [S(), S()]}},
    "bad name": {"rsvp": {"steps": [{"name": "Load", "request": {"url": "x"}}]}},
    "two checks": {"rsvp": {"steps": [S(expect={"assert": [{"path": "$.a", "equals": 1, "exists": True}]})]}},
    "bad regex": {"rsvp": {"steps": [S(expect={"assert": [{"path": "$.a", "matches": "(["}]})]}},
    "bad capture": {"rsvp": {"steps": [S(capture={"photo": "Key"})]}},
    "record elsewhere": {"rsvp": {"steps": [S(record={"checked_in": "$.a"})]}},
    "url with steps": {"guest_list": {"url": "http://x", "steps": [S()]}},
    "unknown record": {"critical_path": {"steps": [S(record={"checkedin": "$.a"})]}},
    "bad op name": {"RSVP": {"steps": [S()]}},
    "count not number": {"rsvp": {"steps": [S(expect={"assert": [{"path": "$[*]", "count": "many"}]})]}},
}

EXPECTED = [
    ('bad jsonpath', 'operations.rsvp.steps[0] (load).expect.assert[0].path', "invalid JSONPath '$.guests[': unexpected end of query"),
    ('unknown step key', 'operations.rsvp.steps[0] (load).reqest', 'unknown key'),
    ('unknown request key', 'operations.rsvp.steps[0] (load).request.params', 'unknown key'),
    ('unknown variable', 'operations.rsvp.steps[1] (read).request.url', 'unknown variable {photo} (known here: base_url, ceremony_at, guests, operation, run_id, vendors, wedding_id)'),
    ('wait no socket', 'operations.rsvp.steps[1] (propagation).wait.socket', "no earlier step opens socket 'rt' (opened: none)"),
    ('two bodies', 'operations.rsvp.steps[0] (send).request', 'at most one body: json, body or upload (got json and body)'),
    ('two kinds', 'operations.rsvp.steps[0] (send)', 'a step takes exactly one of request, websocket, wait (got request and wait)'),
    ('no steps', 'operations.rsvp.steps', 'an operation that is not built in needs steps'),
    ('duplicate name', 'operations.rsvp.steps[1] (load).name', "'load' names an earlier step too"),
    ('bad name', 'operations.rsvp.steps[0].name', "String should match pattern '^[a-z][a-z0-9_]*$' (got 'Load')"),
    ('two checks', 'operations.rsvp.steps[0] (load).expect.assert[0]', 'an assertion takes exactly one of count, equals, not_equals, less_than, greater_than, matches, exists, max_age_seconds (got equals and exists)'),
    ('bad regex', 'operations.rsvp.steps[0] (load).expect.assert[0].matches', "invalid regular expression '([': unterminated character set at position 1"),
    ('bad capture', 'operations.rsvp.steps[0] (load).capture.photo', "invalid JSONPath 'Key': it must start with $"),
    ('record elsewhere', 'operations.rsvp.steps[0] (load).record', 'only the critical_path operation records readings'),
    ('url with steps', 'operations.guest_list.url', 'adjusts the built-in preset only; with steps, write it into a step'),
    ('unknown record', 'operations.critical_path.steps[0] (load).record.checkedin', "Input should be 'checked_in', 'expected', 'timeline_delay_seconds', 'vendors_confirmed', 'vendors_booked', 'open_incidents' or 'incident_response_seconds' (got 'checkedin')"),
    ('bad op name', 'operations.RSVP', "an operation's name must match [a-z][a-z0-9_]* (it becomes a label value)"),
    ('count not number', 'operations.rsvp.steps[0] (load).expect.assert[0].count', "'many' is neither a number nor a template"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "field", "reason"),
    [(c, f, r) for c, (f, r) in ((e[0], e[1:]) for e in EXPECTED)],
    ids=[e[0] for e in EXPECTED],
)
def test_step_errors_name_operation_step_and_field(case: str, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml.safe_dump({"operations": CASES[case]}), source="w.yml")
    assert (info.value.field, info.value.reason) == (field, reason)
    assert "\n" not in str(info.value)


def test_wedwatch_check_exits_2_naming_the_step(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(yaml.safe_dump({"operations": CASES["wait no socket"]}))
    done = subprocess.run(
        [sys.executable, "-m", "wedwatch", "check", "--config.file", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        f"{path}: operations.rsvp.steps[1] (propagation).wait.socket: no earlier step opens socket 'rt'" in done.stderr
    )


def test_every_builtin_preset_is_valid_steps_and_a_new_operation_is_enabled() -> None:
    config = parse_config(yaml.safe_dump({"operations": {"rsvp": {"steps": [S()]}}})).config
    assert config.operations.enabled()[-1] == "rsvp"
    for name in config.operations.names():
        assert config.operations.get(name).run_steps
