"""Retention over 60 simulated days of a 50,000-wedding calendar (issue 19): the database stops growing once the
retention windows are full, and on PostgreSQL whole day partitions are dropped.

Each simulated day D writes, through the store's own methods (as the exporter and the receiver do), the rows
that day produces, with their times in day D, then runs one retention pass (store/pruning.py) at D+1 06:00 UTC,
as a receiver's schedule would at that hour, and measures rows and bytes per table (`store stats`).

The calendar is 50,000 weddings, ceremonies over a year (Saturdays first), and each day's phases and tracked set
(the 2,000 nearest in tracked phases) come from calendar.plan at noon. What each day writes:

- **probe aggregates of untracked weddings**: in full, one row per phase, operation and 5-minute bucket (their
  volume depends on the phases and operations, not on the number of weddings: ~3,500 rows a day);
- **probe aggregates of tracked weddings** (one row per wedding, operation and bucket: 1,728 a day each) and
  their **critical-path samples** (one a minute, one per probe in `after`): for every SAMPLE-th tracked wedding
  (default 50) in ceremony order, i.e. at 1:50 of the ~3.3 million and ~1.3 million rows a day that the ~1,900
  tracked weddings of a full 50,000-wedding calendar write;
- **notifications**: NOTIFICATIONS a day (default 1,000), webhook bodies of 1 to 5 alerts (~1-4 KB).

The windows are the defaults for notifications (30 days) and untracked aggregates (14), and 30 days (not 90)
for tracked aggregates and critical-path samples, so that a 60-day run reaches every window and shows the
plateau for its last 30 days (`--tracked-days 90 --days 120` for the default windows; twice as long).

Run: .venv/bin/python bench/retention.py [--stores postgres,sqlite] [--days 60] [--sample 100]
Writes bench/results/retention.json. ~4 min on PostgreSQL, ~3 min on SQLite on a 2-vCPU machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _support import postgres_schema, table, write_json

from wedwatch.calendar import Wedding, plan
from wedwatch.config import Config, Phase
from wedwatch.config.retention import RetentionConfig
from wedwatch.store import CriticalPathSample, ProbeAggregate, Store, open_store_ctx, untracked_wedding_id
from wedwatch.store.pruning import prune

OPERATIONS = ("guest_list", "photo_upload", "timeline_sync", "vendor_notification", "mobile", "critical_path")
BUCKET = 300
BUCKETS = 86_400 // BUCKET
START = date(2030, 1, 7)  # a Monday; any date works
TABLES = ("wedding_performance_metrics", "critical_path_metrics", "notifications")
ZONES = ("Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Australia/Sydney")
CHUNK = 5_000


@dataclass
class DayPlan:
    """What one simulated day writes."""

    day: date
    aggregates: list[ProbeAggregate] = field(default_factory=list)
    samples: list[CriticalPathSample] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    tracked: int = 0
    sampled: int = 0


def calendar(weddings: int, seed: int) -> list[Wedding]:
    """`weddings` ceremonies from 30 days before START over a year, half of them on Saturdays, afternoons local."""
    rng = random.Random(seed)
    first = START - timedelta(days=30)
    saturdays = [first + timedelta(days=d) for d in range(365) if (first + timedelta(days=d)).weekday() == 5]
    others = [first + timedelta(days=d) for d in range(365) if (first + timedelta(days=d)).weekday() != 5]
    out = []
    for n in range(weddings):
        day = rng.choice(saturdays) if rng.random() < 0.5 else rng.choice(others)
        zone = ZoneInfo(rng.choice(ZONES))
        at = datetime(day.year, day.month, day.day, rng.randint(11, 17), rng.choice((0, 30)), tzinfo=zone)
        out.append(Wedding(f"w-{n:05d}", at, str(zone), rng.randint(40, 250), rng.randint(4, 15)))
    return out


def plan_day(day: date, weddings: list[Wedding], config: Config, args: argparse.Namespace, rng: random.Random) -> DayPlan:
    """The rows of simulated `day`: phases and the tracked set at noon, every bucket of the day."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    statuses = plan(weddings, midnight + timedelta(hours=12), config.schedule, config.features)
    out = DayPlan(day)
    untracked: dict[Phase, int] = {}
    buckets = [midnight + timedelta(seconds=BUCKET * b) for b in range(BUCKETS)]
    tracked = [s for s in statuses if s.tracked]
    out.tracked = len(tracked)
    for status in statuses:
        if not status.tracked and status.interval_seconds is not None:  # archived: not probed
            untracked[status.phase] = untracked.get(status.phase, 0) + 1
    # Every SAMPLE-th tracked wedding in ceremony order: a steady share of each phase, day after day.
    for status in tracked[:: args.sample]:
        interval = status.interval_seconds
        assert interval is not None
        out.sampled += 1
        per_bucket = max(1, round(BUCKET / interval))
        for operation in OPERATIONS:
            for start in buckets:
                durations = [rng.lognormvariate(-1.6, 0.5) for _ in range(min(per_bucket, 3))]
                failed = rng.random() < 0.002
                out.aggregates.append(ProbeAggregate(
                    status.wedding.id, operation, start, BUCKET, status.tier, status.phase.value, per_bucket,
                    int(failed), sum(durations) * per_bucket / len(durations), max(durations),
                    "timeout" if failed else None,
                ))  # fmt: skip
        every = max(60.0, interval)
        for n in range(int(86_400 // every)):
            out.samples.append(CriticalPathSample(
                status.wedding.id, midnight + timedelta(seconds=n * every), rng.randint(0, 200), 200,
                rng.uniform(-120, 600), rng.randint(0, 12), 12, rng.randint(0, 2), rng.uniform(5, 120),
            ))  # fmt: skip
    for phase, count in untracked.items():
        interval = config.schedule.intervals[phase]
        tier = "wedding_day" if phase in (Phase.CEREMONY, Phase.WEDDING_DAY) else "standard"
        probes = max(1, round(count * BUCKET / interval))
        for operation in OPERATIONS:
            for start in buckets:
                mean = rng.lognormvariate(-1.6, 0.3)
                out.aggregates.append(ProbeAggregate(
                    untracked_wedding_id(phase.value), operation, start, BUCKET, tier, phase.value, probes,
                    int(probes * 0.001), mean * probes, mean * 4, None,
                ))  # fmt: skip
    for n in range(args.notifications):
        received = midnight + timedelta(seconds=rng.uniform(0, 86_400))
        out.notifications.append(_notification(f"{day:%Y%m%d}-{n}", received, rng))
    return out


def _notification(key: str, received: datetime, rng: random.Random) -> dict[str, Any]:
    starts = (received - timedelta(minutes=rng.randint(1, 30))).isoformat().replace("+00:00", "Z")
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "WedwatchOperationSlow", "severity": rng.choice(("low", "medium", "high")),
                       "operation": rng.choice(OPERATIONS), "wedding_id": f"w-{rng.randint(0, 49_999):05d}",
                       "tier": "standard", "instance": f"exporter-{k}:9839"},
            "annotations": {"summary": "p95 above its threshold", "description": "x" * rng.randint(200, 600),
                            "runbook_url": "https://wedwatch.example/runbooks/operation-slow"},
            "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=wedwatch", "fingerprint": f"{zlib.crc32(key.encode()) + k:016x}",
        }
        for k in range(rng.randint(1, 5))
    ]  # fmt: skip
    payload = {
        "version": "4", "groupKey": f'{{}}:{{alertname="WedwatchOperationSlow",n="{key}"}}', "status": "firing",
        "receiver": "wedwatch", "groupLabels": {"alertname": "WedwatchOperationSlow"}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": alerts, "truncatedAlerts": 0,
    }  # fmt: skip
    return {"dedup_key": key, "received_at": received, "payload": payload, "alert_count": len(alerts)}


