"""`make soak`: 30 minutes of a simulated Saturday against real Prometheus and Alertmanager.

Every part runs as its own process on free loopback ports, wired as `wedwatch demo` wires them
(its config and its LocalStack, see `wedwatch.demo`): `wedwatch platform`, `wedwatch
exporter`, `wedwatch receiver` (SQLite, or a fresh schema on `--store-url postgresql://…`),
Prometheus with the project's rules and Alertmanager routing to the receiver. The rules' windows
and `for:` are divided by `--time-compression` (10, as the demo), and so are the receiver's
time-based rails (emergency hold, cooldown, flap window; the hourly budget is multiplied).

The calendar holds `--weddings` (100) weddings all on their day, in several time zones. The
exporter's phases run on real time (a ceremony window lasts eight hours), so the day is laid out
around the run instead: 40 % of the weddings enter their ceremony window one after another during
it (their probes tighten from 15 s to 10 s), 10 % leave theirs, 25 % are inside it throughout and
25 % have their ceremony later today. Faults go through the platform's admin API on a schedule
(latency, error rates, a late milestone, hangs, a platform-wide slowdown), each on its own
wedding (one that is in its ceremony window where the alert needs that) and removed after a
while; the last is removed before the run ends, then the alerts get `--settle` seconds to resolve.

Every `--sample-every` (30) seconds the resident memory and CPU time of every process is read
from /proc. At the end: alerts fired (Prometheus' ALERTS, the receiver's incidents, Alertmanager's
deliveries), responses by action and outcome, effectiveness (the receiver's resolution histogram
and its store), memory per process over time, and the exactly-once check of bench/_ledger.py:
actions are configured to call a target this script serves, so every execution is seen from
outside. A lost or duplicated action, or a process that died, makes the soak exit 1. JSON goes
to bench/results/soak.json, the processes' logs and configs to bench/results/soak-run/.

Run: .venv/bin/python bench/soak.py [--minutes 30] [--weddings 100] [--store-url postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _ledger import Sink, check, drain, executions, read_tables
from _soak_report import report
from _support import (
    RESULTS,
    WEDWATCH,
    Fleet,
    cancel_on_sigterm,
    cpu_seconds,
    free_port,
    postgres_schema,
    rss_bytes,
)
from aiohttp import web

from wedwatch.calendar import Wedding
from wedwatch.calendar.demo import todays_weddings
from wedwatch.config import load_config
from wedwatch.demo import LocalStack, demo_config, local_stack, write_files

HOUR = timedelta(hours=1)
WATCHED = ("scale", "cache_warm", "page")  # actions whose every run reaches the sink


# --- the day -----------------------------------------------------------------------------------


def ceremony_offsets(count: int, run: timedelta) -> list[timedelta]:
    """Ceremony times around now so that the run sees ceremony windows (−2 h … +6 h) open and close."""

    def spread(n: int, lo: timedelta, hi: timedelta) -> list[timedelta]:
        return [lo + (hi - lo) * (i + 0.5) / n for i in range(n)]

    entering, leaving, inside = round(count * 0.4), round(count * 0.1), round(count * 0.25)
    later = count - entering - leaving - inside
    return [
        *spread(entering, 2 * HOUR, 2 * HOUR + run),  # the window opens during the run
        *spread(leaving, -6 * HOUR, -6 * HOUR + run),  # ... closes during the run
        *spread(inside, -6 * HOUR + run + timedelta(minutes=5), 2 * HOUR - timedelta(minutes=5)),
        *spread(later, 2 * HOUR + run + timedelta(minutes=5), 8 * HOUR),
    ]


@dataclass(frozen=True)
class FaultKind:
    """One way the platform goes wrong; `ceremony`: its alert needs a wedding inside its ceremony window."""

    name: str
    spec: dict[str, Any]
    ceremony: bool = False
    platform_wide: bool = False


KINDS = (
    FaultKind("guest list slow (3.5 s)", {"operation": "guest_list", "latency_seconds": 3.5}, ceremony=True),
    FaultKind("photo uploads failing (40 %)", {"operation": "photo_upload", "error_rate": 0.4}),
    FaultKind("milestone 30 min late", {"operation": "critical_path", "milestone_delay_seconds": 1800}, ceremony=True),
    FaultKind("timeline sync hangs", {"operation": "timeline_sync", "hang": True}),
    FaultKind("mobile slow everywhere (2.5 s)", {"operation": "mobile", "latency_seconds": 2.5}, platform_wide=True),
    FaultKind(
        "vendor notifications 503 (25 %)", {"operation": "vendor_notification", "error_rate": 0.25, "status": 503}
    ),
    FaultKind("guest list very slow (6 s)", {"operation": "guest_list", "latency_seconds": 6.0}, ceremony=True),
)


@dataclass
class Fault:
    """A scheduled fault: when (seconds after the start), for how long, on which wedding."""

    at: float
    seconds: float
    kind: FaultKind
    wedding_id: str | None
    injected: float | None = None
    removed: float | None = None
    fault_id: str | None = None

    def body(self) -> dict[str, Any]:
        """The POST /admin/faults body."""
        return {**self.kind.spec, **({"wedding_id": self.wedding_id} if self.wedding_id else {})}

    def row(self) -> dict[str, Any]:
        """For the JSON results."""
        return {"at": self.at, "seconds": self.seconds, "kind": self.kind.name, "wedding_id": self.wedding_id,
                "injected": self.injected, "removed": self.removed, "fault_id": self.fault_id}  # fmt: skip


def fault_schedule(weddings: list[Wedding], start: datetime, run: float, *, seed: int) -> list[Fault]:
    """About one fault every two minutes (at least four), each on its own wedding, all over by 85 % of the run."""
    rng = random.Random(seed)
    seconds = min(max(0.2 * run, 75.0), 240.0)
    count = max(4, round(run / 120))
    first, last = 0.05 * run, max(0.05 * run, 0.85 * run - seconds)
    used: set[str] = set()
    faults = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        at = first + (last - first) * i / max(1, count - 1)
        wedding = None if kind.platform_wide else _pick(weddings, start, at, seconds, kind.ceremony, used, rng)
        faults.append(Fault(at, seconds, kind, wedding))
    return faults


def _pick(
    weddings: list[Wedding],
    start: datetime,
    at: float,
    seconds: float,
    ceremony: bool,
    used: set[str],
    rng: random.Random,
) -> str:
    """A wedding not faulted yet; with `ceremony`, one inside its ceremony window for the whole fault."""
    begin, end = start + timedelta(seconds=at), start + timedelta(seconds=at + seconds)
    fits = [
        w for w in weddings if not ceremony or (w.ceremony_utc - 2 * HOUR <= begin and end < w.ceremony_utc + 6 * HOUR)
    ]
    fresh = [w for w in fits if w.id not in used] or fits
    chosen = rng.choice(fresh).id
    used.add(chosen)
    return chosen


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Run:
    """Everything the soak observed, for the report."""

    args: argparse.Namespace
    store_url: str
    started: datetime
    weddings: list[Wedding]
    faults: list[Fault]
    memory: list[dict[str, Any]] = field(default_factory=list)  # {t, rss: {name: bytes}, cpu: {name: s}}
    died: dict[str, str] = field(default_factory=dict)
    fault_errors: list[str] = field(default_factory=list)
    prometheus_alerts: list[dict[str, Any]] = field(default_factory=list)
    alertmanager: dict[str, float] = field(default_factory=dict)
    receiver_metrics: str = ""
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hits: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    unresolved: int = 0
    undrained: int = 0
    seconds: float = 0.0


def soak_config(platform: str, sink: Sink, sink_url: str, store_url: str, compression: int) -> dict[str, Any]:
    """The demo's config, the store chosen, the receiver's time-based rails compressed like the rules,
    and every action that can reach the outside pointed at the sink."""
    config = demo_config(platform, store_url=store_url)
    config["receiver"]["emergency_hold_seconds"] = 900 / compression
    config["actions"] = {
        "cooldown_seconds": 300 / compression,
        "flap_window_seconds": 3600 / compression,
        "hourly_budget": 60 * compression,
        "definitions": {
            "log": {"type": "log"},
            "scale": {"type": "scale", "url": sink.url(sink_url, "scale", "{incident_id}")},
            "cache_warm": {"type": "cache_warm", "url": sink.url(sink_url, "cache_warm", "{incident_id}", "{wedding_id}")},
            "page": {"type": "notify", "url": sink.url(sink_url, "page"), "headers": {"X-Incident": "{incident_id}"}},
        },
        "strategies": {"emergency": ["scale", "cache_warm", "page", "log"], "urgent": ["scale", "log"],
                       "standard": ["cache_warm", "log"], "log": ["log"]},
    }  # fmt: skip
    return config


@contextlib.contextmanager
def store_url(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """SQLite in the run's directory, or a fresh schema on the PostgreSQL server of --store-url."""
    if args.store_url is None:
        yield f"sqlite:///{workdir / 'wedwatch.db'}"
        return
    if not args.store_url.startswith(("postgresql://", "postgres://")):
        raise SystemExit(f"--store-url: expected postgresql://…, got {args.store_url!r} (SQLite is the default)")
    with postgres_schema(args.store_url) as url:
        yield url


