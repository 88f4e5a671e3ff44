"""A Saturday at scale: exporter shards and receiver replicas against the platform stand-in, 2,000 weddings on their day.

Every part is its own process on a free loopback port: the platform stand-in (every simulated
latency at zero, guest lists built before the window), `--shards` (4) `wedwatch exporter --shard
i/n` processes and `--receivers` (2) `wedwatch receiver` processes, all on one PostgreSQL (a fresh
schema on WEDWATCH_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test; the
exporters record their probe aggregates there too). The calendar holds `--weddings` weddings
whose ceremonies are spread from 5.5 hours ago to 7.5 hours ahead, in several time zones: about
60 % in their ceremony window (probed every 10 s), the rest on their wedding day (15 s), with all
six operations on.

1. **Probing**: after `--warmup` seconds, each shard's /metrics is read at the start and the end
   of a `--window`: weddings held and tracked, probes per second (wedwatch_operation_probes_total)
   beside the rate its schedule asks for, failures and skipped probes, scheduler lag p50/p99 (the
   wedwatch_exporter_scheduler_lag_seconds histogram over the window), the /metrics size plain and
   gzip, and the shard's CPU.
2. **Alerts**, while the shards keep probing: Alertmanager-shaped webhooks from bench/receiver.py
   (`Bodies`, `load`), in each of `--modes`: `paced1:split` (100 one-alert notifications a
   second, each to one replica in turn), `sat100:split` (100-alert notifications from 8 senders)
   and `sat100:both` (each notification to both replicas, as both halves of an HA Alertmanager
   pair send it; latency is until the second ack). Every strategy maps to the `log` action, so
   each alert queues one action that one of the replicas' workers runs. Reported: alerts per
   second, ack p50/p99, errors, the shards' probe rate and lag p99 under that load, and how fast
   the replicas then drain the outbox (each load starts on an empty one). With `--pause-shards`
   the exporters are stopped (SIGSTOP) during each load, to see the receivers alone.
3. **Exactly once**: bench/_ledger.py checks every decided action against the outbox rows and
   the replicas' own counts of what they ran; a lost or duplicated action makes the exit code 1.

Run: .venv/bin/python bench/saturday.py [--weddings 2000] [--shards 4] [--receivers 2] [--window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _ledger import check, count_unfinished, drain, executions, read_tables
from _support import (
    POSTGRES_URL,
    WEDWATCH,
    Fleet,
    cancel_on_sigterm,
    cpu_seconds,
    fetch,
    free_port,
    histogram_quantile,
    platform_args,
    postgres_schema,
    samples,
    table,
    warm_guest_lists,
    write_calendar,
    write_json,
)
from receiver import TOKEN, Measurement, load

from wedwatch.calendar import Wedding, plan
from wedwatch.calendar.demo import todays_weddings
from wedwatch.calendar.shard import Shard, select
from wedwatch.config import OPERATIONS, parse_config
from wedwatch.exporter.contract import LAG_BUCKETS

LAG = "wedwatch_exporter_scheduler_lag_seconds_bucket"
COUNTERS = (
    "wedwatch_operation_probes_total",
    "wedwatch_operation_failures_total",
    "wedwatch_exporter_probes_skipped_total",
)


def saturday_weddings(count: int, now: datetime, stay: timedelta) -> list[Wedding]:
    """`count` weddings on their day, ceremonies evenly from 5.5 h ago to 7.5 h ahead."""
    lo, hi = timedelta(hours=-5.5), timedelta(hours=7.5)
    return todays_weddings(now, [lo + (hi - lo) * (i + 0.5) / count for i in range(count)], stay=stay, prefix="sat")


def config_document(platform: str, calendar: Path, store_url: str) -> dict[str, Any]:
    """One config for shards and replicas: default schedule and operations, every strategy -> `log`, no rails."""
    return {
        "platform": {"base_url": f"http://{platform}"},
        "calendar": {"file": str(calendar), "refresh_interval_seconds": 60},
        "store": {"url": store_url},
        "receiver": {"auth": {"bearer_token": TOKEN}},
        "actions": {
            "hourly_budget": 10_000_000,
            "cooldown_seconds": 0,
            "strategies": {s: ["log"] for s in ("emergency", "urgent", "standard", "log")},
        },
    }


# --- reading the shards ------------------------------------------------------------------------


@dataclass
class Scrape:
    """One read of a shard's /metrics: counters, the lag histogram, sizes and the process's CPU."""

    at: float
    cpu: float
    probes: float
    failures: float
    skipped: float
    lag: dict[float, float]
    held: float
    tracked: int
    plain_bytes: int = 0
    gzip_bytes: int = 0


def scrape(url: str, pid: int, *, sizes: bool = False) -> Scrape:
    """Read one shard (and, with `sizes`, fetch /metrics again gzip-encoded to measure it)."""
    body, plain = fetch(url)
    text = body.decode()
    found = samples(text, *COUNTERS, LAG, "wedwatch_weddings", "wedwatch_wedding_info")
    total: defaultdict[str, float] = defaultdict(float)
    lag: dict[float, float] = {}
    tracked = 0
    for name, labels, value in found:
        if name == LAG:
            lag[float(labels["le"])] = value
        elif name == "wedwatch_wedding_info":
            tracked += 1
        else:
            total[name] += value
    result = Scrape(time.monotonic(), cpu_seconds(pid), total["wedwatch_operation_probes_total"],
                    total["wedwatch_operation_failures_total"], total["wedwatch_exporter_probes_skipped_total"],
                    lag, total["wedwatch_weddings"], tracked)  # fmt: skip
    if sizes:
        result.plain_bytes = plain
        result.gzip_bytes = fetch(url, gzipped=True)[1]
    return result


def lag_quantiles(before: Scrape, after: Scrape) -> tuple[float, float, float]:
    """Scheduler lag p50 and p99 in ms between two scrapes, and how many probes started in between."""
    buckets = [(le, after.lag[le] - before.lag.get(le, 0.0)) for le in after.lag]
    count = max((c for _, c in buckets), default=0.0)
    return histogram_quantile(0.5, buckets) * 1000, histogram_quantile(0.99, buckets) * 1000, count


def due_per_second(weddings: list[Wedding], shard: Shard, now: datetime) -> float:
    """Probes per second the shard's schedule asks for: every enabled operation once per interval."""
    config = parse_config("", source="<defaults>").config
    statuses = plan(select(weddings, shard), now, config.schedule, config.features)
    return sum(len(OPERATIONS) / s.interval_seconds for s in statuses if s.interval_seconds)


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Result:
    """What the run measured."""

    shards: list[dict[str, Any]] = field(default_factory=list)
    modes: list[dict[str, Any]] = field(default_factory=list)
    ledger: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, float] = field(default_factory=dict)
    platform_cpu: float = 0.0


