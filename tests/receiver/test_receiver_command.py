"""`wedwatch receiver` as a process: serves, acts from its own worker, stops on SIGTERM, resumes the outbox."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from receiver_support import AUTH, TOKEN, MakeConfig, Target, fixture


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """One back end is enough here: the process test is about the process, not the store."""
    return f"sqlite:///{tmp_path / 'receiver.db'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start(config: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", "receiver", "--config.file", str(config), "--web.listen-address", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "WEDWATCH_TEST_RECEIVER_TOKEN": TOKEN},
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(f"http://127.0.0.1:{port}/-/ready") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.communicate()[0])


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        output, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the receiver did not stop within 20 s of SIGTERM:\n" + proc.communicate()[0])
    assert proc.returncode == 0, output
    return output


async def wait_for(check: object, tries: int = 100) -> None:
    for _ in range(tries):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held")


async def test_process_acts_stops_cleanly_and_resumes_its_outbox(tmp_path: Path, make_config: MakeConfig, target: Target) -> None:
    loaded = make_config(receiver={"backoff_seconds": 1, "action_max_attempts": 5})
    assert loaded.path is not None
    # The process runs on the real clock: the fixture's wedding must be live now, whatever the
    # hour the suite runs at (the shared calendar is fixed around NOW), so that the alert is an
    # emergency and pages.
    ceremony = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    weddings = [{"id": "w-123", "ceremony_at": ceremony, "timezone": "UTC", "guests": 180, "vendors": 12}]
    (loaded.path.parent / "weddings.yml").write_text(yaml.safe_dump({"weddings": weddings}))
    port = free_port()
    target.status = 503  # the action target is down at first: the action waits in the outbox
    proc = await start(loaded.path, port)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/alerts", data=json.dumps(fixture("firing")),
                                    headers={"Content-Type": "application/json", **AUTH}) as r:  # fmt: skip
                assert r.status == 200
        await wait_for(lambda: len(target.hits("/page")) >= 1)
    finally:
        output = stop(proc)
    assert "Traceback" not in output and TOKEN not in output
    target.status = 200
    proc = await start(loaded.path, port)
    try:
        # The next start picks up what the last one left pending, and it now succeeds.
        await wait_for(lambda: any(p == "/page" for p, _ in target.requests[-3:]) and len(target.hits("/page")) >= 2)
    finally:
        stop(proc)