async def soak(args: argparse.Namespace, workdir: Path) -> Run:
    """Start everything, run the day, settle, collect; stop everything whatever happens."""
    cancel_on_sigterm()
    run_seconds = args.minutes * 60
    now = datetime.now(UTC)
    stay = timedelta(seconds=run_seconds + args.settle + 600)
    weddings = todays_weddings(now, ceremony_offsets(args.weddings, timedelta(seconds=run_seconds)), stay=stay,
                               seed=args.seed, prefix="sat")  # fmt: skip
    sink = Sink()
    sink_runner = web.AppRunner(sink.app(), access_log=None)
    await sink_runner.setup()
    sink_port = free_port()
    await web.TCPSite(sink_runner, "127.0.0.1", sink_port).start()
    token = secrets.token_urlsafe(24)
    addr = {name: f"127.0.0.1:{free_port()}" for name in ("platform", "exporter", "receiver")}
    local: LocalStack | None = None
    try:
        with store_url(args, workdir) as url, Fleet(workdir) as fleet:
            config = soak_config(addr["platform"], sink, f"http://127.0.0.1:{sink_port}", url, args.time_compression)
            path = write_files(workdir, weddings, config, by="bench/soak.py")
            env = {**os.environ, "WEDWATCH_RECEIVER_TOKEN": token}
            fleet.start("platform", [WEDWATCH, "platform", f"--calendar.file={workdir / 'weddings.yml'}",
                                     f"--web.listen-address={addr['platform']}"], ready=f"http://{addr['platform']}/-/healthy")  # fmt: skip
            for name in ("receiver", "exporter"):
                fleet.start(name, [WEDWATCH, name, f"--config.file={path}", f"--web.listen-address={addr[name]}"],
                            env=env, ready=f"http://{addr[name]}/-/ready")  # fmt: skip
            local = local_stack(workdir / "prometheus-stack", load_config(path, environ=env).config, addr["exporter"],
                                addr["receiver"], token, prometheus_port=free_port(), alertmanager_port=free_port(),
                                time_compression=args.time_compression)  # fmt: skip
            local.write_files()
            await local.start()
            started = datetime.now(UTC)
            observed = Run(args, url, started, weddings, fault_schedule(weddings, started, run_seconds, seed=args.seed))
            await _day(observed, fleet, local, addr, run_seconds)
            observed.hits = sink.hits
            return observed
    finally:
        if local is not None:
            local.stop()
        await sink_runner.cleanup()


