"""Scrape cost: /metrics render time and size at 100, 1,000 and 2,000 tracked weddings, against prometheus_client.

An `ExporterState` is filled directly with a result for every operation of every tracked wedding
(all steps, critical-path readings, some failures), so every contract series exists. The same
series are then rendered three ways:

- `wedwatch`: the exporter's own hand-formatted exposition (`exposition.render`);
- `stock`: prometheus_client's labelled Gauge/Counter/Histogram children in a private
  CollectorRegistry, rendered by `generate_latest` (created series off, as they are not ours);
- `collector`: a client_python custom collector yielding `*MetricFamily` from the same snapshot.

Then the real aiohttp app serves that state while a ticker task measures the longest event-loop
stall during a scrape (curl in another process), with and without gzip.

Run: .venv/bin/python bench/scrape.py [--sizes 100,1000,2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from _support import free_port, table, write_json
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from wedwatch.calendar import Wedding
from wedwatch.calendar.phases import WeddingStatus, tier_of
from wedwatch.config.model import OPERATIONS, Phase
from wedwatch.exporter.contract import FAILURE_REASONS, METRICS
from wedwatch.exporter.exposition import render
from wedwatch.exporter.probes import ProbeResult
from wedwatch.exporter.state import ExporterState

SIZES = (100, 1000, 2000)
TRACKED = (Phase.CEREMONY, Phase.WEDDING_DAY, Phase.EVE, Phase.WEEK, Phase.AFTER)
INTERVALS = {Phase.CEREMONY: 10.0, Phase.WEDDING_DAY: 15.0, Phase.EVE: 30.0, Phase.WEEK: 60.0, Phase.AFTER: 300.0}
EXTRA_STEPS = {"timeline_sync": ("propagation",), "vendor_notification": ("delivery",)}
READINGS = {
    "guests_checked_in": 80.0,
    "guests_expected": 120.0,
    "next_milestone_delay_seconds": 42.0,
    "vendors_confirmed": 7.0,
    "vendors_booked": 9.0,
    "open_incidents": 0.0,
    "incident_response_seconds": 0.0,
}


def fill_state(count: int, *, seed: int = 1) -> ExporterState:
    """A state with `count` tracked weddings in mixed phases, every operation probed, ~3 % failed."""
    rng = random.Random(seed)
    state = ExporterState()
    base = datetime(2026, 6, 6, 14, 0, tzinfo=UTC)
    statuses = []
    for i in range(count):
        phase = TRACKED[i % len(TRACKED)]
        wedding = Wedding(f"wedding-{i:05d}", base + timedelta(minutes=i), "UTC", 80 + i % 150, 5 + i % 10)
        statuses.append(WeddingStatus(wedding, phase, tier_of(phase), True, INTERVALS[phase]))
    state.set_plan(statuses)
    now = time.time()
    for status in statuses:
        for operation in OPERATIONS:
            steps = {"connect": rng.uniform(0.0002, 0.002), "ttfb": rng.uniform(0.005, 0.2), "transfer": rng.uniform(0, 0.05)}
            for step in EXTRA_STEPS.get(operation, ()):
                steps[step] = rng.uniform(0.01, 2.0)
            duration = sum(steps.values())
            failed = rng.random() < 0.03
            readings = READINGS if operation == "critical_path" else {}
            result = ProbeResult(
                not failed, duration, reason=rng.choice(FAILURE_REASONS) if failed else None, steps=steps, readings=readings
            )
            state.record(status.wedding.id, operation, status.tier, result, now - rng.uniform(0, 60))
        # A successful critical-path reading for every wedding: the three gauges always exist.
        state.critical[status.wedding.id] = dict(READINGS)
    for _ in range(500):
        state.lag.observe(rng.expovariate(200))
    return state


# --- the same series in stock prometheus_client -----------------------------------------------------------


def stock_registry(state: ExporterState, operations: tuple[str, ...]) -> CollectorRegistry:
    """Labelled Gauge/Counter/Histogram children holding the same series as the state."""
    registry = CollectorRegistry(auto_describe=False)
    metrics: dict[str, Any] = {}
    for spec in METRICS:
        if spec.type == "gauge":
            metrics[spec.name] = Gauge(spec.name, spec.help, spec.labels, registry=registry)
        elif spec.type == "counter":
            metrics[spec.name] = Counter(spec.name, spec.help, spec.labels, registry=registry)
        else:
            metrics[spec.name] = Histogram(spec.name, spec.help, spec.labels, buckets=spec.buckets, registry=registry)
    for status in state.statuses.values():
        if not status.tracked:
            continue
        wid = status.wedding.id
        metrics["wedwatch_wedding_info"].labels(wid, status.phase.value, status.tier).set(1)
        metrics["wedwatch_wedding_ceremony_timestamp_seconds"].labels(wid).set(status.wedding.ceremony_utc.timestamp())
        metrics["wedwatch_wedding_guests"].labels(wid).set(status.wedding.guests)
        if status.interval_seconds is not None:
            metrics["wedwatch_probe_interval_seconds"].labels(wid).set(status.interval_seconds)
        for operation in operations:
            last = state.last.get((wid, operation))
            if last is None:
                continue
            metrics["wedwatch_probe_success"].labels(wid, operation).set(1 if last.success else 0)
            metrics["wedwatch_probe_duration_seconds"].labels(wid, operation).set(last.duration_seconds)
            metrics["wedwatch_probe_timestamp_seconds"].labels(wid, operation).set(last.timestamp)
            for step, seconds in last.steps.items():
                metrics["wedwatch_probe_step_duration_seconds"].labels(wid, operation, step).set(seconds)
        readings = state.critical.get(wid)
        if readings:
            metrics["wedwatch_guests_checked_in_ratio"].labels(wid).set(readings["guests_checked_in"] / readings["guests_expected"])
            metrics["wedwatch_timeline_delay_seconds"].labels(wid).set(readings["next_milestone_delay_seconds"])
            metrics["wedwatch_vendors_confirmed_ratio"].labels(wid).set(readings["vendors_confirmed"] / readings["vendors_booked"])
    for (operation, tier), histogram in state.durations.items():
        child = metrics["wedwatch_operation_duration_seconds"].labels(operation, tier)
        # Reproduce the bucket counts exactly: one observation at each bucket's bound.
        for bound, n in zip(histogram.bounds, histogram.counts, strict=True):
            for _ in range(n):
                child.observe(bound)
        metrics["wedwatch_operation_probes_total"].labels(operation, tier).inc(state.probes.get((operation, tier), 0))
        for reason in FAILURE_REASONS:
            metrics["wedwatch_operation_failures_total"].labels(operation, tier, reason).inc(
                state.failures.get((operation, tier, reason), 0)
            )
    for phase in Phase:
        metrics["wedwatch_weddings"].labels(phase.value).set(state.phase_counts.get(phase, 0))
    metrics["wedwatch_exporter_config_last_reload_successful"].set(1)
    for bound, n in zip(state.lag.bounds, state.lag.counts, strict=True):
        for _ in range(n):
            metrics["wedwatch_exporter_scheduler_lag_seconds"].observe(bound)
    return registry


class SnapshotCollector(Collector):
    """client_python's documented custom-collector pattern: `*MetricFamily` built from the state on each scrape."""

    def __init__(self, state: ExporterState, operations: tuple[str, ...]) -> None:
        self.state, self.operations = state, operations

    def collect(self) -> Iterator[Metric]:
        """Every family, per-wedding ones first."""
        state, specs = self.state, {m.name: m for m in METRICS}

        def gauge(name: str) -> GaugeMetricFamily:
            spec = specs[name]
            return GaugeMetricFamily(name, spec.help, labels=spec.labels)

        info, ceremony, guests, interval = (
            gauge("wedwatch_wedding_info"),
            gauge("wedwatch_wedding_ceremony_timestamp_seconds"),
            gauge("wedwatch_wedding_guests"),
            gauge("wedwatch_probe_interval_seconds"),
        )
        success, duration, stamp, steps = (
            gauge("wedwatch_probe_success"),
            gauge("wedwatch_probe_duration_seconds"),
            gauge("wedwatch_probe_timestamp_seconds"),
            gauge("wedwatch_probe_step_duration_seconds"),
        )
        checked, delay, vendors = (
            gauge("wedwatch_guests_checked_in_ratio"),
            gauge("wedwatch_timeline_delay_seconds"),
            gauge("wedwatch_vendors_confirmed_ratio"),
        )
        for status in state.statuses.values():
            if not status.tracked:
                continue
            wid = status.wedding.id
            info.add_metric([wid, status.phase.value, status.tier], 1)
            ceremony.add_metric([wid], status.wedding.ceremony_utc.timestamp())
            guests.add_metric([wid], status.wedding.guests)
            if status.interval_seconds is not None:
                interval.add_metric([wid], status.interval_seconds)
            for operation in self.operations:
                last = state.last.get((wid, operation))
                if last is None:
                    continue
                success.add_metric([wid, operation], 1 if last.success else 0)
                duration.add_metric([wid, operation], last.duration_seconds)
                stamp.add_metric([wid, operation], last.timestamp)
                for step, seconds in last.steps.items():
                    steps.add_metric([wid, operation, step], seconds)
            readings = state.critical.get(wid)
            if readings:
                checked.add_metric([wid], readings["guests_checked_in"] / readings["guests_expected"])
                delay.add_metric([wid], readings["next_milestone_delay_seconds"])
                vendors.add_metric([wid], readings["vendors_confirmed"] / readings["vendors_booked"])
        yield from (success, duration, steps, stamp, info, ceremony, guests, interval, checked, delay, vendors)
        spec = specs["wedwatch_operation_duration_seconds"]
        histograms = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
        probes = CounterMetricFamily("wedwatch_operation_probes", "Probes run.", labels=("operation", "tier"))
        failures = CounterMetricFamily("wedwatch_operation_failures", "Failed probes.", labels=("operation", "tier", "reason"))
        for (operation, tier), histogram in sorted(state.durations.items()):
            buckets = [(repr(float(b)), c) for b, c in zip(histogram.bounds, histogram.cumulative(), strict=True)]
            buckets.append(("+Inf", histogram.count))
            histograms.add_metric([operation, tier], buckets, histogram.total)
            probes.add_metric([operation, tier], state.probes.get((operation, tier), 0))
            for reason in FAILURE_REASONS:
                failures.add_metric([operation, tier, reason], state.failures.get((operation, tier, reason), 0))
        weddings = GaugeMetricFamily("wedwatch_weddings", "Weddings per phase.", labels=("phase",))
        for phase in Phase:
            weddings.add_metric([phase.value], state.phase_counts.get(phase, 0))
        lag = HistogramMetricFamily("wedwatch_exporter_scheduler_lag_seconds", "Lag.")
        lag_buckets = [(repr(float(b)), c) for b, c in zip(state.lag.bounds, state.lag.cumulative(), strict=True)]
        lag.add_metric([], [*lag_buckets, ("+Inf", state.lag.count)], state.lag.total)
        yield from (histograms, probes, failures, weddings, lag)
        yield GaugeMetricFamily("wedwatch_exporter_config_last_reload_successful", "Reload.", value=1)


