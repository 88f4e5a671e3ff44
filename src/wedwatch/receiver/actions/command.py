"""command: run an allowlisted executable with an argv list; never through a shell.

Each argv element is filled from its template on its own, so a label value such as `$(reboot)`,
`; rm -rf /` or one with newlines stays one literal argument. The process runs in a new session
and the whole group is killed at the deadline.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal

from wedwatch.config.actions import CommandAction
from wedwatch.receiver.actions.base import ActionContext, ActionFailure, ActionResult, render

_OUTPUT_LIMIT = 4096
_GRACE_SECONDS = 2.0


def resolve_executable(program: str, allowed: list[str]) -> str:
    """The absolute path of `program` if it is allowlisted; ActionFailure otherwise."""
    path = program if os.path.isabs(program) else shutil.which(program)
    if path is None:
        raise ActionFailure(f"executable {program!r} not found", retryable=False)
    real = os.path.realpath(path)
    permitted = {os.path.realpath(a) for a in allowed}
    if real not in permitted:
        raise ActionFailure(f"executable {program!r} is not in actions.allowed_executables", retryable=False)
    return real


def _kill_group(process: asyncio.subprocess.Process, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


async def run(ctx: ActionContext) -> ActionResult:
    """Run the argv; exit status 0 is success."""
    definition = ctx.definition
    assert isinstance(definition, CommandAction)
    executable = resolve_executable(definition.argv[0], ctx.config.actions.allowed_executables)
    values = ctx.values
    argv = [executable, *(render(arg, values) for arg in definition.argv[1:])]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        **{f"WEDWATCH_{k.upper()}": v for k, v in values.items() if k.isidentifier() and not k.startswith("label_")},
    }
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own process group, so the deadline kills children too
    )
    try:
        async with asyncio.timeout(definition.timeout_seconds):
            output, _ = await process.communicate()
    except TimeoutError:
        _kill_group(process, signal.SIGTERM)
        try:
            async with asyncio.timeout(_GRACE_SECONDS):
                await process.wait()
        except TimeoutError:
            _kill_group(process, signal.SIGKILL)
            await process.wait()
        raise ActionFailure(f"{argv[0]} did not finish within {definition.timeout_seconds:g}s; killed") from None
    except asyncio.CancelledError:
        _kill_group(process, signal.SIGKILL)
        raise
    text = output[:_OUTPUT_LIMIT].decode(errors="replace")
    if process.returncode != 0:
        raise ActionFailure(f"{argv[0]} exited with status {process.returncode}: {text[-300:]}")
    return ActionResult({"argv": argv, "returncode": 0, "output": text})
