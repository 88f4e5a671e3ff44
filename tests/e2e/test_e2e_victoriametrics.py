"""Long-term metrics for real: Debian's Prometheus remote-writes to Debian's VictoriaMetrics, and the
forecaster reads months of history back through VictoriaMetrics' Prometheus-compatible API.

Case 1: what Prometheus scrapes from the exporter arrives in VictoriaMetrics, every series with
the labels and the samples Prometheus holds. Case 2: eight weeks of hourly history, imported into
VictoriaMetrics (a Prometheus started a minute ago holds no weeks), read back by `query_range`
exactly as written, in pages and under both of VictoriaMetrics' API paths; `wedwatch forecast`
and the receiver's forecaster, pointed at VictoriaMetrics, forecast the next two weeks from it.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from e2e_support import eventually, free_port, serve

from wedwatch.calendar import parse_calendar
from wedwatch.cli import main
from wedwatch.config import load_config
from wedwatch.demo import (
    ALERTMANAGER_NAMES,
    PROMETHEUS_NAMES,
    VICTORIAMETRICS_NAMES,
    LocalStack,
    find_binary,
)
from wedwatch.exporter.app import create_app as exporter_app
from wedwatch.forecast.forecaster import Forecaster
from wedwatch.forecast.history import query_range
from wedwatch.forecast.series import HOUR, HourlySeries, floor_hour
from wedwatch.forecast.synthetic import generate_history
from wedwatch.platform import PlatformSettings
from wedwatch.platform import create_app as platform_app
from wedwatch.receiver.app import create_app as receiver_app

pytestmark = pytest.mark.e2e
TOKEN = "e2e-victoriametrics-token"
# Per wedding and operation, a new value at every probe: any relabelling or lost sample shows.
SCRAPED = 'wedwatch_probe_duration_seconds{job="wedwatch-exporter"}'
WEEKS = 8
HISTORY_METRIC = "platform_requests_per_second"
# An explicit window, not a bare selector: at a one-hour step VictoriaMetrics looks back a step
# plus an eighth of the sample interval, so a bare selector carries an hourly value into a
# one-hour gap. [59m] reads exactly the hour's sample in VictoriaMetrics and in Prometheus alike.
HISTORY_QUERY = f"sum(last_over_time({HISTORY_METRIC}[59m]))"
# VictoriaMetrics stores values to 12 significant digits.
REL = 1e-9
Samples = dict[frozenset[tuple[str, str]], dict[int, float]]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[LocalStack]:
    """Platform stand-in, exporter and receiver in-process; Prometheus, Alertmanager and VictoriaMetrics."""
    for names, package in ((PROMETHEUS_NAMES, "prometheus"), (ALERTMANAGER_NAMES, "prometheus-alertmanager"),
                           (VICTORIAMETRICS_NAMES, "victoria-metrics")):  # fmt: skip
        if find_binary(names) is None:
            pytest.fail(f"{names[0]} is missing: `make test` installs Debian's {package}")
    ceremony = datetime.now(UTC) + timedelta(days=3)  # the `week` phase: tracked, per-wedding series
    entries = [{"id": "w-vm", "ceremony_at": ceremony.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC", "guests": 120,
                "vendors": 8}]  # fmt: skip
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": entries}))
    runners: list[web.AppRunner] = []
    weddings = parse_calendar(entries, source="e2e").weddings
    platform = await serve(platform_app(weddings, settings=PlatformSettings(guest_list_per_guest_seconds=0)), runners)
    config = {
        "platform": {"base_url": f"http://{platform}"},
        "calendar": {"file": "weddings.yml"},
        "schedule": {"intervals": {"week": 1}},
        "operations": {"photo_upload": {"size_bytes": 4096}},
        "store": {"url": "sqlite:///receiver.db"},
        "receiver": {"auth": {"bearer_token": TOKEN}},
        "actions": {"definitions": {"log": {"type": "log"}},
                    "strategies": dict.fromkeys(("emergency", "urgent", "standard", "log"), ["log"])},
    }  # fmt: skip
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(config))
    loaded = load_config(tmp_path / "wedwatch.yml", environ={})
    exporter = await serve(exporter_app(loaded, record=False), runners)
    receiver = await serve(receiver_app(loaded), runners)
    local = LocalStack(
        tmp_path / "prometheus-stack", loaded.config, exporter, receiver, TOKEN,
        prometheus_port=free_port(), alertmanager_port=free_port(), victoriametrics_port=free_port(),
    )  # fmt: skip
    local.write_files()
    try:
        await local.start()
        yield local
    finally:
        local.stop()
        for runner in reversed(runners):
            await runner.cleanup()


async def test_prometheus_remote_writes_what_it_scrapes_to_victoriametrics(stack: LocalStack) -> None:
    async with aiohttp.ClientSession() as session:

        async def arrived() -> Samples | None:
            # VictoriaMetrics first: whatever it holds, Prometheus has sent, so Prometheus holds it too.
            stored = await _export(session, stack.victoriametrics_url, SCRAPED)
            scraped = await _raw_samples(session, stack.prometheus_url, SCRAPED)
            complete = scraped and set(stored) == set(scraped) and min(map(len, stored.values())) >= 3
            return stored if complete else None

        stored = await eventually(arrived, "every scraped series to reach VictoriaMetrics with 3 samples", timeout=45)
        scraped = await _raw_samples(session, stack.prometheus_url, SCRAPED)
        # The same series, by Prometheus' own series API on both servers.
        in_store = await _series(session, stack.victoriametrics_url, SCRAPED)
        assert in_store == await _series(session, stack.prometheus_url, SCRAPED)
    labels = [dict(key) for key in stored]
    target = ("w-vm", "wedwatch-exporter", stack.exporter)
    assert {(d["wedding_id"], d["job"], d["instance"]) for d in labels} == {target}
    assert {d["operation"] for d in labels} >= {"guest_list", "photo_upload", "timeline_sync"}
    for key, samples in stored.items():
        held = scraped[key]
        for at, value in samples.items():
            assert at in held, f"{dict(key)}: VictoriaMetrics holds a sample at {at} ms that Prometheus never scraped"
            assert value == pytest.approx(held[at], rel=REL), dict(key)


async def test_forecasts_read_eight_weeks_of_history_from_victoriametrics(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = floor_hour(datetime.now(UTC))
    synthetic = generate_history(11, start=now - WEEKS * 168 * HOUR, hours=WEEKS * 168)
    written = synthetic.series
    vm = stack.victoriametrics_url
    async with aiohttp.ClientSession() as session:
        await _import(session, vm, {"__name__": HISTORY_METRIC, "job": "platform"}, written)
        # Both API paths (`/prometheus` is the one vmselect's cluster URL ends with), in pages of 500 hours.
        for base in (vm, f"{vm}/prometheus"):
            read = await query_range(session, base, HISTORY_QUERY, written.start, written.end - HOUR, page_points=500)
            assert _holds_every_written_hour(read, written), base
            assert _gaps(read) == _gaps(written), base
        bare = await query_range(session, vm, f"sum({HISTORY_METRIC})", written.start, written.end - HOUR)
    # A bare selector still reads every written hour; only gaps may differ (see HISTORY_QUERY).
    assert _holds_every_written_hour(bare, written)

    config = _forecast_config(tmp_path, vm, synthetic.weddings)
    argv = ["forecast", "--config.file", str(config), "--at", now.isoformat(), "--workers", "1", "--no-store", "--json"]
    # main() runs its own event loop: off this test's loop.
    assert await asyncio.to_thread(main, argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"] == f"{vm} {HISTORY_QUERY}"
    assert (out["metrics"]["history_hours"], out["metrics"]["history_present"]) == (len(written), written.present())
    _assert_forecast(out["points"], now, written)

    async with Forecaster(load_config(config, environ={}).config) as forecaster:
        (refitted,) = await forecaster.refit(now=now)
    assert refitted.series == "requests" and refitted.horizon_start == now
    assert (refitted.metrics["history_hours"], refitted.metrics["history_present"]) == (len(written), written.present())
    _assert_forecast(refitted.points, now, written)


def _forecast_config(tmp_path: Path, url: str, weddings: list[Any]) -> Path:
    """A config whose forecaster reads the `requests` series from VictoriaMetrics, with the history's calendar."""
    (tmp_path / "history-weddings.yml").write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}))
    config = {
        "calendar": {"file": "history-weddings.yml"},
        "store": {"url": "sqlite:///forecast.db"},
        "forecast": {"prometheus_url": url, "history_hours": WEEKS * 168, "workers": 1,
                     "series": {"requests": {"query": HISTORY_QUERY}},
                     "model": {"timezone": "Europe/London"}},  # the generator's users' zone
    }  # fmt: skip
    path = tmp_path / "forecast.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _holds_every_written_hour(read: HourlySeries, written: HourlySeries) -> bool:
    """The same hours, and the written value (to VictoriaMetrics' precision) wherever one was written."""
    if (read.start, len(read)) != (written.start, len(written)):
        return False
    return all(
        r == pytest.approx(w, rel=REL) for w, r in zip(written.values, read.values, strict=True) if w is not None
    )