async def _write(store: Store, day: DayPlan) -> None:
    for first in range(0, len(day.aggregates), CHUNK):
        await store.record_probe_aggregates(day.aggregates[first : first + CHUNK])
    for first in range(0, len(day.samples), CHUNK):
        await store.record_critical_path(day.samples[first : first + CHUNK])
    async with store.transaction() as tx:
        for n in day.notifications:
            await store.record_notification(
                dedup_key=n["dedup_key"], group_key=n["payload"]["groupKey"], receiver="wedwatch", status="firing",
                alert_count=n["alert_count"], payload=n["payload"], received_at=n["received_at"], tx=tx,
            )  # fmt: skip


async def _no_sleep(seconds: float) -> None:
    return None


async def simulate(url: str, days: list[DayPlan], windows: dict[str, timedelta | None]) -> list[dict[str, Any]]:
    """Write each day, prune at the next day's 06:00, measure; one dict per day."""
    out: list[dict[str, Any]] = []
    async with open_store_ctx(url) as store:
        first = datetime(days[0].day.year, days[0].day.month, days[0].day.day, tzinfo=UTC)
        await store.ensure_partitions(first)  # as a process started on the first day does
        for n, day in enumerate(days, start=1):
            began = time.monotonic()
            await _write(store, day)
            wrote = time.monotonic() - began
            at = datetime(day.day.year, day.day.month, day.day.day, 6, tzinfo=UTC) + timedelta(days=1)
            report = await prune(store, windows, holder="bench", at=at, batch_size=10_000, pause_seconds=0, sleep=_no_sleep)
            stats = await store.table_stats()
            partitions = await store.list_partitions()
            total = sum(s.bytes or 0 for s in stats.values())
            if store.dialect == "sqlite":
                total = await store.database_bytes()
            row = {
                "day": n,
                "date": day.day.isoformat(),
                "tracked_weddings": day.tracked,
                "written": {"wedding_performance_metrics": len(day.aggregates), "critical_path_metrics": len(day.samples),
                            "notifications": len(day.notifications)},
                "rows": {t: stats[t].rows for t in TABLES},
                "bytes": {t: stats[t].bytes for t in TABLES},
                "database_bytes": total,
                "pruned": {t: report.tables.get(t, 0) for t in TABLES},
                "partitions": len([p for p in partitions if not p.is_default]),
                "partitions_dropped": report.partitions_dropped,
                "partitions_created": len(report.partitions_created),
                "reclaimed_pages": report.reclaimed_pages,
                "write_seconds": round(wrote, 2),
                "prune_seconds": round(report.seconds, 2),
            }  # fmt: skip
            out.append(row)
            dropped = sorted({p.rsplit("_p", 1)[1] for p in _simulated(report.partitions_dropped)})
            print(
                f"{store.dialect} day {n:2d} {day.day}: rows {sum(row['rows'].values()):>9,}"
                f" {total / 2**20:8.1f} MiB, pruned {sum(row['pruned'].values()):>7,} in {report.seconds:5.2f} s,"
                f" {row['partitions']} partitions, dropped {len(_simulated(report.partitions_dropped))} {dropped[:1]}",
                flush=True,
            )
    return out


