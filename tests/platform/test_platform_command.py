"""`wedwatch platform` (src/wedwatch/commands/platform.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_fakes import CALENDAR

from wedwatch.cli import main


@pytest.fixture
def calendar_file(tmp_path: Path) -> Path:
    path = tmp_path / "weddings.json"
    path.write_text(json.dumps({"weddings": CALENDAR}))
    return path


@pytest.fixture(autouse=True)
def _no_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEDWATCH_CONFIG", raising=False)
    monkeypatch.delenv("WEDWATCH_PLATFORM_ADMIN_TOKEN", raising=False)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_bad_listen_address_exits_2(calendar_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["platform", "--calendar.file", str(calendar_file), "--web.listen-address", "nonsense"])
    assert code == 2
    assert "--web.listen-address" in capsys.readouterr().err


def test_port_in_use_exits_2(calendar_file: Path, taken_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["platform", "--calendar.file", str(calendar_file), "--web.listen-address", f"127.0.0.1:{taken_port}"])
    assert code == 2
    assert "cannot listen" in capsys.readouterr().err


def test_no_calendar_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["platform"]) == 2
    config = tmp_path / "wedwatch.yml"
    config.write_text("platform:\n  base_url: http://127.0.0.1:8085\n")
    assert main(["platform", "--config.file", str(config)]) == 2
    assert "no weddings to serve" in capsys.readouterr().err


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response's socket open until closed
            return exc.code, exc.read()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_from_a_config_file_and_stops_on_a_signal(
    tmp_path: Path, calendar_file: Path, stop_signal: signal.Signals
) -> None:
    # Relative paths in the config are relative to the config file, not to the working directory.
    config = tmp_path / "wedwatch.yml"
    config.write_text(f"calendar:\n  file: {calendar_file.name}\n")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WEDWATCH_PLATFORM_ADMIN_TOKEN": "s3cret"}
    argv = ["platform", "--config.file", str(config), "--web.listen-address", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", *argv],
        cwd="/",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if _get(base + "/-/healthy")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "platform did not become healthy"
            time.sleep(0.05)
        status, body = _get(base + "/api/weddings/w-large/guests")
        assert status == 200
        assert len(json.loads(body)["guests"]) == 400
        assert _get(base + "/admin/faults")[0] == 401
        assert _get(base + "/admin/faults", token="s3cret")[0] == 200
        process.send_signal(stop_signal)
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "platform serving 2 weddings" in err
    assert f"platform listening on {base}/" in err
