"""`pip install .` into a fresh virtual environment outside the checkout, then `wedwatch demo` with
Prometheus and Alertmanager installed: what a user (or the Docker image) does.

How it stays fast and offline while installing for real:
- the sources are what the Dockerfile copies (pyproject.toml, README.md, src/) in a temp directory,
  so nothing of the checkout outside src/ can be reached through a relative path;
- the wheel is built as `pip install .` builds it, with the project's build backend, but
  `--no-build-isolation` against the test venv's setuptools (the `test` extra pins it to what
  [build-system] asks) instead of downloading one;
- a fresh `python -m venv` installs that wheel with its own pip, `--no-deps --no-index`: pip sees
  only the fresh environment, so it never touches the test venv;
- then, and only then, a `.pth` file appends the test venv's site-packages to the fresh venv's path,
  so the dependencies (aiohttp, pydantic, ...) import without downloading them again. A `.pth` line
  adds a directory without reading the `.pth` files inside it, so the checkout's editable install
  stays invisible: `wedwatch` imports from the fresh venv (asserted below).

The demo runs from a working directory outside the checkout on free loopback ports; the test waits
(bounded) until it says where to look and every server answers, checks that Alertmanager runs the
packaged config patched for the receiver and that Prometheus scrapes the node_exporter and
redis_exporter it started (Debian's, installed by `make test`) under the `resources` config's default
jobs, then stops it with SIGINT and expects exit 0, Prometheus, Alertmanager, Redis and the exporters
stopped, and no "cannot read" nor traceback in its output. About 12 s (5 s of it installing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ports import free_port

from wedwatch.demo import ALERTMANAGER_NAMES, PROMETHEUS_NAMES, find_binary
from wedwatch.demo.exporters import NODE_EXPORTER_NAMES, REDIS_EXPORTER_NAMES, REDIS_SERVER_NAMES

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
STARTED = "wedwatch demo is running"
DEADLINE_SECONDS = 45.0


def _run(argv: list[str | Path], cwd: Path) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def _install(tmp: Path) -> Path:
    """wedwatch installed from a copy of what the Dockerfile copies into a fresh venv; the venv's bin/."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    pip = ["-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    _run([sys.executable, *pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", tmp / "dist", source], cwd=tmp)  # fmt: skip
    (wheel,) = (tmp / "dist").glob("wedwatch-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp)
    python = venv / "bin" / "python"
    _run([python, *pip, "install", "--no-deps", "--no-index", wheel], cwd=tmp)
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp).strip()
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    Path(site, "_wedwatch_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    return venv / "bin"


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return int(response.status), response.read().decode()


def _until(check: Callable[[], Any], what: str, proc: subprocess.Popen[bytes], log: Path) -> Any:
    """Poll `check` until it returns something truthy, failing with the demo's output after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"wedwatch demo exited {proc.returncode} while waiting for {what}:\n{log.read_text()}")
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {DEADLINE_SECONDS:g}s waiting for {what}:\n{log.read_text()}")


def _refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _ours(tmp: Path) -> list[int]:
    """Processes whose command line names this test's temp directory (the demo's Prometheus and Alertmanager)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(tmp).encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            pass
    return pids