# --- timing ------------------------------------------------------------------------------------------------


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, bytes]:
    """Median seconds of `repeat` calls (after one warm-up call) and the last output."""
    out = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def series_count(body: bytes) -> int:
    """Sample lines in an exposition."""
    return sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))


def measure_renders(sizes: list[int], repeat_for: Callable[[int], int]) -> list[dict[str, Any]]:
    """Render time and size of every method at every size."""
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # `_created` series would double the stock counters' and histograms' series
    rows = []
    for size in sizes:
        state = fill_state(size)
        repeat = repeat_for(size)
        ours_s, ours = timed(lambda s=state: render(s, OPERATIONS).encode(), repeat)  # type: ignore[misc]
        stock = stock_registry(state, OPERATIONS)
        stock_s, stock_body = timed(lambda r=stock: generate_latest(r), repeat)  # type: ignore[misc]
        collector = CollectorRegistry(auto_describe=False)
        collector.register(SnapshotCollector(state, OPERATIONS))
        coll_s, coll_body = timed(lambda r=collector: generate_latest(r), repeat)  # type: ignore[misc]
        gzip_s, compressed = timed(lambda b=ours: gzip.compress(b, 5), repeat)  # type: ignore[misc]
        series = series_count(ours)
        rows.append(
            {
                "tracked_weddings": size,
                "series": series,
                "stock_series": series_count(stock_body),
                "collector_series": series_count(coll_body),
                "wedwatch_seconds": ours_s,
                "wedwatch_bytes": len(ours),
                "stock_seconds": stock_s,
                "stock_bytes": len(stock_body),
                "collector_seconds": coll_s,
                "gzip_seconds": gzip_s,
                "gzip_bytes": len(compressed),
                "wedwatch_us_per_series": ours_s / series * 1e6,
                "stock_us_per_series": stock_s / series * 1e6,
                "collector_us_per_series": coll_s / series * 1e6,
                "speedup_vs_stock": stock_s / ours_s,
            }
        )
        print(f"{size} weddings: {series} series, wedwatch {ours_s * 1000:.1f} ms, stock {stock_s * 1000:.1f} ms", file=sys.stderr)
        del stock, collector
        gc.collect()
    return rows