async def saturday(args: argparse.Namespace, workdir: Path) -> Result:
    """Start every process, measure probing, then alert ingest under probing, then check exactly-once."""
    cancel_on_sigterm()
    now = datetime.now(UTC)
    weddings = saturday_weddings(args.weddings, now, stay=timedelta(hours=1))
    calendar = write_calendar(workdir / "weddings.json", weddings)
    result = Result()
    with postgres_schema(args.postgres) as url, Fleet(workdir) as fleet:
        platform = f"127.0.0.1:{free_port()}"
        fleet.start(
            "platform", platform_args(calendar, int(platform.rsplit(":", 1)[1])), ready=f"http://{platform}/-/healthy"
        )
        await asyncio.to_thread(warm_guest_lists, f"http://{platform}", [w.id for w in weddings])
        path = workdir / "wedwatch.json"
        path.write_text(json.dumps(config_document(platform, calendar, url)))  # JSON is YAML
        shards = [Shard(i, args.shards) for i in range(args.shards)]
        exporters = {s: f"127.0.0.1:{free_port()}" for s in shards}
        for s, address in exporters.items():
            fleet.start(f"exporter-{s.index}", [WEDWATCH, "exporter", f"--config.file={path}", f"--web.listen-address={address}",
                                                f"--shard={s}"], ready=f"http://{address}/-/ready")  # fmt: skip
        receivers = [f"127.0.0.1:{free_port()}" for _ in range(args.receivers)]
        for i, address in enumerate(receivers):
            fleet.start(f"receiver-{i}", [WEDWATCH, "receiver", f"--config.file={path}", f"--web.listen-address={address}"],
                        ready=f"http://{address}/-/ready")  # fmt: skip
        pids = fleet.pids()
        _progress(f"{len(fleet.processes)} processes up; warming up {args.warmup:g} s")
        await asyncio.sleep(args.warmup)
        metrics = {s: f"http://{a}/metrics" for s, a in exporters.items()}
        platform_cpu0 = cpu_seconds(pids["platform"])
        first = {s: await asyncio.to_thread(scrape, u, pids[f"exporter-{s.index}"]) for s, u in metrics.items()}
        await asyncio.sleep(args.window)
        second = {
            s: await asyncio.to_thread(scrape, u, pids[f"exporter-{s.index}"], sizes=True) for s, u in metrics.items()
        }
        result.platform_cpu = (cpu_seconds(pids["platform"]) - platform_cpu0) / args.window
        for s in shards:
            result.shards.append(_shard_row(s, first[s], second[s], due_per_second(weddings, s, now)))
        _progress("probing measured; alert load next")
        urls = [f"http://{a}/alerts" for a in receivers]
        receiver_pids = [pids[f"receiver-{i}"] for i in range(len(receivers))]
        shard_pids = [pids[f"exporter-{s.index}"] for s in shards]

        async def shards_now() -> dict[Shard, Scrape] | None:
            if args.pause_shards:
                return None
            return {s: await asyncio.to_thread(scrape, u, pids[f"exporter-{s.index}"]) for s, u in metrics.items()}

        for spec in args.modes.split(","):
            mode, _, fanout = spec.partition(":")
            before = await shards_now()
            with paused(shard_pids if args.pause_shards else []):
                m = await load(
                    urls, receiver_pids, mode, warmup=2.0, window=args.load, target=spec, every_replica=fanout == "both"
                )
            after = await shards_now()
            # Each load starts on an empty outbox: the replicas' workers drain what this one queued first.
            drained = await _drained(url, args.drain)
            result.modes.append({**_mode_row(m, before, after), **drained})
            _progress(f"{spec}: {m.alerts_per_second:,.0f} alerts/s, p99 {m.p99_ms:.1f} ms, errors {m.errors}; "
                      f"outbox drained {drained['drained']:,.0f} actions at {drained['drain_per_second']:,.0f}/s")  # fmt: skip
        result.ledger, result.notifications = await _exactly_once(url, receivers)
    return result


