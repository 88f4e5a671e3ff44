"""query_range against a real Prometheus: blocks written by promtool, paging forced by a small page size.

Fails (never skips) when the `prometheus` binary is missing, unless WEDWATCH_TEST_SKIP_PROMETHEUS=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from ports import free_port

from wedwatch.forecast.history import query_range

SKIP_ENV = "WEDWATCH_TEST_SKIP_PROMETHEUS"
HOURS = 150


def _binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{SKIP_ENV}=1: {name} not installed")
        pytest.fail(f"{name} is not installed (apt-get install prometheus), or set {SKIP_ENV}=1", pytrace=False)
    return found


@dataclass(frozen=True)
class Prom:
    url: str
    first: datetime


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Prom]:
    """A Prometheus serving HOURS hourly samples of `wedwatch_test_requests`, i * 2 + 0.5, some hours missing."""
    prometheus_bin, promtool = _binary("prometheus"), _binary("promtool")
    # Recent data, so that no retention rule can drop the blocks.
    first = (datetime.now(UTC) - timedelta(hours=HOURS + 24)).replace(minute=0, second=0, microsecond=0)
    lines = ["# HELP wedwatch_test_requests Test series.", "# TYPE wedwatch_test_requests gauge"]
    for i in range(HOURS):
        if i in (70, 71):
            continue  # a two-hour gap
        ts = int((first + timedelta(hours=i)).timestamp())
        lines.append(f'wedwatch_test_requests{{job="t"}} {i * 2 + 0.5} {ts}')
    lines.append("# EOF")
    (tmp_path / "data.om").write_text("\n".join(lines) + "\n")
    data = tmp_path / "tsdb"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=240h", str(tmp_path / "data.om"), str(data)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    (tmp_path / "prometheus.yml").write_text("global:\n  scrape_interval: 1h\n")
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [prometheus_bin, f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
         f"--config.file={tmp_path / 'prometheus.yml'}", "--storage.tsdb.retention.time=10y"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, tmp_path / "prometheus.log")
        yield Prom(url, first)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"prometheus not ready within 30 s: {log.read_text()[-2000:]}")


async def test_query_range_reads_a_real_prometheus_in_pages(prometheus: Prom) -> None:
    end = prometheus.first + timedelta(hours=HOURS - 1)
    requests: list[str] = []

    async def on_request_start(session: object, context: object, params: aiohttp.TraceRequestStartParams) -> None:
        requests.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        paged = await query_range(
            session, prometheus.url, "sum(wedwatch_test_requests)", prometheus.first, end, page_points=40
        )
        assert len(requests) == 4  # 150 points in pages of 40
        whole = await query_range(session, prometheus.url, "sum(wedwatch_test_requests)", prometheus.first, end)
        assert len(requests) == 5
    assert paged == whole
    assert paged.start == prometheus.first and len(paged) == HOURS
    assert paged.values[0] == 0.5 and paged.values[HOURS - 1] == (HOURS - 1) * 2 + 0.5
    # Prometheus' 5-minute lookback finds no sample in the missing hours: they are gaps.
    assert paged.values[70] is None and paged.values[71] is None
    assert paged.present() == HOURS - 2


async def test_prometheus_errors_are_reported(prometheus: Prom) -> None:
    from wedwatch.forecast.history import HistoryError

    async with aiohttp.ClientSession() as session:
        with pytest.raises(HistoryError, match="bad_data"):
            await query_range(session, prometheus.url, "sum(", prometheus.first, prometheus.first + timedelta(hours=2))


def test_a_missing_binary_fails_unless_skipping_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SKIP_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="is not installed"):
        _binary("wedwatch-no-such-binary")
    monkeypatch.setenv(SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception):
        _binary("wedwatch-no-such-binary")