# --- event-loop stalls during a real scrape ----------------------------------------------------------------


async def _scrape_stalls(state: ExporterState, *, scrapes: int) -> list[dict[str, Any]]:
    from aiohttp import web

    from wedwatch.config import parse_config
    from wedwatch.exporter.app import EXPORTER_KEY, create_app

    loaded = parse_config("calendar: {refresh_interval_seconds: 3600}\n", source="<bench>")
    # schedule=True, as in production (it also tunes the garbage collector); with no calendar
    # nothing is probed, and the filled state below is what every scrape renders.
    app = create_app(loaded, record=False, schedule=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    app[EXPORTER_KEY].state = state
    url = f"http://127.0.0.1:{port}/metrics"
    gaps: list[tuple[float, float]] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        # Wall time between turns, and this thread's CPU time in it: a long gap with little CPU
        # is the machine preempting the process, not the event loop being blocked by a render.
        loop = asyncio.get_running_loop()
        last, last_cpu = loop.time(), time.thread_time()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now, cpu = loop.time(), time.thread_time()
            gaps.append((now - last - 0.001, cpu - last_cpu))
            last, last_cpu = now, cpu

    async def scrape(encoding: str | None) -> tuple[tuple[float, float], float, int]:
        args = ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url]
        if encoding:
            args[1:1] = ["-H", f"Accept-Encoding: {encoding}"]
        gaps.clear()
        proc = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE)
        out, _ = await proc.communicate()
        size, seconds = out.decode().split()
        return max(gaps, default=(0.0, 0.0)), float(seconds), int(size)

    results = []
    task = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0.5)
        idle = max(gaps, default=(0.0, 0.0))[0]
        for encoding in (None, "gzip"):
            for _ in range(scrapes):
                (stall, stall_cpu), seconds, size = await scrape(encoding)
                results.append(
                    {
                        "encoding": encoding or "identity",
                        "max_stall": stall,
                        "max_stall_cpu": stall_cpu,
                        "seconds": seconds,
                        "bytes": size,
                        "idle": idle,
                    }
                )
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await task
        await runner.cleanup()
    return results


