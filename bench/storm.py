"""Under a storm, the live wedding first: 12,000 `low` alerts, then one critical alert for a live wedding.

A platform-wide outage raises an alert for every tracked wedding and operation. This sends
12,000 `low` alerts (the `log` strategy: one `log` action each) for weddings months away, in
notifications of 100 from 8 concurrent senders, to a real `wedwatch receiver` (worker running) on
PostgreSQL; as soon as the storm is sent, one critical alert for the live wedding `w-live` (in
its ceremony: emergency, `scale` + `cache_warm` + `log`). It reports:

- the time from sending that alert to its first completed non-`log` action (`finished_at` of its
  first `done` row in the outbox, against the wall clock of this process: same machine);
- `log` actions drained per second: 12,000 over the time from the first storm send until the
  last of them is final;
- CPU per alert (receiver process + every PostgreSQL process), from the first send until every
  action is final: the ack and the actions together.

The actions aim at a stand-in in this process that answers 200 at once. With `--before-src DIR`
the receiver of another source tree runs the same storm first, in the same run:
    mkdir -p /tmp/before && git archive HEAD src | tar -x -C /tmp/before
    .venv/bin/python bench/storm.py --before-src /tmp/before/src

Run: .venv/bin/python bench/storm.py [--alerts 12000] [--rounds 1] [--before-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from _support import (
    WEDWATCH,
    cpu_seconds,
    free_port,
    median,
    postgres_schema,
    spawn,
    stop,
    table,
    wait_http,
    write_json,
)
from aiohttp import web
from receiver import TOKEN, _postgres_cpu

WEDDINGS = 2_000
PER_NOTIFICATION = 100
SENDERS = 8
GOAL_FIRST_ACTION_SECONDS = 5.0
GOAL_LOG_PER_SECOND = 5_000.0


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _config(workdir: Path, store_url: str, stand_in: str) -> Path:
    now = datetime.now(UTC)
    far = (now + timedelta(days=90)).strftime("%Y-%m-%dT14:00")
    weddings = [{"id": "w-live", "ceremony_at": now.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC", "guests": 150, "vendors": 8}]
    weddings += [
        {"id": f"w-{i:04d}", "ceremony_at": far, "timezone": "UTC", "guests": 120, "vendors": 8} for i in range(WEDDINGS)
    ]
    (workdir / "weddings.json").write_text(json.dumps({"weddings": weddings}))
    config = {
        "platform": {"base_url": stand_in},
        "calendar": {"file": "weddings.json"},
        "store": {"url": store_url},
        "receiver": {"auth": {"bearer_token": TOKEN}},
        "actions": {
            "hourly_budget": 1_000_000,
            "cooldown_seconds": 0,
            "definitions": {
                "scale": {"type": "scale", "url": f"{stand_in}/scale"},
                "cache_warm": {"type": "cache_warm", "url": f"{stand_in}/warm"},
            },
            "strategies": {
                "emergency": ["scale", "cache_warm", "log"], "urgent": ["scale", "log"],
                "standard": ["cache_warm", "log"], "log": ["log"],
            },  # fmt: skip
        },
    }
    path = workdir / "wedwatch.json"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _notification(alerts: list[dict[str, Any]], group: str) -> bytes:
    body = {
        "receiver": "wedwatch", "status": "firing", "alerts": alerts, "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "version": "4",
        "groupKey": group, "truncatedAlerts": 0,
    }  # fmt: skip
    return json.dumps(body, separators=(",", ":")).encode()


def _alert(fingerprint: str, labels: dict[str, str], started: datetime) -> dict[str, Any]:
    return {
        "status": "firing", "labels": labels, "annotations": {"summary": "platform-wide slowdown"},
        "startsAt": _z(started), "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fingerprint,
    }  # fmt: skip


def _storm(alerts: int, run: str) -> list[bytes]:
    started = datetime.now(UTC) - timedelta(minutes=1)
    operations = ("guest_list", "photo_upload", "timeline_sync", "vendor_notification", "mobile", "checkout")
    items = [
        _alert(f"{run}-{i:05x}", {"alertname": "WeddingOperationSlow", "severity": "low", "instance": f"i{i}",
                                  "wedding_id": f"w-{i % WEDDINGS:04d}", "operation": operations[i % len(operations)]},
               started)
        for i in range(alerts)
    ]  # fmt: skip
    return [
        _notification(items[i : i + PER_NOTIFICATION], f"storm-{run}-{i}") for i in range(0, alerts, PER_NOTIFICATION)
    ]


async def _stand_in() -> tuple[web.AppRunner, str]:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def _query(conn: psycopg.Connection[Any], storm: int) -> tuple[int, datetime | None, int]:
    """(final `log` rows, the live wedding's first completed non-log action, rows not final)."""
    row = conn.execute(
        "SELECT"
        " (SELECT count(*) FROM action_outbox WHERE action = 'log' AND status IN ('done', 'skipped', 'failed')),"
        " (SELECT min(o.finished_at) FROM action_outbox o JOIN performance_alerts p ON p.id = o.incident_id"
        "  WHERE p.wedding_id = 'w-live' AND o.action <> 'log' AND o.status = 'done'),"
        " (SELECT count(*) FROM action_outbox WHERE status IN ('pending', 'running'))"
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1], int(row[2])


async def one(label: str, alerts: int, workdir: Path, before_src: str | None) -> dict[str, Any]:
    """One storm against a fresh receiver on a fresh schema."""
    runner, stand_in = await _stand_in()
    port = free_port()
    run = f"{label}{time.time_ns():x}"
    bodies = _storm(alerts, run)
    critical = _notification(
        [_alert(f"{run}-live", {"alertname": "GuestListSlow", "severity": "critical", "wedding_id": "w-live",
                                "operation": "guest_list", "instance": "live"}, datetime.now(UTC))],
        f"live-{run}",
    )  # fmt: skip
    try:
        with postgres_schema() as store_url:
            config = _config(workdir, store_url, stand_in)
            env = {**os.environ, "PYTHONPATH": str(Path(before_src).resolve())} if before_src else None
            proc = spawn([WEDWATCH, "receiver", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
                         log=workdir / f"{label}.log", cwd=workdir, env=env)  # fmt: skip
            try:
                wait_http(f"http://127.0.0.1:{port}/-/ready", proc=proc)
                return await _measure(f"http://127.0.0.1:{port}/alerts", proc.pid, store_url, bodies, critical, alerts)
            finally:
                stop(proc)
    finally:
        await runner.cleanup()


async def _measure(
    url: str, pid: int, store_url: str, bodies: list[bytes], critical: bytes, alerts: int
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    queue = list(reversed(bodies))
    errors = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def sender() -> None:
            nonlocal errors
            while queue:
                body = queue.pop()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    errors += response.status != 200

        cpu0, pg0, t0 = cpu_seconds(pid), _postgres_cpu(), time.time()
        await asyncio.gather(*(sender() for _ in range(SENDERS)))
        storm_acked = time.time()
        sent = datetime.now(UTC)
        async with session.post(url, data=critical, headers=headers) as response:
            await response.read()
            errors += response.status != 200
    first: datetime | None = None
    logs_final_at: float | None = None
    with psycopg.connect(store_url, autocommit=True) as conn:
        deadline = time.time() + 300
        while time.time() < deadline:
            logs, first, open_rows = _query(conn, alerts)
            if logs >= alerts and logs_final_at is None:
                logs_final_at = time.time()
            if logs_final_at is not None and first is not None and open_rows == 0:
                break
            await asyncio.sleep(0.2)  # light: the count reads the table while the storm writes it
    done_at = time.time()
    cpu, pg = cpu_seconds(pid) - cpu0, _postgres_cpu() - pg0
    drain = (logs_final_at or done_at) - t0
    return {
        "alerts": alerts + 1,
        "errors": errors,
        "storm_ack_seconds": storm_acked - t0,
        "storm_alerts_per_second": alerts / (storm_acked - t0),
        "first_action_seconds": (first - sent).total_seconds() if first else float("nan"),
        "log_actions_per_second": alerts / drain,
        "receiver_cpu_ms_per_alert": cpu / (alerts + 1) * 1000,
        "postgres_cpu_ms_per_alert": pg / (alerts + 1) * 1000,
        "cpu_ms_per_alert": (cpu + pg) / (alerts + 1) * 1000,
    }


async def run(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """`rounds` storms per receiver (the other tree's first, when given)."""
    found: dict[str, list[dict[str, Any]]] = {}
    labels = (["before"] if args.before_src else []) + ["receiver"]
    with tempfile.TemporaryDirectory(prefix="wedwatch-bench-storm-") as tmp:
        for r in range(args.rounds):
            for label in labels:
                m = await one(label, args.alerts, Path(tmp), args.before_src if label == "before" else None)
                found.setdefault(label, []).append(m)
                print(f"round {r + 1}/{args.rounds} {label:8} " + " ".join(f"{k} {v:.4g}" for k, v in m.items()),
                      file=sys.stderr, flush=True)  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the storm, print the table, write bench/results/<name>.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=12_000, help="low alerts in the storm")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--name", default="storm", help="results file name (bench/results/NAME.json)")
    parser.add_argument("--before-src", metavar="DIR", help="also run the receiver from DIR (a src/ tree)")
    args = parser.parse_args(argv)
    found = asyncio.run(run(args))
    keys = ["first_action_seconds", "log_actions_per_second", "storm_alerts_per_second", "cpu_ms_per_alert",
            "receiver_cpu_ms_per_alert", "postgres_cpu_ms_per_alert", "errors"]  # fmt: skip
    medians = {label: {k: median([m[k] for m in runs]) for k in keys} for label, runs in found.items()}
    rows = [[label, *(round(m[k], 3) for k in keys)] for label, m in medians.items()]
    headers = ["receiver", "live first action s", "log actions/s", "storm alerts/s", "cpu ms/alert (all)",
               "receiver cpu ms/alert", "postgres cpu ms/alert", "errors"]  # fmt: skip
    print(table(headers, rows, title=f"Storm of {args.alerts:,} low alerts then one live critical, PostgreSQL, median of {args.rounds}"))
    got = medians["receiver"]
    ok = got["first_action_seconds"] <= GOAL_FIRST_ACTION_SECONDS and got["log_actions_per_second"] >= GOAL_LOG_PER_SECOND
    print(f"\nGoals: first action <= {GOAL_FIRST_ACTION_SECONDS:g} s, >= {GOAL_LOG_PER_SECOND:,.0f} log actions/s: {ok}")
    path = write_json(args.name, {"settings": vars(args), "median": medians, "rounds": found, "goals_ok": ok})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
