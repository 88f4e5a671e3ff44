"""Receiver ingest: alerts per second and ack latency of `wedwatch receiver`, beside two ceilings.

Every server runs as its own process on a free loopback port; the load comes from this process
(aiohttp, keep-alive, pre-built bodies whose fingerprints are unique per notification, so that
every notification is new and every alert opens an incident):

- `receiver`: the real `wedwatch receiver` (Bearer auth, worker running, every strategy mapped to
  the `log` action: each alert records one `log` action, done at decision time since issue 16;
  an older tree's worker claims, logs and finishes it), on SQLite (WAL, synchronous=FULL) and on
  PostgreSQL (synchronous_commit on). A fresh database and a fresh process for every measurement,
  so no backlog carries over. After each load the receiver is left to finish every acked alert's
  action: actions drained per second and CPU per alert (receiver, and receiver + PostgreSQL) from
  the first notification until the last action, the deferred work included.
- `parse`: the ceiling for the HTTP and validation work: an aiohttp handler that parses and
  validates the body with the receiver's own models and answers 200.
- `insert`: the ceiling for durable storage: the same, plus one row per alert inserted into one
  table in one transaction (sqlite3 executemany in a thread / psycopg executemany).

Modes: `sat100` and `sat1`, saturation with several concurrent senders and notifications of
100 or of 1 alert; `paced1`, 100 notifications of 1 alert per second, open loop (latency counts
from the scheduled send, so a stall is not hidden). Acks are HTTP 200s; anything else is counted
as an error. CPU is the server process's own (utime + stime from /proc), per 1,000 alerts.

Compare within one run (the machine is noisy: 2 vCPUs give about one core, and the load
generator and PostgreSQL share it). Prints tables; writes bench/results/receiver.json.

With `--before-src DIR` the receiver of another source tree runs too (target `before`, same
interpreter, PYTHONPATH=DIR), so that a change is compared within one run:
    mkdir -p /tmp/before && git archive HEAD src | tar -x -C /tmp/before
    .venv/bin/python bench/receiver.py --before-src /tmp/before/src

Run: .venv/bin/python bench/receiver.py [--rounds 3] [--window 8] [--stores sqlite,postgres]
     [--targets receiver,parse,insert] [--modes sat100,sat1,paced1] [--before-src DIR]
     [--profile DIR]   (py-spy on the receiver, perf on PostgreSQL: bench/_profile.py)
     [--drain-timeout 0]   (ack figures only: no wait for the actions after each load)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _profile import Profiler, summarize
from _support import (
    PYTHON,
    WEDWATCH,
    cpu_seconds,
    free_port,
    median,
    percentile,
    postgres_schema,
    spawn,
    stop,
    table,
    wait_http,
    write_json,
)

TOKEN = "bench-receiver-token"
WEDDINGS = 50
PACED_RATE = 100.0
MODES: dict[str, tuple[int, int, float]] = {
    # name: (alerts per notification, concurrent senders, pace in notifications/s; 0 = saturate)
    "sat100": (100, 8, 0.0),
    "sat1": (1, 16, 0.0),
    "paced1": (1, 0, PACED_RATE),
}
TARGETS = ("receiver", "parse", "insert")
STORES = ("sqlite", "postgres")
GOAL_ALERTS_PER_SECOND = 10_000
GOAL_CEILING_RATIO = 0.40
GOAL_P99_MS = 10.0


# --- payloads ------------------------------------------------------------------------------------


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Bodies:
    """Version-4 notifications of `alerts` alerts; every call returns one never sent before."""

    MARK = "@@N@@"

    def __init__(self, alerts: int) -> None:
        started = datetime.now(UTC) - timedelta(minutes=2)
        operations = ("guest_list", "photo_upload", "timeline_sync", "vendor_notification", "mobile")
        severities = ("high", "medium", "low")
        items = []
        for i in range(alerts):
            wedding = f"w-{i % WEDDINGS:03d}"
            operation = operations[i % len(operations)]
            labels = {
                "alertname": "WeddingOperationSlow",
                "env": "bench",
                "instance": "127.0.0.1:9839",
                "job": "wedwatch-exporter",
                "operation": operation,
                "severity": severities[i % len(severities)],
                "wedding_id": wedding,
            }
            items.append(
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {
                        "summary": f"{operation} is slow for wedding {wedding}",
                        "description": f"p95 of {operation} above its threshold for 5m (value 2.7).",
                        "runbook_url": f"https://example.invalid/runbooks/{operation}",
                    },
                    "startsAt": _z(started),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=wedwatch_operation_duration_seconds",
                    "fingerprint": f"{self.MARK}{i:04x}",
                }
            )
        body = {
            "receiver": "wedwatch",
            "status": "firing",
            "alerts": items,
            "groupLabels": {"alertname": "WeddingOperationSlow"},
            "commonLabels": {"alertname": "WeddingOperationSlow", "env": "bench"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "version": "4",
            "groupKey": '{}:{alertname="WeddingOperationSlow", batch="' + self.MARK + '"}',
            "truncatedAlerts": 0,
        }
        self.alerts = alerts
        self._parts = json.dumps(body, separators=(",", ":")).encode().split(self.MARK.encode())
        self._run = secrets.token_hex(4)
        self._n = 0

    def __call__(self) -> bytes:
        self._n += 1
        mark = f"{self._run}{self._n:08x}".encode()
        return mark.join(self._parts)


# --- load generation -----------------------------------------------------------------------------


@dataclass
class Sample:
    """One request: when it started (or was scheduled), when it ended, its status."""

    start: float
    end: float
    status: int
    alerts: int


@dataclass
class Measurement:
    """One mode against one server."""

    target: str
    mode: str
    alerts_per_second: float
    notifications_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_per_1k_alerts: float
    server_cpu_ratio: float
    postgres_cpu_ratio: float
    loadgen_cpu_ratio: float
    system_busy_ratio: float
    extra: dict[str, Any] = field(default_factory=dict)


def _postgres_pids() -> list[int]:
    """Every PostgreSQL server process (the server is shared: other work counts too)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        if raw[raw.index("(") + 1 : raw.rindex(")")] == "postgres":
            pids.append(int(stat.parent.name))
    return pids


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process so far."""
    total = 0.0
    for pid in _postgres_pids():
        try:
            total += cpu_seconds(pid)
        except OSError:  # it exited meanwhile (another cluster's backend)
            continue
    return total


def _system_busy() -> tuple[float, float]:
    fields_ = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields_[3] + fields_[4]
    return float(sum(fields_) - idle), float(sum(fields_))


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def _deliver(
    session: aiohttp.ClientSession, urls: Sequence[str], n: int, body: bytes, every_replica: bool
) -> int:
    """Notification `n` to one replica in turn, or to every replica at once (as both halves of an HA
    Alertmanager pair send it); 200 only when every replica acked, 0 for a connection error."""
    targets = urls if every_replica else [urls[n % len(urls)]]
    try:
        statuses = await asyncio.gather(*(_post(session, url, body) for url in targets))
    except aiohttp.ClientError:
        return 0
    return next((s for s in statuses if s != 200), 200)


async def load(
    urls: Sequence[str], pids: Sequence[int], mode: str, *, warmup: float, window: float, target: str,
    every_replica: bool = False, on_window: Callable[[float], None] | None = None,
) -> Measurement:  # fmt: skip
    """Drive the servers at `urls` (whose processes are `pids`) for warmup + window seconds; measure the window.

    Notifications go to one server in turn, or with `every_replica` to all of them (latency is then
    until the last ack, and each notification's alerts count once). `on_window(seconds)` is called
    as the window starts (bench/_profile.py starts its samplers there).
    """
    alerts, senders, rate = MODES[mode]
    make = Bodies(alerts)
    samples: list[Sample] = []
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    sent = itertools.count()

    def servers_cpu() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    begun = (time.monotonic(), servers_cpu(), _postgres_cpu())  # the drain (`drained`) counts from here
    warm = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for _ in range(3):  # connections up, code paths warm
            warm += alerts if await _deliver(session, urls, 0, make(), True) == 200 else 0
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        w0, w1 = t0 + warmup, t0 + warmup + window
        marks: dict[str, Any] = {}

        async def at_window_start() -> None:
            await asyncio.sleep(max(0.0, w0 - loop.time()))
            marks["cpu0"], marks["sys0"], marks["pg0"] = servers_cpu(), _system_busy(), _postgres_cpu()
            marks["own0"] = time.process_time()
            if on_window is not None:
                on_window(window)

        async def at_window_end() -> None:
            await asyncio.sleep(max(0.0, w1 - loop.time()))
            marks["cpu1"], marks["sys1"], marks["pg1"] = servers_cpu(), _system_busy(), _postgres_cpu()
            marks["own1"] = time.process_time()

        async def sender() -> None:
            while loop.time() < w1:
                body = make()
                start = loop.time()
                status = await _deliver(session, urls, next(sent), body, every_replica)
                samples.append(Sample(start, loop.time(), status, alerts))

        async def one(scheduled: float) -> None:
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            body = make()
            status = await _deliver(session, urls, next(sent), body, every_replica)
            samples.append(Sample(scheduled, loop.time(), status, alerts))

        watchers = [asyncio.create_task(at_window_start()), asyncio.create_task(at_window_end())]
        if rate > 0:
            count = int((warmup + window) * rate)
            await asyncio.gather(*(one(t0 + i / rate) for i in range(count)))
        else:
            await asyncio.gather(*(sender() for _ in range(senders)))
        await asyncio.gather(*watchers)

    ok = [s for s in samples if s.status == 200 and w0 <= s.end < w1]
    started = sorted((s.end - s.start) * 1000 for s in samples if s.status == 200 and w0 <= s.start < w1)
    errors = sum(1 for s in samples if s.status != 200 and s.start >= w0)
    acked = sum(s.alerts for s in ok)
    cpu = marks["cpu1"] - marks["cpu0"]
    busy = (marks["sys1"][0] - marks["sys0"][0]) / max(1.0, marks["sys1"][1] - marks["sys0"][1])
    return Measurement(
        target=target,
        mode=mode,
        alerts_per_second=acked / window,
        notifications_per_second=len(ok) / window,
        p50_ms=percentile(started, 50),
        p99_ms=percentile(started, 99),
        errors=errors,
        cpu_per_1k_alerts=cpu / acked * 1000 if acked else float("nan"),
        server_cpu_ratio=cpu / window,
        postgres_cpu_ratio=(marks["pg1"] - marks["pg0"]) / window,
        loadgen_cpu_ratio=(marks["own1"] - marks["own0"]) / window,
        system_busy_ratio=busy,
        extra={"begun": begun, "acked_total": warm + sum(s.alerts for s in samples if s.status == 200)},
    )


def drained(m: Measurement, port: int, pids: Sequence[int], *, timeout: float = 300.0) -> dict[str, float]:
    """Once the load stopped, wait until the receiver finished an action per acked alert (every
    strategy maps to `log`): actions per second and CPU per alert (receiver + PostgreSQL) from the
    first notification until the last action was finished, so the deferred work counts too."""
    started, cpu0, pg0 = m.extra.pop("begun")
    acked = m.extra["acked_total"]
    deadline = time.monotonic() + timeout
    done = _actions_done(port)["actions_done"]
    while done < acked and time.monotonic() < deadline:
        time.sleep(0.1)
        done = _actions_done(port)["actions_done"]
    seconds = time.monotonic() - started
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu0
    pg = _postgres_cpu() - pg0
    return {
        "actions_per_second": done / seconds,
        "drain_seconds": seconds,
        "cpu_ms_per_alert_with_actions": (cpu + pg) / acked * 1000 if acked else float("nan"),
        "receiver_cpu_ms_per_alert_with_actions": cpu / acked * 1000 if acked else float("nan"),
    }


# --- servers -------------------------------------------------------------------------------------


def _receiver_config(workdir: Path, store_url: str) -> Path:
    """Bearer auth, a calendar of weddings months away (none live), every strategy -> `log`."""
    ceremony = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT14:00")
    weddings = [
        {"id": f"w-{i:03d}", "ceremony_at": ceremony, "timezone": "Europe/London", "guests": 120, "vendors": 8}
        for i in range(WEDDINGS)
    ]
    (workdir / "weddings.json").write_text(json.dumps({"weddings": weddings}))
    config = {
        "platform": {"base_url": "http://127.0.0.1:9"},
        "calendar": {"file": "weddings.json"},
        "store": {"url": store_url},
        "receiver": {"auth": {"bearer_token": TOKEN}},
        "actions": {
            "hourly_budget": 1_000_000,
            "cooldown_seconds": 0,
            "strategies": {"emergency": ["log"], "urgent": ["log"], "standard": ["log"], "log": ["log"]},
        },
    }
    path = workdir / "wedwatch.json"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@contextmanager
def server(
    target: str, store: str, workdir: Path, *, before_src: str | None = None
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Start one server process on a fresh database; yields (alerts URL, pid, facts).

    `before`: the receiver from another source tree (`--before-src`, e.g. `git archive HEAD src`),
    run by the same interpreter and entry point, so that a change is measured in one run.
    """
    port = free_port()
    facts: dict[str, Any] = {}
    env = None
    with postgres_schema() if store == "postgres" else _sqlite_url(workdir) as store_url:
        if target in ("receiver", "before"):
            config = _receiver_config(workdir, store_url)
            args = [WEDWATCH, "receiver", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
            if target == "before":
                env = {**os.environ, "PYTHONPATH": str(Path(before_src or ".").resolve())}
        else:
            args = [PYTHON, str(Path(__file__).resolve()), "serve-ceiling", target, str(port), store_url]
        log = workdir / f"{target}-{store}.log"
        proc = spawn(args, log=log, cwd=workdir, env=env)
        try:
            wait_http(f"http://127.0.0.1:{port}/-/ready", proc=proc)
            yield f"http://127.0.0.1:{port}/alerts", proc.pid, facts
            if target in ("receiver", "before"):
                facts.update(_actions_done(port))
        finally:
            stop(proc)


@contextmanager
def _sqlite_url(workdir: Path) -> Iterator[str]:
    path = workdir / f"bench-{secrets.token_hex(4)}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _actions_done(port: int) -> dict[str, Any]:
    """Actions the worker completed since the receiver started (warm-up and window), from its metrics."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    done = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("wedwatch_actions_total{") and 'outcome="succeeded"' in line
    )
    return {"actions_done": done}


# --- the ceilings (run as `receiver.py serve-ceiling KIND PORT STORE_URL`) ------------------------


def serve_ceiling(kind: str, port: int, store_url: str) -> None:
    """Parse-only or parse+insert, with the receiver's own payload models."""
    from aiohttp import web

    from wedwatch.receiver.payload import PayloadError, parse_notification

    insert: Callable[[list[tuple[str, str, str, str]]], Any] | None = None
    cleanup: list[Callable[[], Any]] = []
    if kind == "insert" and store_url.startswith("sqlite:///"):
        insert = _sqlite_inserter(store_url.removeprefix("sqlite:///"), cleanup)
    elif kind == "insert":
        insert = _postgres_inserter(store_url, cleanup)

    async def alerts(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            notification, _raw = parse_notification(body)
        except PayloadError as exc:
            return web.json_response({"status": "error", "error": str(exc)}, status=400)
        if insert is not None:
            rows = [
                (a.fingerprint, a.startsAt.isoformat(), a.status, json.dumps(a.labels, separators=(",", ":")))
                for a in notification.alerts
            ]
            await insert(rows)
        return web.json_response({"status": "accepted"})

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="Ready.\n")

    async def on_cleanup(app: web.Application) -> None:
        for fn in cleanup:
            result = fn()
            if asyncio.iscoroutine(result):
                await result

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/alerts", alerts)
    app.router.add_get("/-/ready", ready)
    app.on_cleanup.append(on_cleanup)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _sqlite_inserter(path: str, cleanup: list[Callable[[], Any]]) -> Callable[[list[tuple[str, str, str, str]]], Any]:
    from concurrent.futures import ThreadPoolExecutor

    executor = ThreadPoolExecutor(max_workers=1)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE bench_alerts (id INTEGER PRIMARY KEY, fingerprint TEXT, starts_at TEXT, status TEXT, labels TEXT)")

    def write(rows: list[tuple[str, str, str, str]]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO bench_alerts (fingerprint, starts_at, status, labels) VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")

    async def insert(rows: list[tuple[str, str, str, str]]) -> None:
        await asyncio.wrap_future(executor.submit(write, rows))

    cleanup.append(conn.close)
    return insert


def _postgres_inserter(url: str, cleanup: list[Callable[[], Any]]) -> Callable[[list[tuple[str, str, str, str]]], Any]:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_alerts (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "fingerprint TEXT, starts_at TIMESTAMPTZ, status TEXT, labels JSONB)"
        )
    pool = AsyncConnectionPool(url, min_size=1, max_size=10, open=False, kwargs={"autocommit": True})
    opened = False

    async def insert(rows: list[tuple[str, str, str, str]]) -> None:
        nonlocal opened
        if not opened:
            await pool.open(wait=True)
            opened = True
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO bench_alerts (fingerprint, starts_at, status, labels) VALUES (%s, %s, %s, %s::jsonb)", rows
            )

    cleanup.append(pool.close)
    return insert


# --- orchestration -------------------------------------------------------------------------------


def _label(target: str, store: str) -> str:
    return target if target == "parse" else f"{target}/{store}"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every (target, store, mode), `rounds` times interleaved; the median of each."""
    targets = [t for t in args.targets.split(",") if t]
    if args.before_src and "before" not in targets:
        targets.insert(targets.index("receiver") + 1 if "receiver" in targets else 0, "before")
    stores = [s for s in args.stores.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    plan = [(t, s) for t in targets for s in (stores if t != "parse" else stores[:1])]
    found: dict[tuple[str, str], list[Measurement]] = {}
    profiler = Profiler(Path(args.profile)) if args.profile else None
    with tempfile.TemporaryDirectory(prefix="wedwatch-bench-receiver-") as tmp:
        workdir = Path(tmp)
        for r in range(args.rounds):
            for target, store in plan:
                label = _label(target, store)
                for mode in modes:
                    name = f"{label.replace('/', '-')}-{mode}-r{r + 1}"
                    with server(target, store, workdir, before_src=args.before_src) as (url, pid, facts):
                        on_window = _profiling(profiler, name, store, target, mode, pid)
                        m = await load([url], [pid], mode, warmup=args.warmup, window=args.window, target=label,
                                       on_window=on_window)  # fmt: skip
                        if profiler is not None and on_window is not None:
                            profiler.finish()  # before the server stops: py-spy writes nothing for a vanished process
                        if target in ("receiver", "before") and args.drain_timeout > 0:
                            port = int(url.rsplit(":", 1)[1].split("/")[0])
                            m.extra.update(drained(m, port, [pid], timeout=args.drain_timeout))
                        m.extra.pop("begun", None)
                    if profiler is not None and on_window is not None:
                        summarize(profiler.outdir, name)
                    m.extra.update(facts)
                    found.setdefault((label, mode), []).append(m)
                    print(
                        f"round {r + 1}/{args.rounds} {label:18} {mode:7} {m.alerts_per_second:9,.0f} alerts/s "
                        f"p50 {m.p50_ms:6.2f} ms p99 {m.p99_ms:7.2f} ms errors {m.errors} "
                        f"cpu {m.server_cpu_ratio:.2f} pg {m.postgres_cpu_ratio:.2f} busy {m.system_busy_ratio:.2f}",
                        file=sys.stderr,
                        flush=True,
                    )
    return {"plan": [list(p) for p in plan], "modes": modes, "runs": found}


def _profiling(
    profiler: Profiler | None, name: str, store: str, target: str, mode: str, pid: int
) -> Callable[[float], None] | None:
    """With --profile: what starts the samplers on a wedwatch receiver's saturated window."""
    if profiler is None or target not in ("receiver", "before") or MODES[mode][2] > 0:
        return None

    def start(seconds: float) -> None:
        profiler.start(name, pid, seconds, _postgres_pids() if store == "postgres" else [])

    return start


def _median_of(runs: list[Measurement]) -> Measurement:
    def mid(get: Callable[[Measurement], float]) -> float:
        return median([get(m) for m in runs])

    first = runs[0]
    return Measurement(
        target=first.target,
        mode=first.mode,
        alerts_per_second=mid(lambda m: m.alerts_per_second),
        notifications_per_second=mid(lambda m: m.notifications_per_second),
        p50_ms=mid(lambda m: m.p50_ms),
        p99_ms=mid(lambda m: m.p99_ms),
        errors=sum(m.errors for m in runs),
        cpu_per_1k_alerts=mid(lambda m: m.cpu_per_1k_alerts),
        server_cpu_ratio=mid(lambda m: m.server_cpu_ratio),
        postgres_cpu_ratio=mid(lambda m: m.postgres_cpu_ratio),
        loadgen_cpu_ratio=mid(lambda m: m.loadgen_cpu_ratio),
        system_busy_ratio=mid(lambda m: m.system_busy_ratio),
        extra={k: median([float(m.extra.get(k, 0.0)) for m in runs]) for k in _DRAIN_KEYS if k in first.extra},
    )


_DRAIN_KEYS = ("actions_done", "actions_per_second", "cpu_ms_per_alert_with_actions", "receiver_cpu_ms_per_alert_with_actions")


def report(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Print the tables and the goals; return the JSON document."""
    runs: dict[tuple[str, str], list[Measurement]] = result["runs"]
    medians = {key: _median_of(value) for key, value in runs.items()}
    rows = [
        [
            m.target, m.mode, round(m.alerts_per_second), round(m.notifications_per_second, 1),
            round(m.p50_ms, 2), round(m.p99_ms, 2), m.errors, round(m.cpu_per_1k_alerts, 3),
            round(m.server_cpu_ratio, 2), round(m.postgres_cpu_ratio, 2), round(m.loadgen_cpu_ratio, 2),
            round(m.system_busy_ratio, 2),
        ]
        for m in medians.values()
    ]  # fmt: skip
    headers = [
        "server", "mode", "alerts/s", "notif/s", "p50 ms", "p99 ms", "errors", "cpu s/1k alerts",
        "server cpu", "postgres cpu", "load cpu", "machine busy",
    ]  # fmt: skip
    print(table(headers, rows, title=f"Receiver ingest, median of {args.rounds} round(s) of {args.window:g} s"))
    drains = [
        [m.target, m.mode, round(m.alerts_per_second), round(m.extra["actions_per_second"]),
         round(m.cpu_per_1k_alerts, 3), round(m.extra["receiver_cpu_ms_per_alert_with_actions"], 3),
         round(m.extra["cpu_ms_per_alert_with_actions"], 3)]
        for m in medians.values() if "actions_per_second" in m.extra
    ]  # fmt: skip
    if drains:
        headers = ["server", "mode", "alerts/s", "actions drained/s", "cpu s/1k alerts (ack)",
                   "receiver cpu ms/alert (+actions)", "receiver+pg cpu ms/alert (+actions)"]  # fmt: skip
        print(table(headers, drains, title="Actions: from the first notification until every acked alert's action was finished"))

    ratios = []
    goals: dict[str, Any] = {}
    for store in [s for s in args.stores.split(",") if s]:
        for mode in ("sat100", "sat1"):
            got = medians.get((f"receiver/{store}", mode))
            insert = medians.get((f"insert/{store}", mode))
            parse = medians.get(("parse", mode))
            if got is None:
                continue
            vs_insert = got.alerts_per_second / insert.alerts_per_second if insert else float("nan")
            vs_parse = got.alerts_per_second / parse.alerts_per_second if parse else float("nan")
            before = medians.get((f"before/{store}", mode))
            vs_before = got.alerts_per_second / before.alerts_per_second if before else float("nan")
            ratios.append(
                [f"receiver/{store}", mode, round(got.alerts_per_second), round(vs_insert, 3), round(vs_parse, 3),
                 round(vs_before, 2)]
            )  # fmt: skip
            if store == "postgres" and mode == "sat100":
                goals["postgres_sat100_alerts_per_second"] = got.alerts_per_second
                goals["postgres_sat100_vs_insert"] = vs_insert
                goals["postgres_sat100_ok"] = got.alerts_per_second >= GOAL_ALERTS_PER_SECOND and vs_insert >= GOAL_CEILING_RATIO
        paced = medians.get((f"receiver/{store}", "paced1"))
        if paced is not None:
            goals[f"{store}_paced1_p99_ms"] = paced.p99_ms
            goals[f"{store}_paced1_ok"] = paced.p99_ms <= GOAL_P99_MS and paced.errors == 0
    if ratios:
        headers = ["server", "mode", "alerts/s", "÷ insert ceiling", "÷ parse ceiling", "÷ before"]
        print(table(headers, ratios, title="Within-run ratios"))
    if goals:
        print(
            f"\nGoals: >= {GOAL_ALERTS_PER_SECOND:,} alerts/s and >= {GOAL_CEILING_RATIO:.0%} of the insert ceiling "
            f"on PostgreSQL with 100-alert notifications; p99 ack <= {GOAL_P99_MS:g} ms at {PACED_RATE:g} notifications/s."
        )
        for key, value in goals.items():
            print(f"  {key}: {value:.3g}" if isinstance(value, float) else f"  {key}: {value}")
    return {
        "settings": {
            "rounds": args.rounds, "warmup_seconds": args.warmup, "window_seconds": args.window,
            "modes": {name: {"alerts": a, "senders": c, "rate": r} for name, (a, c, r) in MODES.items()},
            "weddings": WEDDINGS, "worker": "running, every strategy mapped to the log action",
        },  # fmt: skip
        "median": [vars(m) for m in medians.values()],
        "rounds": {f"{k[0]} {k[1]}": [vars(m) for m in v] for k, v in runs.items()},
        "goals": goals,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, write bench/results/<name>.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--name", default="receiver", help="results file name (bench/results/NAME.json)")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=300.0,
        help="seconds to wait after each load for the acked alerts' actions (default 300; 0: the ack figures only, "
        "no drain: for comparing two trees whose workers both defer the actions)",
    )
    parser.add_argument(
        "--before-src",
        metavar="DIR",
        help="also run target `before`: the receiver from DIR (a src/ tree, e.g. from `git archive HEAD src`)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="profile the receiver's saturated windows (py-spy; perf on PostgreSQL when installed) into DIR and print the top functions",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    document = report(result, args)
    path = write_json(args.name, document)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve-ceiling":
        serve_ceiling(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(main())