async def _day(run: Run, fleet: Fleet, local: LocalStack, addr: dict[str, str], run_seconds: float) -> None:
    """Faults on schedule and memory samples until the end, then settle, freeze and drain."""
    processes = {**fleet.processes, **{Path(str(p.args[0])).name: p for p in local.processes}}  # type: ignore[index]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await _until(lambda: _prometheus_up(session, local.prometheus_url), 60, "Prometheus to scrape both targets")
        start = time.monotonic()
        tasks = [asyncio.create_task(_fault(session, f"http://{addr['platform']}", f, start)) for f in run.faults]
        try:
            await _watch(run, processes, start, run_seconds)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        run.fault_errors = [str(o) for o in outcomes if isinstance(o, Exception)]
        async with session.delete(f"http://{addr['platform']}/admin/faults") as response:
            await response.read()
        for fault in run.faults:
            if fault.injected is not None and fault.removed is None:
                fault.removed = time.monotonic() - start  # cut short by the end of the run
        if not run.died:
            run.unresolved = await _settle(run, processes, start)
        run.prometheus_alerts = await _prometheus_alerts(session, local.prometheus_url, time.monotonic() - start)
        run.alertmanager = await _alertmanager_deliveries(session, local.alertmanager_url)
        _sample(run, processes, start)
        _died(run, processes, start)
        local.stop()  # no more notifications: what the receiver holds now is final once its outbox drains
        run.undrained = await drain(run.store_url, 120)
        with contextlib.suppress(aiohttp.ClientError):  # a receiver that died has no metrics: the ledger says so
            async with session.get(f"http://{addr['receiver']}/metrics") as response:
                run.receiver_metrics = await response.text()
        run.tables = await asyncio.to_thread(read_tables, run.store_url)
        run.seconds = time.monotonic() - start