def _shard_row(shard: Shard, first: Scrape, second: Scrape, due: float) -> dict[str, Any]:
    seconds = second.at - first.at
    p50, p99, _ = lag_quantiles(first, second)
    return {
        "shard": str(shard), "weddings": int(second.held), "tracked": second.tracked, "due_per_second": due,
        "probes_per_second": (second.probes - first.probes) / seconds,
        "failures_per_second": (second.failures - first.failures) / seconds,
        "skipped": second.skipped - first.skipped, "lag_p50_ms": p50, "lag_p99_ms": p99,
        "metrics_bytes": second.plain_bytes, "metrics_gzip_bytes": second.gzip_bytes,
        "cpu_ratio": (second.cpu - first.cpu) / seconds,
    }  # fmt: skip


@contextlib.contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """Stop the processes (SIGSTOP) for the block, and continue them after whatever happens."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _mode_row(m: Measurement, before: dict[Shard, Scrape] | None, after: dict[Shard, Scrape] | None) -> dict[str, Any]:
    if before is None or after is None:  # --pause-shards
        return {**vars(m), "shards_probes_per_second": float("nan"), "shards_lag_p99_ms_max": float("nan")}
    lag = [lag_quantiles(before[s], after[s]) for s in before]
    probes = sum(after[s].probes - before[s].probes for s in before)
    seconds = max(after[s].at - before[s].at for s in before)
    return {
        **vars(m),
        "shards_probes_per_second": probes / seconds,
        "shards_lag_p99_ms_max": max(p99 for _, p99, _ in lag),
    }


async def _exactly_once(store_url: str, receivers: list[str]) -> tuple[dict[str, Any], dict[str, float]]:
    """Check every action against the outbox rows and both replicas' own counts of what they ran."""
    tables = await asyncio.to_thread(read_tables, store_url)
    counted: Counter[str] = Counter()
    notifications: Counter[str] = Counter()
    for address in receivers:
        text = (await asyncio.to_thread(fetch, f"http://{address}/metrics"))[0].decode()
        counted += executions(text)
        for _, labels, value in samples(text, "wedwatch_receiver_notifications_total"):
            notifications[labels["outcome"]] += int(value)
    ledger = check(tables, counted)
    return ledger.summary(), {k: float(v) for k, v in notifications.items() if v}


async def _drained(store_url: str, timeout: float) -> dict[str, float]:
    """Wait for the outbox to empty; how many actions the replicas ran meanwhile, how fast, and what is left."""
    queued = await asyncio.to_thread(count_unfinished, store_url)
    began = time.monotonic()
    left = await drain(store_url, timeout, every=2.0)
    seconds = time.monotonic() - began
    rate = (queued - left) / seconds if seconds > 0.5 else float("nan")
    return {"drained": queued - left, "drain_seconds": seconds, "drain_per_second": rate, "left": left}


def _ms(value: float) -> object:
    # Beyond the lag histogram's largest bound (5 s) only a bound is known; NaN: the shards were paused.
    if math.isnan(value):
        return "paused"
    return f"> {LAG_BUCKETS[-1] * 1000:,.0f}" if math.isinf(value) else round(value, 1)


def _rate(value: float, nan: str = "paused") -> object:
    return nan if math.isnan(value) else round(value)