def _gaps(series: HourlySeries) -> list[int]:
    return [i for i, v in enumerate(series.values) if v is None]


def _assert_forecast(points: list[dict[str, Any]], now: datetime, history: HourlySeries) -> None:
    """Two weeks of hourly points from `now`, ordered bands, at the level of the last week read."""
    assert len(points) == 14 * 24
    assert [p["ts"] for p in points[:: len(points) - 1]] == [_iso(now), _iso(now + 335 * HOUR)]
    assert all(math.isfinite(p[k]) for p in points for k in ("yhat", "yhat_lower", "yhat_upper"))
    assert all(p["yhat_lower"] <= p["yhat"] <= p["yhat_upper"] for p in points)
    # A history misread (zeros, one hour in a thousand, another series) would move the level.
    last_week = statistics.fmean(v for v in history.values[-168:] if v is not None)
    assert 0.5 < statistics.fmean(p["yhat"] for p in points[:168]) / last_week < 2


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def _import(session: aiohttp.ClientSession, base: str, labels: dict[str, str], series: HourlySeries) -> None:
    """Write `series` through VictoriaMetrics' JSON-lines import, then make it searchable at once."""
    known = [(i, v) for i, v in enumerate(series.values) if v is not None]
    line = {"metric": labels, "values": [v for _, v in known],
            "timestamps": [int(series.at(i).timestamp() * 1000) for i, _ in known]}  # fmt: skip
    async with session.post(f"{base}/api/v1/import", data=json.dumps(line) + "\n") as r:
        assert r.status == 204, await r.text()
    # Imported rows become searchable within a second or two; force_flush does it now.
    async with session.get(f"{base}/internal/force_flush") as r:
        assert r.status == 200, await r.text()