async def _fault(session: aiohttp.ClientSession, platform: str, fault: Fault, start: float) -> None:
    """Inject one fault at its time, remove it after its duration."""
    await asyncio.sleep(max(0.0, start + fault.at - time.monotonic()))
    async with session.post(f"{platform}/admin/faults", json=fault.body()) as response:
        body = await response.json()
        if response.status != 201:
            raise RuntimeError(f"the platform refused fault {fault.kind.name}: {response.status} {body}")
    fault.fault_id, fault.injected = body["id"], time.monotonic() - start
    _progress(start, f"fault on  {fault.wedding_id or 'every wedding':<10} {fault.kind.name} ({fault.fault_id})")
    await asyncio.sleep(fault.seconds)
    async with session.delete(f"{platform}/admin/faults/{fault.fault_id}") as response:
        await response.read()
    fault.removed = time.monotonic() - start
    _progress(start, f"fault off {fault.wedding_id or 'every wedding':<10} {fault.kind.name}")


async def _watch(run: Run, processes: dict[str, Any], start: float, run_seconds: float) -> None:
    """Sample memory every `sample_every` seconds until the run ends; stop early when a process dies."""
    while True:
        _sample(run, processes, start)
        last = run.memory[-1]
        _progress(start, "rss MB " + ", ".join(f"{n} {v / 2**20:.0f}" for n, v in last["rss"].items()))
        if _died(run, processes, start):
            _progress(start, f"processes died: {run.died}; ending the run")
            return
        left = start + run_seconds - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(run.args.sample_every, left))


def _died(run: Run, processes: dict[str, Any], start: float) -> bool:
    """Record every process that exited on its own since the last look; True when any has."""
    for name, proc in processes.items():
        if proc.poll() is not None and name not in run.died:
            run.died[name] = f"exited with {proc.returncode} by {time.monotonic() - start:.0f}s"
    return bool(run.died)


