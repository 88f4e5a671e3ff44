"""`wedwatch receiver` as a process: serves, acts from its own worker, stops on SIGTERM, resumes the outbox."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from ports import free_port

TOKEN = "s3cret-receiver-token"
# A notification captured from a real Alertmanager 0.25: critical, for wedding w-123.
FIRING = Path(__file__).parents[1] / "receiver" / "fixtures" / "firing.json"
# Bounds, not expectations: the process usually starts in about a second, acts within one backoff.
READY_SECONDS = 30.0
CONDITION_SECONDS = 30.0


@dataclass
class PageTarget:
    """The pager webhook the receiver's `page` action posts to; it records the bodies it gets."""

    url: str = ""
    status: int = 200
    pages: list[dict[str, object]] = field(default_factory=list)

    async def record(self, request: web.Request) -> web.Response:
        self.pages.append(await request.json())
        return web.json_response({"ok": True}, status=self.status)


@pytest.fixture
async def pager() -> AsyncIterator[PageTarget]:
    """A running PageTarget."""
    target = PageTarget()
    app = web.Application()
    app.router.add_post("/page", target.record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    target.url = str(server.make_url("/page"))
    yield target
    await server.close()


def write_config(tmp_path: Path, pager_url: str) -> Path:
    """wedwatch.yml on SQLite whose emergencies page `pager_url`, with a wedding live now.

    The process runs on the real clock: its wedding must be live whatever the hour the suite runs
    at, so that the captured critical alert is an emergency and pages.
    """
    ceremony = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    weddings = [{"id": "w-123", "ceremony_at": ceremony, "timezone": "UTC", "guests": 180, "vendors": 12}]
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": weddings}))
    config = {
        "calendar": {"file": "weddings.yml"},
        "store": {"url": "sqlite:///receiver.db", "timeout_seconds": 2},
        "receiver": {"auth": {"bearer_token": "${WEDWATCH_TEST_RECEIVER_TOKEN}"},
                     "backoff_seconds": 1, "action_max_attempts": 5},
        "actions": {"hourly_budget": 100, "cooldown_seconds": 0,
                    "definitions": {"log": {"type": "log"}, "page": {"type": "notify", "url": pager_url}},
                    "strategies": {"emergency": ["page", "log"], "urgent": ["log"], "standard": ["log"], "log": ["log"]}},
    }  # fmt: skip
    path = tmp_path / "wedwatch.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def page_statuses(database: Path) -> list[str]:
    """The statuses of the `page` actions in the receiver's outbox, read beside the process."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return [status for (status,) in conn.execute("SELECT status FROM action_outbox WHERE action = 'page'")]
    finally:
        conn.close()


async def wait_for(check: Callable[[], bool], what: str, seconds: float = CONDITION_SECONDS) -> None:
    """Return once `check()` holds; fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f} s")
        await asyncio.sleep(0.1)


async def start(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`wedwatch receiver` on `port`, once it answers /-/ready; its output goes to `log`."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wedwatch", "receiver", "--config.file", str(config),
             "--web.listen-address", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "WEDWATCH_TEST_RECEIVER_TOKEN": TOKEN},
        )  # fmt: skip
    ready = False

    async def answers(session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"http://127.0.0.1:{port}/-/ready") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async with aiohttp.ClientSession() as session:
        deadline = asyncio.get_running_loop().time() + READY_SECONDS
        while proc.poll() is None and asyncio.get_running_loop().time() < deadline:
            if ready := await answers(session):
                break
            await asyncio.sleep(0.1)
    if not ready:
        proc.kill()
        proc.wait()
        raise AssertionError(log.read_text())
    return proc


def stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    """SIGTERM; the process must exit 0 within 20 s. Returns everything it has logged so far."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("the receiver did not stop within 20 s of SIGTERM:\n" + log.read_text())
    output = log.read_text()
    assert proc.returncode == 0, output
    return output


async def test_process_acts_stops_cleanly_and_resumes_its_outbox(tmp_path: Path, pager: PageTarget) -> None:
    config = write_config(tmp_path, pager.url)
    log = tmp_path / "receiver.log"
    port = free_port()
    pager.status = 503  # the pager is down at first: the page waits in the outbox
    proc = await start(config, port, log)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/alerts", data=FIRING.read_bytes(),
                                    headers={"Content-Type": "application/json",
                                             "Authorization": f"Bearer {TOKEN}"}) as response:  # fmt: skip
                assert response.status == 200
        await wait_for(lambda: len(pager.pages) >= 1, "the first attempt to page")
    finally:
        output = stop(proc, log)
    assert "Traceback" not in output and TOKEN not in output
    tried = len(pager.pages)
    pager.status = 200
    proc = await start(config, port, log)
    try:
        # No new alert: the next start picks up what the last one left pending, and it now succeeds.
        await wait_for(lambda: page_statuses(tmp_path / "receiver.db") == ["done"], "the pending page done")
    finally:
        stop(proc, log)
    assert len(pager.pages) > tried
    resumed = pager.pages[-1]
    assert (resumed["wedding_id"], resumed["strategy"]) == ("w-123", "emergency")