def main(argv: list[str] | None = None) -> int:
    """Measure and print the render table, the stall table and the goals; save JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--scrapes", type=int, default=3, help="scrapes of the live app per encoding")
    parser.add_argument("--name", default="scrape")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    renders = measure_renders(sizes, lambda n: max(3, 2000 // n))
    print(
        table(
            ["tracked weddings", "series", "wedwatch ms", "µs/series", "MB", "stock ms", "stock µs/series", "stock MB",
             "× faster", "collector µs/series", "gzip ms", "gzip MB"],
            [
                [r["tracked_weddings"], r["series"], r["wedwatch_seconds"] * 1000, r["wedwatch_us_per_series"],
                 r["wedwatch_bytes"] / 1e6, r["stock_seconds"] * 1000, r["stock_us_per_series"], r["stock_bytes"] / 1e6,
                 r["speedup_vs_stock"], r["collector_us_per_series"], r["gzip_seconds"] * 1000, r["gzip_bytes"] / 1e6]
                for r in renders
            ],
            title="/metrics render (median), the exporter's own series only",
        )  # fmt: skip
    )
    largest = max(sizes)
    stalls = asyncio.run(_scrape_stalls(fill_state(largest), scrapes=args.scrapes))
    render_ms = next(r["wedwatch_seconds"] for r in renders if r["tracked_weddings"] == largest) * 1000
    print(
        table(
            ["encoding", "scrape wall ms", "bytes on the wire", "longest loop stall ms", "its CPU ms", "stall / whole render"],
            [
                [s["encoding"], s["seconds"] * 1000, s["bytes"], s["max_stall"] * 1000, s["max_stall_cpu"] * 1000,
                 s["max_stall"] * 1000 / render_ms]
                for s in stalls
            ],  # fmt: skip
            title=f"Scrapes of the live app with {largest:,} tracked weddings (idle loop jitter {stalls[0]['idle'] * 1000:.2f} ms)",
        )
    )
    goals = _goals(renders, stalls, render_ms)
    for line in goals:
        print(line)
    path = write_json(args.name, {"renders": renders, "stalls": stalls, "goals": goals})
    print(f"\nwrote {path}")
    return 0


def _goals(renders: list[dict[str, Any]], stalls: list[dict[str, Any]], render_ms: float) -> list[str]:
    lines = []
    r2000 = next((r for r in renders if r["tracked_weddings"] == 2000), None)
    if r2000:
        ms = r2000["wedwatch_seconds"] * 1000
        lines.append(f"goal: 2,000 tracked weddings render in ≤ 100 ms: {ms:.0f} ms — {'met' if ms <= 100 else 'MISSED'}")
        x = r2000["speedup_vs_stock"]
        lines.append(f"goal: ≥ 5× faster than stock prometheus_client: {x:.1f}× — {'met' if x >= 5 else 'MISSED'}")
    if len(renders) > 1:
        # Linear = each added series costs what the earlier ones did on average: the marginal cost
        # between the two largest sizes against the mean cost at the smaller (small sizes are
        # dominated by the fixed per-operation part and by timer noise).
        small, large = sorted(renders, key=lambda r: r["series"])[-2:]
        marginal = (large["wedwatch_seconds"] - small["wedwatch_seconds"]) / (large["series"] - small["series"]) * 1e6
        ratio = marginal / small["wedwatch_us_per_series"]
        lines.append(
            f"goal: cost linear in series: {marginal:.2f} µs per added series from {small['tracked_weddings']:,} to "
            f"{large['tracked_weddings']:,} weddings, {ratio:.2f}× the mean at {small['tracked_weddings']:,}"
            f" — {'met' if ratio <= 1.25 else 'MISSED'}"
        )
    worst = max(s["max_stall"] for s in stalls) * 1000
    lines.append(
        f"goal: loop never blocked for a whole render: longest stall {worst:.1f} ms vs render {render_ms:.0f} ms"
        f" — {'met' if worst < render_ms else 'MISSED'}"
    )
    gz = [s for s in stalls if s["encoding"] == "gzip"]
    if gz:
        lines.append(f"gzip on the wire: {gz[0]['bytes']:,} bytes when the scraper accepts it")
    return lines


if __name__ == "__main__":
    sys.exit(main())