def _sample(run: Run, processes: dict[str, Any], start: float) -> None:
    pids = {name: p.pid for name, p in processes.items()}
    run.memory.append({
        "t": round(time.monotonic() - start, 1),
        "rss": {n: rss_bytes(pid) for n, pid in pids.items()},
        "cpu": {n: _cpu_or_zero(pid) for n, pid in pids.items()},
    })  # fmt: skip


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


async def _settle(run: Run, processes: dict[str, Any], start: float) -> int:
    """Wait (at most --settle seconds, still sampling memory) until no incident fires; how many still do."""
    firing = 0
    deadline = time.monotonic() + run.args.settle
    next_sample = run.memory[-1]["t"] + run.args.sample_every
    while time.monotonic() < deadline:
        tables = await asyncio.to_thread(read_tables, run.store_url)
        firing = sum(1 for i in tables["incidents"] if i["status"] == "firing")
        if not firing:
            break
        if time.monotonic() - start >= next_sample:
            _sample(run, processes, start)
            next_sample += run.args.sample_every
        await asyncio.sleep(5)
    _progress(start, f"settled: {firing} incident(s) still firing")
    return firing


async def _until(check_: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check_():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(1)


async def _query(session: aiohttp.ClientSession, prometheus: str, promql: str) -> list[dict[str, Any]]:
    async with session.get(f"{prometheus}/api/v1/query", params={"query": promql}) as response:
        body = await response.json()
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus refused {promql!r}: {body}")
    return list(body["data"]["result"])


async def _prometheus_up(session: aiohttp.ClientSession, prometheus: str) -> bool:
    return len(await _query(session, prometheus, 'up{job=~"wedwatch-.*"} == 1')) == 2


async def _prometheus_alerts(session: aiohttp.ClientSession, prometheus: str, seconds: float) -> list[dict[str, Any]]:
    """Distinct alerts (label sets) that fired at some point of the run, by alertname and severity."""
    promql = f'count by (alertname, severity) (max_over_time(ALERTS{{alertstate="firing"}}[{int(seconds) + 1}s]))'
    rows = await _query(session, prometheus, promql)
    return [{**r["metric"], "label_sets": int(float(r["value"][1]))} for r in rows]


async def _alertmanager_deliveries(session: aiohttp.ClientSession, alertmanager: str) -> dict[str, float]:
    """Alerts Alertmanager received and webhooks it sent or failed to send, from its own metrics."""
    from _support import samples

    async with session.get(f"{alertmanager}/metrics") as response:
        text = await response.text()
    out: dict[str, float] = {}
    for name, labels, value in samples(text, "alertmanager_alerts_received_total", "alertmanager_notifications_total",
                                       "alertmanager_notifications_failed_total"):  # fmt: skip
        if name == "alertmanager_alerts_received_total":
            key = f"alerts received {labels.get('status', '')}"
            out[key] = out.get(key, 0) + value
        elif labels.get("integration") == "webhook":
            out["webhooks failed" if "failed" in name else "webhooks sent"] = value
    return out


def _progress(start: float, message: str) -> None:
    print(f"[{time.monotonic() - start:7.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the soak; exit 1 when an action was lost or duplicated or a process died."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the day, faults included (default 30)")
    parser.add_argument("--weddings", type=int, default=100)
    parser.add_argument("--store-url", help="a PostgreSQL server (postgresql://…): the run uses a fresh schema there")
    parser.add_argument("--time-compression", type=int, default=10, metavar="N", help="as `wedwatch demo` (default 10)")
    parser.add_argument(
        "--settle", type=float, default=180.0, help="seconds for alerts to resolve after the last fault"
    )
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds between memory samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="soak", help="results file name (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    workdir = RESULTS / f"{args.name}-run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        run = asyncio.run(soak(args, workdir))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM
        print("\nsoak interrupted or terminated; every process it started is stopped", file=sys.stderr)
        return 130
    counted = executions(run.receiver_metrics)
    ledger = check(run.tables, counted, run.hits, watched=WATCHED)
    return report(run, ledger, workdir)


if __name__ == "__main__":
    sys.exit(main())
