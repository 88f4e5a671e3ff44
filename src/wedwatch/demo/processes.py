"""Child processes of the local stack and the exporters: started in their own session, waited for, stopped in order."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import aiohttp

from wedwatch.errors import WedwatchError

__all__ = ["free_port", "spawn", "wait_until", "http_ok", "redis_pong", "stop_process", "stop_processes"]

_STOP_SECONDS = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(argv: Sequence[str], log: Path, *, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `argv` with its output appended to `log`."""
    with log.open("ab") as out:
        # Its own session: a Ctrl-C in the terminal reaches us, and we stop the children in order.
        return subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else dict(env),
        )


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, processes: Sequence[subprocess.Popen[bytes]], *,
    timeout: float, logs: Path,
) -> None:  # fmt: skip
    """Poll `check` every 0.1 s until it holds; fail early when one of `processes` exits."""
    for _ in range(int(timeout / 0.1)):
        for process in processes:
            if process.poll() is not None:
                name = Path(str(process.args[0])).name  # type: ignore[index]
                raise WedwatchError(f"{name} exited with {process.returncode}; see {logs}/*.log")
        if await check():
            return
        await asyncio.sleep(0.1)
    raise WedwatchError(f"{what} did not become ready within {timeout:g}s; see {logs}/*.log")


def http_ok(url: str) -> Callable[[], Awaitable[bool]]:
    """A check that `url` answers 200."""

    async def check() -> bool:
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    return check


def redis_pong(port: int) -> Callable[[], Awaitable[bool]]:
    """A check that the Redis on 127.0.0.1:`port` answers PING."""

    async def check() -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"PING\r\n")
            return (await asyncio.wait_for(reader.readline(), 1)).startswith(b"+PONG")
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    return check


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group, then SIGKILL after 10 s; wait until it is gone."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:  # it exited between poll() and now
        pass


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop them one at a time, last started first, and empty the list."""
    for process in reversed(processes):
        stop_process(process)
    processes.clear()