def summary(store: str, days: list[dict[str, Any]], windows: dict[str, timedelta | None]) -> dict[str, Any]:
    """Where the size stood once the longest window was full, and at the end."""
    longest = max(int(w / timedelta(days=1)) for k, w in windows.items() if w is not None and k in _KINDS)
    full = [d for d in days if d["day"] > longest + 1]
    if not full:
        return {"store": store, "plateau": None}
    first, last = full[0], days[-1]
    growth = last["database_bytes"] / first["database_bytes"] - 1
    return {
        "store": store,
        "windows_full_on_day": longest + 1,
        "bytes_then": first["database_bytes"],
        "bytes_end": last["database_bytes"],
        "bytes_peak": max(d["database_bytes"] for d in days),
        "growth_after_full": round(growth, 4),
        "rows_end": last["rows"],
        # Those of the simulated days (the first pass also drops the empty ones made around the wall clock).
        "partitions_dropped": sum(len(_simulated(d["partitions_dropped"])) for d in days),
        "plateau": abs(growth) < 0.05,
    }


def _simulated(names: list[str]) -> list[str]:
    return [n for n in names if "_p" in n and n.rsplit("_p", 1)[1] >= f"{START:%Y%m%d}"]


_KINDS = ("notifications", "probe_aggregates_untracked", "probe_aggregates_tracked", "critical_path")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    config = Config()
    windows = RetentionConfig(
        probe_aggregates_tracked_days=args.tracked_days, critical_path_days=args.critical_days
    ).windows()
    began = time.monotonic()
    weddings = calendar(args.weddings, args.seed)
    rng = random.Random(args.seed)
    days = [plan_day(START + timedelta(days=d), weddings, config, args, rng) for d in range(args.days)]
    planned = time.monotonic() - began
    print(f"planned {args.days} days of {args.weddings:,} weddings in {planned:.0f} s; per day:"
          f" {sum(d.tracked for d in days) / len(days):,.0f} tracked weddings ({sum(d.sampled for d in days) / len(days):.0f} sampled),"
          f" {sum(len(d.aggregates) for d in days) / len(days):,.0f} aggregates,"
          f" {sum(len(d.samples) for d in days) / len(days):,.0f} critical-path samples,"
          f" {args.notifications:,} notifications", flush=True)  # fmt: skip
    results: dict[str, Any] = {"stores": {}, "summary": []}
    for store in args.stores:
        started = time.monotonic()
        if store == "postgres":
            with postgres_schema() as url:
                per_day = await simulate(url, days, windows)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                per_day = await simulate(f"sqlite:///{Path(tmp) / 'retention.db'}", days, windows)
        results["stores"][store] = {"days": per_day, "seconds": round(time.monotonic() - started, 1)}
        results["summary"].append(summary(store, per_day, windows))
    results["windows_days"] = {k: (None if w is None else w / timedelta(days=1)) for k, w in windows.items()}
    results["scale"] = {
        "weddings": args.weddings, "days": args.days, "tracked_sample": f"1:{args.sample}",
        "notifications_per_day": args.notifications, "pass_at": "06:00 UTC of the next day",
    }  # fmt: skip
    return results


