"""Actions one by one: argv stays literal (no shell), deadlines kill the process group, templates stay in their field."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from receiver_support import Target

from wedwatch.config import Config
from wedwatch.config.actions import CommandAction, HttpAction
from wedwatch.receiver.actions import ACTIONS, ActionContext, ActionFailure, TemplateError, render

HOSTILE = ["$(touch {marker})", "; rm -rf / ;", "line1\nline2", "`touch {marker}`", "' \" \\ ${HOME}", "&& reboot", "|| true"]

RECORDER = """\
import json, sys
with open(sys.argv[1], "w") as f:
    json.dump(sys.argv[2:], f)
"""

SPAWNER = """\
import subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def context(session: aiohttp.ClientSession, definition: Any, labels: dict[str, str], **config: Any) -> ActionContext:
    params = {"incident_id": 7, "alertname": "WedwatchWeddingSlow", "severity": "critical", "strategy": "emergency",
              "wedding_id": labels.get("wedding_id", ""), "labels": labels}  # fmt: skip
    return ActionContext(
        name="act", definition=definition, params=params, config=Config.model_validate(config),
        session=session, store=None, action_id=1, now=datetime.now(UTC),  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE)
async def test_command_gets_label_values_literally(value: str, tmp_path: Path, session: aiohttp.ClientSession) -> None:
    marker = tmp_path / "pwned"
    hostile = value.replace("{marker}", str(marker))
    script = tmp_path / "record.py"
    script.write_text(RECORDER)
    out = tmp_path / "argv.json"
    definition = CommandAction(type="command", argv=[sys.executable, str(script), str(out), "{label_evil}", "--wedding={wedding_id}"])
    ctx = context(session, definition, {"evil": hostile, "wedding_id": "w-1"}, actions={"allowed_executables": [sys.executable]})
    result = await ACTIONS["command"](ctx)
    assert result.detail["returncode"] == 0
    assert json.loads(out.read_text()) == [hostile, "--wedding=w-1"]
    assert not marker.exists(), "a shell interpreted the label value"


async def test_command_deadline_kills_the_whole_process_group(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    script = tmp_path / "spawn.py"
    script.write_text(SPAWNER)
    pid_file = tmp_path / "child.pid"
    definition = CommandAction(type="command", argv=[sys.executable, str(script), str(pid_file)], timeout_seconds=1)
    ctx = context(session, definition, {}, actions={"allowed_executables": [sys.executable]})
    with pytest.raises(ActionFailure, match="did not finish within 1s; killed"):
        await ACTIONS["command"](ctx)
    child = int(pid_file.read_text())
    # The grandchild was in the same group: it dies too (a zombie until init reaps it counts).
    state = "?"
    for _ in range(100):
        try:
            state = Path(f"/proc/{child}/stat").read_text().split()[2]
        except FileNotFoundError:
            state = "gone"
        if state in ("gone", "Z"):
            break
        await asyncio.sleep(0.05)
    assert state in ("gone", "Z")


@pytest.mark.parametrize("program", ["/bin/sh", "sh", "/nonexistent/tool"])
async def test_command_refuses_what_is_not_allowlisted(program: str, session: aiohttp.ClientSession) -> None:
    definition = CommandAction(type="command", argv=[program, "-c", "true"])
    ctx = context(session, definition, {}, actions={"allowed_executables": [sys.executable]})
    with pytest.raises(ActionFailure) as info:
        await ACTIONS["command"](ctx)
    assert info.value.retryable is False


async def test_command_nonzero_exit_is_a_failure(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    definition = CommandAction(type="command", argv=[sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"])
    ctx = context(session, definition, {}, actions={"allowed_executables": [sys.executable]})
    with pytest.raises(ActionFailure, match="exited with status 3: boom"):
        await ACTIONS["command"](ctx)


async def test_http_body_values_are_json_encoded(target: Target, session: aiohttp.ClientSession) -> None:
    tricky = 'he said "hi"\n}, "injected": true, {'
    definition = HttpAction(type="http", url=f"{target.url}/hook/{{wedding_id}}",
                            body={"note": "{label_note}", "nested": ["{alertname}", 3]})  # fmt: skip
    result = await ACTIONS["http"](context(session, definition, {"note": tricky, "wedding_id": "w-9"}))
    assert result.detail["status"] == 200
    (path, body), = target.requests
    assert path == "/hook/w-9"
    assert body == {"note": tricky, "nested": ["WedwatchWeddingSlow", 3]}


async def test_http_4xx_is_not_retried_5xx_is(target: Target, session: aiohttp.ClientSession) -> None:
    definition = HttpAction(type="http", url=f"{target.url}/x")
    target.status = 404
    with pytest.raises(ActionFailure) as info:
        await ACTIONS["http"](context(session, definition, {}))
    assert info.value.retryable is False
    target.status = 502
    with pytest.raises(ActionFailure) as info:
        await ACTIONS["http"](context(session, definition, {}))
    assert info.value.retryable is True


@pytest.mark.parametrize("template", ["{wedding_id.__class__}", "{labels[0]}", "{nope}", "{wedding_id!r}", "{wedding_id:>10}"])
def test_templates_allow_plain_fields_only(template: str) -> None:
    with pytest.raises(TemplateError):
        render(template, {"wedding_id": "w-1"})


def test_missing_label_renders_empty() -> None:
    assert render("[{label_absent}]", {}) == "[]"


async def test_command_environment_carries_no_secrets(
    tmp_path: Path, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEDWATCH_RECEIVER_TOKEN", "do-not-leak")
    monkeypatch.setenv("PGPASSWORD", "nor-this")
    out = tmp_path / "env.json"
    code = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"
    definition = CommandAction(type="command", argv=[sys.executable, "-c", code, str(out)])
    await ACTIONS["command"](context(session, definition, {"wedding_id": "w-1"}, actions={"allowed_executables": [sys.executable]}))
    env = json.loads(out.read_text())
    assert "do-not-leak" not in env.values() and "nor-this" not in env.values()
    assert env["WEDWATCH_WEDDING_ID"] == "w-1" and env["WEDWATCH_ALERTNAME"] == "WedwatchWeddingSlow"
