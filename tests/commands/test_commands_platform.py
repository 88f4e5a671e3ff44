"""`wedwatch platform` (src/wedwatch/commands/platform.py): flags, exit codes, serving both dialects until a signal."""

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
from ports import free_port

from wedwatch.cli import build_parser, main
from wedwatch.platform import DEFAULT_API_KEY

CALENDAR = [
    {"id": "w-small", "ceremony_at": "2030-06-01T15:00", "timezone": "Europe/London", "guests": 10, "vendors": 2},
    {"id": "w-large", "ceremony_at": "2030-06-08T14:00", "timezone": "America/New_York", "guests": 400, "vendors": 12},
]


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


@pytest.mark.parametrize(
    ("flags", "dialect"),
    [([], "wedwatch"), (["--dialect", "supabase"], "supabase"), (["--platform.dialect=wedwatch"], "wedwatch")],
)
def test_dialect_flag(flags: list[str], dialect: str) -> None:
    assert build_parser().parse_args(["platform", *flags]).dialect == dialect


def test_unknown_dialect_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["platform", "--dialect", "firebase"]) == 2
    assert "invalid choice: 'firebase'" in capsys.readouterr().err


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the response's socket open until closed
            return exc.code, exc.read()


def _start(argv: list[str], env: dict[str, str], cwd: str | None = None) -> tuple[subprocess.Popen[str], str]:
    """`wedwatch platform …` on a free loopback port; its process and base URL once healthy (15 s at most)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", "platform", *argv, "--web.listen-address", f"127.0.0.1:{port}"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            pytest.fail(f"the platform exited with {process.returncode}:\n{process.communicate()[1]}")
        try:
            if _get(base + "/-/healthy")[0] == 200:
                return process, base
        except OSError:
            pass
        if time.monotonic() >= deadline:
            process.kill()
            pytest.fail(f"the platform did not become healthy:\n{process.communicate()[1]}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[str], stop_signal: signal.Signals = signal.SIGTERM) -> str:
    """Send `stop_signal`, wait for the exit (15 s at most) and return stderr."""
    try:
        process.send_signal(stop_signal)
        return process.communicate(timeout=15)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_from_a_config_file_and_stops_on_a_signal(
    tmp_path: Path, calendar_file: Path, stop_signal: signal.Signals
) -> None:
    # Relative paths in the config are relative to the config file, not to the working directory.
    config = tmp_path / "wedwatch.yml"
    config.write_text(f"calendar:\n  file: {calendar_file.name}\n")
    env = {**os.environ, "WEDWATCH_PLATFORM_ADMIN_TOKEN": "s3cret"}
    process, base = _start(["--config.file", str(config)], env, cwd="/")
    try:
        status, body = _get(base + "/api/weddings/w-large/guests")
        assert status == 200
        assert len(json.loads(body)["guests"]) == 400
        assert _get(base + "/admin/faults")[0] == 401
        assert _get(base + "/admin/faults", {"Authorization": "Bearer s3cret"})[0] == 200
    finally:
        err = _stop(process, stop_signal)
    assert process.returncode == 0, err
    assert "platform serving 2 weddings" in err
    assert f"platform listening on {base}/" in err


def test_serves_the_supabase_dialect_with_the_key_from_the_environment(calendar_file: Path) -> None:
    env = {**os.environ, "WEDWATCH_PLATFORM_API_KEY": "from-env"}
    process, base = _start(["--calendar.file", str(calendar_file), "--dialect", "supabase"], env)
    try:
        url = base + "/rest/v1/guests?wedding_id=eq.w-large&select=id"
        status, body = _get(url, {"apikey": "from-env", "Authorization": "Bearer from-env"})
        assert status == 200
        assert len(json.loads(body)) == 400
        key = DEFAULT_API_KEY
        assert _get(url, {"apikey": key, "Authorization": f"Bearer {key}"})[0] == 401
        assert _get(base + "/api/weddings")[0] == 404
    finally:
        err = _stop(process)
    assert process.returncode == 0, err
    assert "WEDWATCH_PLATFORM_API_KEY" not in err  # a chosen key draws no warning
