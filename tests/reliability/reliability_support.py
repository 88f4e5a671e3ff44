"""A real `wedwatch receiver` process for hostile-input tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from ports import free_port  # the tests of this directory import it from here too

TOKEN = "reliability-token-0123456789"


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 20 s: no test leaves a process behind."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def months_away() -> str:
    """A ceremony time half a year from now (no phase of it is near whenever the suite runs)."""
    return (datetime.now(UTC) + timedelta(days=180)).strftime("%Y-%m-%dT14:00")


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process, from /proc: now (VmRSS) or its high-water mark (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@contextmanager
def receiver_process(tmp: Path, **receiver: object) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start `wedwatch receiver` on SQLite in `tmp`; yield its base URL and process; stop it."""
    (tmp / "weddings.yml").write_text(yaml.safe_dump({"weddings": [
        {"id": "w-1", "ceremony_at": months_away(), "timezone": "Europe/London", "guests": 100}]}))  # fmt: skip
    config = {
        "calendar": {"file": "weddings.yml"},
        "store": {"url": "sqlite:///receiver.db"},
        "receiver": {"auth": {"bearer_token": "${RELIABILITY_TOKEN}"}, **receiver},
        "actions": {"definitions": {"log": {"type": "log"}},
                    "strategies": {s: ["log"] for s in ("emergency", "urgent", "standard", "log")}},
    }  # fmt: skip
    (tmp / "wedwatch.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp / "receiver.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", "receiver", "--config.file", str(tmp / "wedwatch.yml"),
         "--web.listen-address", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RELIABILITY_TOKEN": TOKEN},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError((tmp / "receiver.log").read_text())
        yield base, proc
    finally:
        stop_process(proc)
        log.close()
