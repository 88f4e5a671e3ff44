"""No secret reaches a log: the receiver's token, a database password, the platform's API token."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from reliability_support import free_port, months_away, stop_process

RECEIVER_TOKEN = "rcv-Secret-7f3a9c"
DB_PASSWORD = "db-Secret-c0ffee"
PLATFORM_TOKEN = "plt-Secret-5eed"


def request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - loopback only
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response's socket open until closed
            return int(exc.code)
    except OSError:
        return 0


def wait(url: str, want: tuple[int, ...] = (200,)) -> None:
    for _ in range(100):
        if request(url) in want:
            return
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered {want}")


def run(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "wedwatch", "--log.level", "debug", *argv],
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env})  # fmt: skip


def test_no_secret_in_any_log(tmp_path: Path) -> None:
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": [
        {"id": "w-1", "ceremony_at": months_away(), "timezone": "Europe/London", "guests": 10}]}))  # fmt: skip
    platform_port, exporter_port, receiver_port = free_port(), free_port(), free_port()
    config = {
        "platform": {"base_url": f"http://127.0.0.1:{platform_port}", "headers": {"Authorization": "Bearer ${PLATFORM_TOKEN}"}},
        "calendar": {"file": "weddings.yml"},
        # A database that does not answer: the receiver logs its URL (redacted) and answers 503.
        "store": {"url": "postgresql://wedwatch:${DB_PASSWORD}@127.0.0.1:1/wedwatch", "timeout_seconds": 1},
        "receiver": {"auth": {"bearer_token": "${RECEIVER_TOKEN}"}},
    }  # fmt: skip
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(config))
    env = {"RECEIVER_TOKEN": RECEIVER_TOKEN, "DB_PASSWORD": DB_PASSWORD, "PLATFORM_TOKEN": PLATFORM_TOKEN}
    cfg = str(tmp_path / "wedwatch.yml")
    logs = [tmp_path / "platform.log", tmp_path / "exporter.log", tmp_path / "receiver.log"]
    procs = [
        run(["platform", "--calendar.file", str(tmp_path / "weddings.yml"), "--web.listen-address", f"127.0.0.1:{platform_port}"], env, logs[0]),
        run(["exporter", "--config.file", cfg, "--web.listen-address", f"127.0.0.1:{exporter_port}"], env, logs[1]),
        run(["receiver", "--config.file", cfg, "--web.listen-address", f"127.0.0.1:{receiver_port}"], env, logs[2]),
    ]  # fmt: skip
    try:
        wait(f"http://127.0.0.1:{platform_port}/-/healthy")
        wait(f"http://127.0.0.1:{exporter_port}/-/ready")
        wait(f"http://127.0.0.1:{receiver_port}/-/healthy")
        debug = urllib.request.urlopen(  # noqa: S310 - loopback only
            f"http://127.0.0.1:{exporter_port}/probe?wedding=w-1&operation=guest_list&debug=true", timeout=30
        ).read().decode()
        assert "Probe succeeded" in debug and PLATFORM_TOKEN not in debug
        body = b'{"version": "4", "groupKey": "g", "status": "firing", "alerts": []}'
        auth = {"Content-Type": "application/json"}
        assert request(f"http://127.0.0.1:{receiver_port}/alerts", data=body, headers={**auth, "Authorization": "Bearer wrong"}) == 401
        assert request(f"http://127.0.0.1:{receiver_port}/alerts", data=body,
                       headers={**auth, "Authorization": f"Bearer {RECEIVER_TOKEN}"}) == 503  # fmt: skip
    finally:
        for proc in procs:
            stop_process(proc)
    text = "\n".join(log.read_text(errors="replace") for log in logs)
    assert "xxxxx@127.0.0.1:1" in text  # the database URL was logged, redacted
    for secret in (RECEIVER_TOKEN, DB_PASSWORD, PLATFORM_TOKEN):
        assert secret not in text, f"{secret} appears in the logs"