def _percent(ratio: float) -> object:
    # PostgreSQL's CPU is summed over its processes; a backend that exits within the window makes it negative.
    return round(ratio * 100) if ratio >= 0 else "n/a"


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def report(result: Result, args: argparse.Namespace) -> None:
    """Print the tables."""
    rows = [[r["shard"], r["weddings"], r["tracked"], round(r["due_per_second"]), round(r["probes_per_second"]),
             round(r["failures_per_second"], 1), int(r["skipped"]), _ms(r["lag_p50_ms"]), _ms(r["lag_p99_ms"]),
             round(r["metrics_bytes"] / 1e6, 2), round(r["metrics_gzip_bytes"] / 1e6, 3), round(r["cpu_ratio"] * 100)]
            for r in result.shards]  # fmt: skip
    total = ["all", sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows), sum(r[4] for r in rows),
             round(sum(r[5] for r in rows), 1), sum(r[6] for r in rows), "", "", round(sum(r[9] for r in rows), 2),
             round(sum(r[10] for r in rows), 3), sum(r[11] for r in rows)]  # fmt: skip
    print(table(["shard", "weddings", "tracked", "due/s", "probes/s", "failures/s", "skipped", "lag p50 ms", "lag p99 ms",
                 "/metrics MB", "gzip MB", "CPU %"], [*rows, total],
                title=f"Exporter shards: {args.weddings:,} weddings on their day, {args.window:g} s window "
                      f"(platform stand-in CPU {result.platform_cpu * 100:.0f} %)"))  # fmt: skip
    modes = [[m["target"], round(m["alerts_per_second"]), round(m["notifications_per_second"], 1), round(m["p50_ms"], 1),
              round(m["p99_ms"], 1), m["errors"], round(m["server_cpu_ratio"] * 100), _percent(m["postgres_cpu_ratio"]),
              _rate(m["shards_probes_per_second"]), _ms(m["shards_lag_p99_ms_max"]), _rate(m["drain_per_second"], "-"),
              int(m["left"])] for m in result.modes]  # fmt: skip
    print(table(["load", "alerts/s", "notif/s", "ack p50 ms", "ack p99 ms", "errors", "receivers CPU %", "postgres CPU %",
                 "shards probes/s", "shards lag p99 ms", "outbox drained/s", "left"], modes,
                title=f"{args.receivers} receivers on one PostgreSQL, {args.load:g} s per load, "
                      f"{'shards stopped' if args.pause_shards else 'shards probing'} meanwhile; "
                      "then the replicas' workers drain the outbox"))  # fmt: skip
    led = result.ledger
    print(f"\nExactly once across {args.receivers} replicas: {led['decided']:,} actions decided, {led['queued']:,} queued, "
          f"run by worker {led['by_worker']}, retried {led['retried']}; lost {led['lost']}, duplicated {led['duplicated']}; "
          f"notifications {result.notifications}")  # fmt: skip
    for line in led["lost_examples"][:10] + led["duplicated_examples"][:10]:
        print(f"  {line}")


def document(result: Result, args: argparse.Namespace) -> dict[str, Any]:
    """Everything measured, for bench/results/<name>.json."""
    return {
        "settings": {k: v for k, v in vars(args).items() if k != "postgres"},
        "shards": result.shards, "receivers": result.modes, "platform_cpu_ratio": result.platform_cpu,
        "exactly_once": result.ledger, "notifications": result.notifications,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run once, print the tables, write bench/results/saturday.json; exit 1 when an action was lost or duplicated."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weddings", type=int, default=2000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--receivers", type=int, default=2)
    parser.add_argument(
        "--warmup", type=float, default=40.0, help="seconds before the window (entries start within 30 s)"
    )
    parser.add_argument("--window", type=float, default=60.0, help="seconds of probing measured")
    parser.add_argument("--load", type=float, default=10.0, help="seconds measured per alert load")
    parser.add_argument("--modes", default="paced1:split,sat100:split,sat100:both")
    parser.add_argument(
        "--pause-shards",
        action="store_true",
        help="stop the exporters (SIGSTOP) during each alert load: the receivers alone",
    )
    parser.add_argument("--drain", type=float, default=300.0, help="seconds at most for the outbox to drain")
    parser.add_argument("--postgres", default=POSTGRES_URL, help="PostgreSQL server (a fresh schema is used)")
    parser.add_argument("--name", default="saturday")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wedwatch-bench-saturday-") as tmp:
        try:
            result = asyncio.run(saturday(args, Path(tmp)))
        except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM
            print("\nsaturday interrupted or terminated; every process it started is stopped", file=sys.stderr)
            return 130
    path = write_json(args.name, document(result, args))  # first: a bug in the tables loses nothing
    report(result, args)
    print(f"\nwrote {path}")
    return 0 if not result.ledger["lost"] and not result.ledger["duplicated"] else 1


if __name__ == "__main__":
    sys.exit(main())