def report(results: dict[str, Any]) -> None:
    for store, data in results["stores"].items():
        rows = [
            (d["day"], d["rows"]["wedding_performance_metrics"], d["rows"]["critical_path_metrics"],
             d["rows"]["notifications"], round(d["database_bytes"] / 2**20, 1), d["partitions"],
             len(_simulated(d["partitions_dropped"])), sum(d["pruned"].values()), d["prune_seconds"])
            for d in data["days"]
        ]  # fmt: skip
        print(table(
            ("day", "probe aggregates", "critical path", "notifications", "MiB", "partitions", "dropped", "pruned rows", "prune s"),
            rows, title=f"{store} ({data['seconds']:.0f} s)",
        ))  # fmt: skip
    print(table(
        ("store", "windows full on day", "MiB then", "MiB at the end", "MiB peak", "growth since", "partitions dropped", "plateau"),
        [(s["store"], s.get("windows_full_on_day", "-"), round(s.get("bytes_then", 0) / 2**20, 1),
          round(s.get("bytes_end", 0) / 2**20, 1), round(s.get("bytes_peak", 0) / 2**20, 1),
          f"{100 * s.get('growth_after_full', 0):+.1f} %", s.get("partitions_dropped", 0),
          {True: "yes", False: "no", None: "-"}[s["plateau"]])
         for s in results["summary"]],
        title="Summary",
    ))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the simulation; exit 1 when a store's size did not plateau."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="postgres,sqlite", type=lambda s: [x for x in s.split(",") if x])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--weddings", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=50, help="1 tracked wedding in SAMPLE gets its own rows")
    parser.add_argument("--notifications", type=int, default=1_000, help="notifications a day")
    parser.add_argument("--tracked-days", type=float, default=30.0)
    parser.add_argument("--critical-days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--name", default="retention", help="bench/results/<name>.json")
    args = parser.parse_args(argv)
    if not set(args.stores) <= {"postgres", "sqlite"}:
        parser.error("--stores takes postgres and/or sqlite")
    results = asyncio.run(run(args))
    report(results)
    path = write_json(args.name, results)
    print(f"\nwrote {path}")
    return 0 if all(s["plateau"] for s in results["summary"]) else 1


if __name__ == "__main__":
    sys.exit(main())
