"""`wedwatch exporter` as a process: SIGHUP reloads, POST /-/reload only with --web.enable-lifecycle,
SIGTERM stops cleanly, bad flags exit 2."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from wedwatch.cli import main
from wedwatch.config import LoadedConfig
from wedwatch.exporter.app import LIFECYCLE_DISABLED

MakeConfig = Callable[..., LoadedConfig]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return str(response.read().decode())


def wait_until(check: Callable[[], bool], tries: int = 100) -> None:
    for _ in range(tries):
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("condition never held")


def start_exporter(config: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    """`wedwatch exporter` on a free loopback port, not recording; its process and base URL once ready."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", "exporter", "--config.file", str(config),
         "--web.listen-address", f"127.0.0.1:{port}", "--no-record", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get(f"{base}/-/ready").startswith("Ready"))
    except AssertionError:
        proc.kill()
        raise AssertionError(f"the exporter never became ready:\n{proc.communicate()[0]}") from None
    return proc, base


def post_reload(base: str) -> tuple[int, str]:
    """POST /-/reload: the status and the body, whatever the status."""
    request = urllib.request.Request(f"{base}/-/reload", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


async def test_sighup_reloads_and_sigterm_exits_zero(make_config: MakeConfig, tmp_path: Path) -> None:
    loaded = make_config()
    assert loaded.path is not None
    proc, base = start_exporter(loaded.path)
    try:
        # Without --web.enable-lifecycle the HTTP reload is refused and says what to do instead.
        assert post_reload(base) == (403, LIFECYCLE_DISABLED)
        # A broken file: SIGHUP keeps the old config and says so on /metrics.
        good = loaded.path.read_text()
        loaded.path.write_text(good + "nonsense: [\n")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "wedwatch_exporter_config_last_reload_successful 0" in get(f"{base}/metrics"))
        assert "demo-ceremony" in get(f"{base}/metrics")
        loaded.path.write_text(good)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "wedwatch_exporter_config_last_reload_successful 1" in get(f"{base}/metrics"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            pytest.fail(f"the exporter did not stop within 20 s of SIGTERM:\n{output}")
    assert proc.returncode == 0, output
    assert "reload failed, keeping the running configuration" in output
    assert "Traceback" not in output


async def test_enable_lifecycle_allows_reload_over_http(make_config: MakeConfig) -> None:
    loaded = make_config()
    assert loaded.path is not None
    proc, base = start_exporter(loaded.path, "--web.enable-lifecycle")
    try:
        assert post_reload(base) == (200, "Reloaded.\n")
        loaded.path.write_text(loaded.path.read_text() + "nonsense: [\n")
        status, body = post_reload(base)
        assert status == 500 and "previous configuration is in force" in body
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert "reload failed, keeping the running configuration" in output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--web.listen-address", "nowhere"], "--web.listen-address: expected HOST:PORT, got 'nowhere'"),
        (["--web.listen-address", "127.0.0.1:99999"], "--web.listen-address: expected HOST:PORT"),
    ],
)
def test_bad_listen_address_exits_2(
    make_config: MakeConfig, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = make_config()
    assert main(["exporter", "--config.file", str(loaded.path), *argv]) == 2
    assert message in capsys.readouterr().err
