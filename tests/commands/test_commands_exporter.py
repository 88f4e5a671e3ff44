"""`wedwatch exporter` as a process: SIGHUP reloads, POST /-/reload only with --web.enable-lifecycle,
SIGTERM stops cleanly, bad flags exit 2."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from ports import free_port
from scrape import Scrape, parse_scrape

from wedwatch.calendar.demo import demo_weddings
from wedwatch.cli import main
from wedwatch.exporter.app import LIFECYCLE_DISABLED


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """wedwatch.yml with the demo calendar (a wedding in every phase) and a platform nothing answers on.

    These tests watch the process, not its probes: failing probes are as good as any.
    """
    weddings = demo_weddings(datetime.now(UTC))
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}))
    path = tmp_path / "wedwatch.yml"
    path.write_text(yaml.safe_dump({
        "platform": {"base_url": f"http://127.0.0.1:{free_port()}"},
        "calendar": {"file": "weddings.yml", "refresh_interval_seconds": 3600},
        "store": {"url": "sqlite:///wedwatch.db"},
    }))  # fmt: skip
    return path


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return str(response.read().decode())


def scrape(base: str) -> Scrape:
    """The exporter's /metrics, parsed."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:  # noqa: S310 - loopback only
        return parse_scrape(response.read())


def reload_successful(base: str) -> float | None:
    return scrape(base).value("wedwatch_exporter_config_last_reload_successful")


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


def test_sighup_reloads_and_sigterm_exits_zero(config_file: Path) -> None:
    proc, base = start_exporter(config_file)
    try:
        # Without --web.enable-lifecycle the HTTP reload is refused and says what to do instead.
        assert post_reload(base) == (403, LIFECYCLE_DISABLED)
        # A broken file: SIGHUP keeps the old config and says so on /metrics.
        good = config_file.read_text()
        config_file.write_text(good + "nonsense: [\n")
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_successful(base) == 0)
        assert "demo-ceremony" in scrape(base).label_values("wedding_id")  # the old config's weddings
        config_file.write_text(good)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_successful(base) == 1)
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


def test_enable_lifecycle_allows_reload_over_http(config_file: Path) -> None:
    proc, base = start_exporter(config_file, "--web.enable-lifecycle")
    try:
        assert post_reload(base) == (200, "Reloaded.\n")
        config_file.write_text(config_file.read_text() + "nonsense: [\n")
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
    config_file: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exporter", "--config.file", str(config_file), *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("value", ["2/2", "x/3", "/2"])
def test_bad_shard_exits_2(value: str, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exporter", "--config.file", str(config_file), "--shard", value]) == 2
    assert "--shard:" in capsys.readouterr().err