async def _export(session: aiohttp.ClientSession, base: str, selector: str) -> Samples:
    """Every raw sample VictoriaMetrics holds for `selector` (its export API: JSON lines)."""
    async with session.get(f"{base}/api/v1/export", params={"match[]": selector}) as r:
        assert r.status == 200, await r.text()
        text = await r.text()
    out: Samples = {}
    for line in filter(None, text.splitlines()):
        row = json.loads(line)
        out[frozenset(row["metric"].items())] = dict(zip(row["timestamps"], row["values"], strict=True))
    return out


async def _raw_samples(session: aiohttp.ClientSession, base: str, selector: str) -> Samples:
    """The raw samples of the last ten minutes Prometheus holds for `selector` (a range-vector query)."""
    body = await _get_api(session, f"{base}/api/v1/query", {"query": f"{selector}[10m]"})
    return {frozenset(s["metric"].items()): {round(float(t) * 1000): float(v) for t, v in s["values"]}
            for s in body["result"]}  # fmt: skip


async def _series(session: aiohttp.ClientSession, base: str, selector: str) -> set[frozenset[tuple[str, str]]]:
    """The label sets `/api/v1/series` names for `selector`."""
    return {
        frozenset(labels.items()) for labels in await _get_api(session, f"{base}/api/v1/series", {"match[]": selector})
    }


async def _get_api(session: aiohttp.ClientSession, url: str, params: dict[str, str]) -> Any:
    async with session.get(url, params=params) as r:
        body = await r.json()
    assert body["status"] == "success", (url, body)
    return body["data"]