def test_pip_installed_demo_runs_outside_the_checkout(tmp_path: Path) -> None:
    for names, package in ((PROMETHEUS_NAMES, "prometheus"), (ALERTMANAGER_NAMES, "prometheus-alertmanager"),
                           (NODE_EXPORTER_NAMES, "prometheus-node-exporter"), (REDIS_SERVER_NAMES, "redis-server"),
                           (REDIS_EXPORTER_NAMES, "prometheus-redis-exporter")):  # fmt: skip
        if find_binary(names) is None:
            pytest.fail(f"{names[0]} is missing: `make test` installs Debian's {package}")
    assert not tmp_path.resolve().is_relative_to(REPO), "the temp directory must be outside the checkout"
    bin_dir = _install(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([bin_dir / "python", "-c", "import wedwatch; print(wedwatch.__file__)"], cwd=elsewhere).strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), f"wedwatch imported from {where}, not the fresh venv"

    ports = {name: free_port() for name in ("platform", "exporter", "receiver", "prometheus", "alertmanager")}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEDWATCH_", "PYTHON", "VIRTUAL_ENV"))}  # fmt: skip
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(bin_dir / "wedwatch"), "demo", "--dir", "demo",
             "--platform.listen-address", f"127.0.0.1:{ports['platform']}",
             "--exporter.listen-address", f"127.0.0.1:{ports['exporter']}",
             "--receiver.listen-address", f"127.0.0.1:{ports['receiver']}",
             "--prometheus.port", str(ports["prometheus"]), "--alertmanager.port", str(ports["alertmanager"])],
            cwd=elsewhere, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _until(lambda: STARTED in log.read_text(), "the demo to say where to look", proc, log)
        said = log.read_text()
        assert f"prometheus    http://127.0.0.1:{ports['prometheus']}/alerts" in said, said
        assert f"alertmanager  http://127.0.0.1:{ports['alertmanager']}/" in said, said
        # Redis (the platform's cache) and the exporters, each on a free port it names.
        named = re.findall(r"^  (redis|node_exporter|redis_exporter) +\S+://127\.0\.0\.1:(\d+)", said, re.M)
        started = {what: int(port) for what, port in named}
        assert set(started) == {"redis", "node_exporter", "redis_exporter"}, said

        def answers(url: str, needle: str) -> bool:
            status, body = _get(url)
            return status == 200 and needle in body

        base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        _until(lambda: answers(f"{base['platform']}/api/weddings", "demo-ceremony"), "the platform", proc, log)
        _until(lambda: answers(f"{base['exporter']}/metrics", "wedwatch_"), "the exporter", proc, log)
        _until(lambda: answers(f"{base['receiver']}/", "demo-ceremony"), "the receiver's page", proc, log)
        _until(lambda: answers(f"{base['prometheus']}/-/ready", "Ready"), "Prometheus", proc, log)
        _until(lambda: answers(f"{base['alertmanager']}/-/ready", "OK"), "Alertmanager", proc, log)

        def rule_groups() -> list[dict[str, Any]]:
            groups: list[dict[str, Any]] = json.loads(_get(f"{base['prometheus']}/api/v1/rules")[1])["data"]["groups"]
            return groups

        assert _until(rule_groups, "Prometheus to load the generated rules", proc, log)

        def exporters_scraped() -> bool:
            # The `resources` config's default jobs, which the generated rules select.
            query = urllib.parse.urlencode({"query": 'up{job=~"node|redis"} == 1'})
            result = json.loads(_get(f"{base['prometheus']}/api/v1/query?{query}")[1])["data"]["result"]
            return {r["metric"]["job"] for r in result} == {"node", "redis"}

        _until(exporters_scraped, "Prometheus to scrape node_exporter and redis_exporter", proc, log)
        # Alertmanager runs the packaged example, patched to post to this demo's receiver.
        status = json.loads(_get(f"{base['alertmanager']}/api/v2/status")[1])
        running = status["config"]["original"]
        assert f"url: http://127.0.0.1:{ports['receiver']}/alerts" in running, running
        assert "inhibit_rules" in running, running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            for pid in _ours(tmp_path):
                os.kill(pid, signal.SIGKILL)
            pytest.fail(f"wedwatch demo did not stop within 30 s of SIGINT:\n{log.read_text()}")
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "cannot read" not in output, output
    assert "Traceback" not in output, output
    assert _refuses(ports["prometheus"]) and _refuses(ports["alertmanager"]), "Prometheus or Alertmanager still runs"
    assert all(_refuses(port) for port in started.values()), f"Redis or an exporter still runs: {started}"
    assert not _ours(tmp_path), "a process of the demo outlived it"
