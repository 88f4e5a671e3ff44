"""How long from a fault on the platform to the first action, at the shipped production settings (issue 16).

Every part runs on free loopback ports: the platform stand-in (`wedwatch platform`), `wedwatch
exporter` and `wedwatch receiver` as processes, Prometheus and Alertmanager from `LocalStack` with
`time_compression=1` (the shipped rules, the exporter scraped every 10 s and everything else every
15 s, examples/alertmanager.yml's routing), default probe intervals and operations. The receiver's
`actions` are production-like: the e2e test's strategies, with `scale`, `cache_warm` and `page`
(notify) calling a recording target this script serves, so the first completed non-`log` action
is seen from outside. Two rails are opened, because the run raises far more incidents on the same
weddings than a real hour holds, and both only ever *skip* an action, never delay one: the
hourly budget (60 → 10,000) and the per-target cooldown (300 s → 0; fault class 4 acts on the
same weddings every two minutes).

One calendar, written up front: weddings in their ceremony window (the ceremony an hour ago; a
fresh one per repeat of each per-wedding class, the noise run's own, and spares so the tier
`wedding_day` holds at least `--min-live`), and weddings a month away (20 days, phase `month`,
probed every 300 s and not tracked per wedding).

Fault classes, each repeated `--repeats` times after a random 0-10 s phase offset:

1. `slow`   a 3.5 s guest list on a live ceremony (the issue's anchor: 315-320 s before the fast path);
2. `photo`  photo uploads failing (error_rate 1, status 503) on a live ceremony;
3. `stall`  a hang on a live ceremony's `--hang-operation` (guest_list): no answer until the probe's
            own deadline (10 s) ends it;
4. `mobile` mobile 2.5 s slow for every wedding (no wedding_id) while weddings are live; the same
            weddings every repeat, so each repeat waits until the previous one's incidents resolved and
            Alertmanager dropped their groups (it does so every 30 s, FACTS.md) before the next;
5. `month`  a 3.5 s guest list on a wedding a month away: it must stay on the slow rules. By default
            it is a check, not a timing: `--month-budget` (330 s, one month-phase probe interval
            plus its jitter, so each of those weddings is probed with the fault on) in which no
            fast-path alert (`live="true"`) may fire; what does fire within it is reported;
6. `storm`  class 1 (a 3.5 s guest list on its own live ceremony) while a platform-wide fault
            raises an alert for every wedding and operation: `--storm-alerts` (12,000: 2,000
            weddings × 6 operations) posted to Alertmanager's API (`/api/v2/alerts`, whole groups,
            at most 1,000 alerts a request), so that they go the real way: grouped by the shipped
            routing (alertname, wedding_id: 2,000 groups of 6), flushed together after the default
            route's group_wait (30 s), 2,000 webhook notifications at once. The storm's alerts are
            `WedwatchWeddingSlow` (the per-wedding slow rule) with severity `low` (the receiver's
            `log` strategy: one `log` action each, recorded at ingest; no shipped rule sends `low`
            — the shipped `medium` would queue a `cache_warm` per alert and spend the hourly
            budget, another question), on weddings the calendar does not hold (`storm-R-NNNN`,
            not live), with a `storm="R"` label and endsAt 6 hours ahead: each repeat's 2,000
            groups are new (group_wait applies again), and the earlier repeats' alerts stay firing
            but silent (nothing changes in their groups; repeat_interval is 4 h), so nothing is
            re-sent or resolved into a later repeat (resolving them would make Alertmanager send
            2,000 resolved notifications at the next group_interval, 5 minutes on: a second storm
            at a moment no repeat controls).
            The storm is aimed at the live alert. The receiver takes the 2,000 notifications within
            a second or two of the flush and then commits them one after another for seconds, so a
            storm posted at a random moment mostly misses the live alert. Its flush goes a random
            `--storm-lead` (0-4 s) before the live alert's predicted arrival at the receiver: the
            first probe to start after the fault ends the fault's latency later (guessed from the
            probe history, at the earliest the schedule's jitter allows, then taken as seen on the
            exporter when that is still in time), then the exporter's next scrape, the live group's
            next evaluation, two more evaluations (three recorded breaches in the rule's 25 s
            window) and the live route's group_wait (5 s), from Prometheus' lastScrape and
            lastEvaluation. Measured besides the class's own times: when the receiver received the
            first and the last storm alert (their incidents' `first_seen_at`, stamped before the
            notification's transaction: arrival, not commit; read from the store after the
            repeat), when Alertmanager had had every storm notification answered 2xx (its
            `alertmanager_notification_requests_total` less `_failed_total`, polled; the receiver's
            own /metrics waits for the store, so it cannot be polled during a storm) and its
            webhook latency histogram, and the overlap: storm notifications still unanswered when
            the live alert was received, and answered when the live first action reached the
            target. Runs last, under the last lag, one repeat after another (`--storm-repeats`,
            default `--repeats`), each once the previous storm was answered (at most
            `--storm-timeout` after posting). The receiver's
            `wedwatch_receiver_alerts_total{status="firing",severity="low"}` is read after each
            repeat: all the storm's alerts counted.

The scrape → evaluation lag. WedwatchLiveWeddingSlow/Down need three scraped samples in a 25 s
window (`changes(wedwatch_probe_timestamp_seconds[25s]) >= 2`); with the exporter scraped every
10 s and the group evaluated every 10 s, each at an offset Prometheus derives from a hash (of the
target, of the group's name and file), the window holds three samples only when the evaluation
comes less than 5 s after a scrape, and two otherwise, for as long as the deployment stays as it
is. `--eval-lags short,long` (default) measures classes 1-3 under each: the run reads the lag
(/api/v1/targets lastScrape, /api/v1/rules lastEvaluation) and, until it is what is wanted, copies
the same rule files to another directory and reloads Prometheus (a new file path, a new offset).
Classes 4, 5 and the noise run go with the first lag, class 6 with the last; `--lag-repeats` sets
the repeats under the others.

For each case: seconds from the fault (the POST to /admin/faults) to the first bad probe's end
(the exporter's /metrics, tracked weddings), to the alert firing in Prometheus (/api/v1/alerts, and
the incident's `starts_at`, the evaluation that fired it), to the incident in the receiver (its
`first_seen_at`), to the first non-`log` action arriving at the target.
An alert counts for a case when it names the case's wedding and operation (class 4: operation
`mobile`, any wedding or none) and its `activeAt` is after the fault, so that a slow rule still
catching up on an earlier case never passes for a detection. Everything is polled every
`--poll` (0.5) seconds. Under the first lag, classes 1-3 and 5 run interleaved (`--stagger`
apart, each on its own wedding), then class 4's repeats one after another, then the noise run;
then classes 1-3 under each further lag; then class 6's repeats. The receiver's API lists at most
1,000 incidents, newest first, and a storm pushes a live incident out of that in less than a poll:
an incident that an action names and the polls have not seen is read from the store
(`get_incident`), and during class 6 the API is polled for 100 rows only (its polls are load on
the receiver the storm measures).

The noise run (`--noise-minutes`, 30): one-off slow probes, one-off failures and jitter (4-6
probes below the guarantee with one above it) on the noise weddings' guest_list, photo_upload,
timeline_sync and critical_path (not mobile: class 4 just filled its 10-minute windows). Each
event injects a fault, waits until a probe shows it on the exporter's /metrics, removes it (and
then checks the next probe is clean), so exactly one probe per step is affected. One-off means
one-off for every rule: a pair (wedding, operation) gets an event at most every 10 minutes and at
most one failure in the run, and an operation at most one failure per 3 minutes across weddings
(4 failures of one wedding's operation in an hour are a real 99 % breach, and one failure a
minute across the tier a real burn of its 0.1 % budget). After the last event `--noise-tail`
(60 s) covers the fast path's window and Alertmanager's wait. The run starts once the exporter
is `--noise-min-age` (720 s) old: before that a wedding's 1-hour availability holds so few samples
that one failed probe fires WedwatchWeddingUnavailable (5 minutes later). Counted: incidents the receiver
opened during the run naming a noise wedding (or no wedding) on a noised operation, and their
non-`log` actions; both must be 0.

Exit 1 when a live-wedding class's (1-4, 6) fault → first action p95 is above 60 s (or a repeat
got no action within `--timeout`), a fast-path alert fired for a month-away wedding, or the noise
run produced an incident or an action. The goal, ≤ 45 s, is printed beside it. The store is SQLite
in the run's directory unless `--store-url`; the report names it.

Run: .venv/bin/python bench/detect.py [--repeats 5] [--noise-minutes 30] [--eval-lags short,long] [--classes slow,...]
JSON: bench/results/detect.json; logs, configs and the database: bench/results/detect-run/.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import dataclasses
import itertools
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import yaml
from _support import (
    RESULTS,
    ROOT,
    WEDWATCH,
    Fleet,
    cancel_on_sigterm,
    free_port,
    percentile,
    postgres_schema,
    samples,
    table,
    warm_guest_lists,
    write_json,
)
from aiohttp import web

import wedwatch
from wedwatch.calendar import Wedding
from wedwatch.calendar.demo import todays_weddings
from wedwatch.config import Config, load_config
from wedwatch.demo import ALERTMANAGER_NAMES, PROMETHEUS_NAMES, LocalStack, find_binary
from wedwatch.errors import StoreError
from wedwatch.rules.wedding_day import operation_guarantees
from wedwatch.store import Store, open_store
from wedwatch.urls import redact_url

LIMIT_SECONDS = 60.0  # issue 16: fault → first action p95, live weddings (exit 1 above)
GOAL_SECONDS = 45.0  # ... and the goal
ANCHOR = "before the fast path: 315-320 s (a 3.5 s guest list, live ceremony, `wedwatch demo --time-compression 1`)"
ARITHMETIC = (
    "docs/rules.md: about 25-45 s from the first bad probe (3rd probe 20 s, scrape ≤ 10, evaluation ≤ 10, group_wait 5)"
)
NOISE_OPS = ("guest_list", "photo_upload", "timeline_sync", "critical_path")
JITTER_OPS = ("guest_list", "photo_upload", "critical_path")  # one request per probe: its latency is the probe's
WATCHED = ("scale", "cache_warm", "page")
AM_GROUP_GC_SECONDS = 32.0  # Alertmanager drops empty groups every 30 s
# Class 6's storm: the per-wedding slow rule's name, the `log` strategy's severity (module docstring).
STORM_ALERTNAME = "WedwatchWeddingSlow"
STORM_SEVERITY = "low"
STORM_CHUNK = 1000  # alerts per POST to Alertmanager
STORM_ENDS = timedelta(hours=6)  # endsAt: firing for the whole run, never resolved into a later repeat
STORM_RECEIVER_ROWS = 100  # the receiver API's page during class 6 (1,000 otherwise)
FAST_PATH_EVALUATIONS = 2  # WedwatchLiveWeddingSlow fires two evaluations after the first that sees a breach


@dataclass(frozen=True)
class FaultClass:
    """One kind of fault the script times: where it goes and what it is."""

    key: str
    title: str
    operation: str
    spec: dict[str, Any]
    live: bool  # a live-wedding class: the 60 s limit applies
    platform_wide: bool = False


def fault_classes(hang_operation: str, storm_alerts: int = 12_000) -> dict[str, FaultClass]:
    """The six classes of issue 16, by key, in the table's order."""
    classes = (
        FaultClass("slow", "1. slow guest list (3.5 s), live ceremony", "guest_list", {"latency_seconds": 3.5}, True),
        FaultClass(
            "photo",
            "2. photo uploads fail (503), live ceremony",
            "photo_upload",
            {"error_rate": 1.0, "status": 503},
            True,
        ),  # fmt: skip
        FaultClass(
            "stall", f"3. {hang_operation} hangs (probes stall), live ceremony", hang_operation, {"hang": True}, True
        ),
        FaultClass(
            "mobile",
            "4. mobile slow everywhere (2.5 s), weddings live",
            "mobile",
            {"latency_seconds": 2.5},
            True,
            platform_wide=True,
        ),  # fmt: skip
        FaultClass(
            "month", "5. slow guest list (3.5 s), wedding a month away", "guest_list", {"latency_seconds": 3.5}, False
        ),
        FaultClass(
            "storm",
            f"6. slow guest list (3.5 s), live ceremony, during a storm of {storm_alerts:,} alerts",
            "guest_list",
            {"latency_seconds": 3.5},
            True,
        ),  # fmt: skip
    )
    return {c.key: c for c in classes}


# --- what the run observes ---------------------------------------------------------------------


def epoch(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 time as Prometheus (nanoseconds) or the receiver writes it."""
    if not text:
        return None
    text = text.strip().replace("Z", "+00:00")
    head, sep, rest = text.partition(".")
    if sep:  # at most 6 fractional digits for fromisoformat
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def api_row(row: dict[str, Any]) -> dict[str, Any]:
    """A store row as the receiver's API shows it (timestamps as RFC 3339 text)."""
    return {k: v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v for k, v in row.items()}


@dataclass
class Occurrence:
    """One alert of Prometheus from becoming active until it is gone (labels + activeAt)."""

    labels: dict[str, str]
    active_at: float  # epoch
    pending_seen: float | None = None  # monotonic
    firing_seen: float | None = None
    gone_seen: float | None = None


@dataclass
class Incident:
    """One incident of the receiver (its /api/v1/alerts row) and when this script first saw it."""

    row: dict[str, Any]
    seen: float  # monotonic
    resolved_seen: float | None = None

    @property
    def key(self) -> tuple[Any, Any, Any]:
        return (self.row.get("alertname"), self.row.get("wedding_id") or None, self.row.get("operation") or None)

    @property
    def starts_at(self) -> float:
        return epoch(self.row.get("starts_at")) or 0.0


@dataclass(frozen=True)
class Hit:
    """One request of an action at the recording target."""

    t: float  # monotonic
    action: str
    incident_id: str


@dataclass(frozen=True)
class Probe:
    """One probe result as the exporter's /metrics shows it."""

    ts: float  # epoch the probe ended
    duration: float
    success: bool


class Observer:
    """Polls Prometheus' alerts, the receiver's incidents and the exporter's last probes; serves the action target."""

    def __init__(
        self, session: aiohttp.ClientSession, prometheus: str, receiver: str, exporter: str, every: float
    ) -> None:
        self.session = session
        self.prometheus, self.receiver, self.exporter = prometheus, receiver, exporter
        self.every = every
        self.occurrences: dict[tuple[Any, ...], Occurrence] = {}
        self.incidents: dict[int, Incident] = {}
        self.hits: list[Hit] = []
        self.probes: dict[tuple[str, str], list[Probe]] = {}
        self.errors: Counter[str] = Counter()
        self.exporter_text = ""
        self.store: Store | None = None  # the receiver's store, for incidents the API's page no longer shows
        self.receiver_limit = 1000

    def target(self) -> web.Application:
        """The action target: records every request's arrival, answers 200 at once."""

        async def hit(request: web.Request) -> web.Response:
            t = time.monotonic()
            await request.read()
            action, _, incident = request.path.strip("/").partition("/")
            incident = incident.split("/")[0] or request.headers.get("X-Incident", "")
            self.hits.append(Hit(t, action, incident))
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", hit)
        return app

    async def run(self) -> None:
        """Poll all three until cancelled."""
        await asyncio.gather(self._loop(self._prometheus), self._loop(self._receiver), self._loop(self._exporter))

    async def _loop(self, poll: Any) -> None:
        while True:
            started = time.monotonic()
            try:
                await poll()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                self.errors[f"{poll.__name__}: {type(exc).__name__}"] += 1
            await asyncio.sleep(max(0.0, self.every - (time.monotonic() - started)))

    async def _prometheus(self) -> None:
        async with self.session.get(f"{self.prometheus}/api/v1/alerts") as response:
            body = await response.json()
        now = time.monotonic()
        present = set()
        for alert in body["data"]["alerts"]:
            labels = dict(alert["labels"])
            key = (tuple(sorted(labels.items())), alert.get("activeAt"))
            present.add(key)
            occ = self.occurrences.get(key)
            if occ is None:
                occ = self.occurrences[key] = Occurrence(labels, epoch(alert.get("activeAt")) or time.time())
            if alert["state"] == "pending" and occ.pending_seen is None:
                occ.pending_seen = now
            if alert["state"] == "firing" and occ.firing_seen is None:
                occ.firing_seen = now
        for key, occ in self.occurrences.items():
            if occ.gone_seen is None and key not in present:
                occ.gone_seen = now

    async def _receiver(self) -> None:
        params = {"limit": str(self.receiver_limit)}
        async with self.session.get(f"{self.receiver}/api/v1/alerts", params=params) as response:
            body = await response.json()
        now = time.monotonic()
        for row in body["data"]:
            incident = self.incidents.get(int(row["id"]))
            if incident is None:
                incident = self.incidents[int(row["id"])] = Incident(row, now)
            incident.row = row
            if row.get("status") == "resolved" and incident.resolved_seen is None:
                incident.resolved_seen = now
        # An action names its incident; under a storm the newest-first page can miss it between two
        # polls (thousands of incidents a second): read those from the store.
        if self.store is None:
            return
        missing = {int(h.incident_id) for h in self.hits if h.incident_id.isdigit()} - self.incidents.keys()
        for incident_id in sorted(missing):
            try:
                found = await self.store.get_incident(incident_id)
            except StoreError as exc:
                self.errors[f"_receiver store: {type(exc).__name__}"] += 1
                return
            if found is not None:
                self.incidents[incident_id] = Incident(api_row(found), now)

    async def _exporter(self) -> None:
        async with self.session.get(f"{self.exporter}/metrics") as response:
            text = await response.text()
        self.exporter_text = text
        latest: dict[tuple[str, str], dict[str, float]] = {}
        for name, labels, value in samples(text, "wedwatch_probe_timestamp_seconds", "wedwatch_probe_duration_seconds",
                                           "wedwatch_probe_success"):  # fmt: skip
            latest.setdefault((labels.get("wedding_id", ""), labels.get("operation", "")), {})[name] = value
        for key, values in latest.items():
            ts = values.get("wedwatch_probe_timestamp_seconds")
            if ts is None:
                continue
            history = self.probes.setdefault(key, [])
            if not history or history[-1].ts != ts:
                history.append(Probe(ts, values.get("wedwatch_probe_duration_seconds", 0.0),
                                     values.get("wedwatch_probe_success", 0.0) == 1.0))  # fmt: skip

    def tier_counts(self, operation: str, tier: str, above: float) -> tuple[float, float]:
        """(probes, probes slower than `above`) of an operation in a tier, from the last /metrics read."""
        total = slow_base = 0.0
        for _, labels, value in samples(self.exporter_text, "wedwatch_operation_duration_seconds_bucket"):
            if labels.get("operation") != operation or labels.get("tier") != tier:
                continue
            if labels.get("le") == "+Inf":
                total = value
            elif float(labels.get("le", "nan")) == above:
                slow_base = value
        return total, total - slow_base


# --- cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    """One repeat of one fault class and what was seen of it (seconds after the fault)."""

    cls: str
    repeat: int
    wedding_id: str | None
    operation: str
    lag: str = ""  # short or long: the exporter's scrape → the live group's evaluation
    offset: float = 0.0
    fault_id: str | None = None
    injected: float | None = None  # monotonic
    injected_wall: float | None = None  # epoch
    held: float | None = None  # how long the fault stayed
    bad_probe: float | None = None
    pending: float | None = None
    firing: float | None = None
    receiver: float | None = None
    action: float | None = None
    first_action: str | None = None
    alerts: list[str] = field(default_factory=list)  # alert names that fired for it, first first
    fast_path: bool = False  # a live="true" alert fired for it
    note: str = ""

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether an alert (or incident) with these labels is about this case's fault."""
        if self.wedding_id is None:
            return labels.get("operation") == self.operation
        if self.cls == "month":
            return labels.get("wedding_id") == self.wedding_id
        return labels.get("wedding_id") == self.wedding_id and labels.get("operation") == self.operation


def evaluate(case: Case, obs: Observer, guarantee: dict[str, float]) -> None:
    """Fill the case's times from what the observer has seen so far."""
    assert case.injected is not None and case.injected_wall is not None
    since = case.injected_wall - 0.5
    occurrences = [o for o in obs.occurrences.values() if case.matches(o.labels) and o.active_at >= since]
    seen = [o.pending_seen or o.firing_seen for o in occurrences if (o.pending_seen or o.firing_seen) is not None]
    case.pending = min(seen) - case.injected if seen else None  # type: ignore[type-var]
    firing = sorted((o for o in occurrences if o.firing_seen is not None), key=lambda o: o.firing_seen or 0.0)
    case.firing = firing[0].firing_seen - case.injected if firing else None  # type: ignore[operator]
    case.alerts = list(dict.fromkeys(o.labels.get("alertname", "?") for o in firing))
    case.fast_path = any(o.labels.get("live") == "true" for o in firing)
    keys = {(o.labels.get("alertname"), o.labels.get("wedding_id"), o.labels.get("operation")) for o in firing}
    incidents = [i for i in obs.incidents.values() if i.key in keys and i.starts_at >= since]
    # The receiver's own clock where it has one: `starts_at` is the evaluation at which Prometheus
    # fired the alert, `first_seen_at` when the receiver took it; the polls only bound them.
    fired = [i.starts_at for i in incidents]
    if fired:
        case.firing = min(case.firing if case.firing is not None else float("inf"), min(fired) - case.injected_wall)
    received = [epoch(i.row.get("first_seen_at")) or (i.seen - case.injected + case.injected_wall) for i in incidents]
    case.receiver = min(received) - case.injected_wall if received else None
    ids = {str(i.row["id"]) for i in incidents}
    hits = sorted((h for h in obs.hits if h.incident_id in ids), key=lambda h: h.t)
    case.action = hits[0].t - case.injected if hits else None
    case.first_action = hits[0].action if hits else None
    # The first probe that ended after the fault and broke the guarantee (tracked weddings only).
    keys_probed = [
        k for k in obs.probes if k[1] == case.operation and (case.wedding_id is None or k[0] == case.wedding_id)
    ]
    bad = [p.ts for k in keys_probed for p in obs.probes[k]
           if p.ts >= case.injected_wall and (not p.success or p.duration > guarantee[case.operation])]  # fmt: skip
    case.bad_probe = min(bad) - case.injected_wall if bad else None


@dataclass
class Run:
    """Everything one run needs: addresses, the observer, the config, the weddings."""

    args: argparse.Namespace
    session: aiohttp.ClientSession
    obs: Observer
    platform: str
    config: Config
    guarantee: dict[str, float]
    weddings: dict[str, list[str]]  # role -> wedding ids
    start: float
    local: LocalStack
    cases: list[Case] = field(default_factory=list)
    lags: list[dict[str, Any]] = field(default_factory=list)
    noise: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    storms: list[Storm] = field(default_factory=list)

    def progress(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:7.1f}s] {message}", file=sys.stderr, flush=True)

    async def inject(self, body: dict[str, Any]) -> tuple[str, float, float]:
        """POST a fault; its id and the monotonic and wall times just before it was sent."""
        t, wall = time.monotonic(), time.time()
        async with self.session.post(f"{self.platform}/admin/faults", json=body) as response:
            answer = await response.json()
            if response.status != 201:
                raise RuntimeError(f"the platform refused fault {body}: {response.status} {answer}")
        return str(answer["id"]), t, wall

    async def remove(self, fault_id: str) -> None:
        async with self.session.delete(f"{self.platform}/admin/faults/{fault_id}") as response:
            await response.read()


async def run_case(run: Run, case: Case, fault: FaultClass, delay: float, budget: float) -> None:
    """After `delay` and a random 0-10 s phase offset, inject; wait for the first action (or the budget); remove."""
    await asyncio.sleep(delay)
    case.offset = random.uniform(0.0, 10.0)
    await asyncio.sleep(case.offset)
    body = {"operation": fault.operation, **fault.spec, **({"wedding_id": case.wedding_id} if case.wedding_id else {})}
    case.fault_id, case.injected, case.injected_wall = await run.inject(body)
    run.progress(f"fault on  {case.wedding_id or 'every wedding':<10} {fault.title} ({case.fault_id})")
    deadline = case.injected + budget
    try:
        while time.monotonic() < deadline:
            evaluate(case, run.obs, run.guarantee)
            if case.action is not None and fault.live:
                break
            await asyncio.sleep(run.args.poll / 2)
    finally:
        await run.remove(case.fault_id)
        case.held = time.monotonic() - case.injected
    evaluate(case, run.obs, run.guarantee)
    if case.action is None and fault.live:
        case.note = f"no action within {budget:g} s"
    elif not fault.live and not case.alerts:
        case.note = f"no alert within {budget:g} s"
    shown = "—" if case.action is None else f"{case.action:.1f} s"
    run.progress(f"fault off {case.wedding_id or 'every wedding':<10} first action {shown} {case.alerts or ''}")


async def interleaved(run: Run, classes: dict[str, FaultClass], lag: str, repeats: int, month: bool) -> list[Case]:
    """Classes 1-3 (and 5 when `month`), each repeat on its own wedding, interleaved `--stagger` apart;
    month-away first (their windows are the longest)."""
    args = run.args
    cases: list[Case] = []
    order = [k for k in ("month", "slow", "photo", "stall") if k in args.classes and (month or k != "month")]
    for repeat in range(repeats):
        for key in order:
            wedding = run.weddings[key][repeat] if key == "month" else run.weddings[f"{key}-{lag}"][repeat]
            cases.append(Case(key, repeat, wedding, classes[key].operation, lag))
    cases.sort(key=lambda c: (c.cls != "month", c.repeat))
    if not cases:
        return []
    before = run.obs.tier_counts("guest_list", "standard", run.guarantee["guest_list"])
    tasks = [
        asyncio.create_task(
            run_case(run, c, classes[c.cls], i * args.stagger, args.month_budget if c.cls == "month" else args.timeout)
        )  # fmt: skip
        for i, c in enumerate(cases)
    ]
    await asyncio.gather(*tasks)
    if month and "month" in args.classes:
        after = run.obs.tier_counts("guest_list", "standard", run.guarantee["guest_list"])
        run.noise["month_probes"] = {"guest_list_probes": after[0] - before[0], "slow": after[1] - before[1]}
    return cases


# --- the scrape → evaluation lag ----------------------------------------------------------------
#
# WedwatchLiveWeddingSlow/Down need `changes(wedwatch_probe_timestamp_seconds[25s]) >= 2`: three
# scraped samples in 25 s. The exporter is scraped every 10 s and the group evaluated every 10 s,
# each at a fixed offset (Prometheus hashes the target for the one, the group's name and file for
# the other), so the window holds three samples only when the evaluation comes less than 5 s after
# a scrape, and two otherwise, for as long as the deployment stays as it is. The run measures that
# lag and sets it by moving the rule files to another directory (same rules, another hash) and
# reloading Prometheus, so that both cases are measured.


async def eval_lag(run: Run) -> float | None:
    """Seconds from the exporter's last scrape to the live group's last evaluation, modulo the interval."""
    schedule = await live_schedule(run)
    if schedule is None:
        return None
    scraped, _, evaluated, every = schedule
    return (evaluated - scraped) % every


def lag_fits(want: str, lag: float) -> bool:
    """Short: the 25 s window holds three scrapes; long: two. A margin keeps clear of the 5 s boundary."""
    return want == "any" or (want == "short" and lag < 4.5) or (want == "long" and lag > 5.5)


async def set_lag(run: Run, want: str) -> float:
    """Move the rule files until the lag is what `want` asks for (each move: another evaluation offset)."""
    d = run.local.directory
    for attempt in range(12):
        lag = None
        for _ in range(40):
            lag = await eval_lag(run)
            if lag is not None:
                break
            await asyncio.sleep(0.5)
        if lag is None:
            raise RuntimeError("cannot read the exporter's last scrape and the live group's last evaluation")
        if lag_fits(want, lag):
            run.progress(f"scrape → evaluation lag {lag:.2f} s ({want})")
            return lag
        moved = d / f"rules-{len(run.lags)}-{attempt}"
        shutil.copytree(d / "rules", moved)
        document = yaml.safe_load((d / "prometheus.yml").read_text())
        document["rule_files"] = [str(moved / "*.yml")]
        (d / "prometheus.yml").write_text(yaml.safe_dump(document, sort_keys=False))
        reloaded = time.time()
        async with run.session.post(f"{run.local.prometheus_url}/-/reload") as r:
            if r.status != 200:
                raise RuntimeError(f"Prometheus refused the reload: {r.status} {await r.text()}")
        run.progress(f"scrape → evaluation lag {lag:.2f} s, want {want}: rules moved to {moved.name}")
        for _ in range(60):  # until the moved group has been evaluated
            async with run.session.get(f"{run.local.prometheus_url}/api/v1/rules") as r:
                groups = (await r.json())["data"]["groups"]
            live = [g for g in groups if g["name"] == "wedwatch.live" and g["file"].startswith(str(moved))]
            if live and (epoch(live[0].get("lastEvaluation")) or 0.0) > reloaded:
                break
            await asyncio.sleep(0.5)
    raise RuntimeError(f"no {want} scrape → evaluation lag after 12 moves of the rule files")


async def platform_wide(run: Run, fault: FaultClass, lag: str) -> list[Case]:
    """Class 4, one repeat at a time: inject, first action, remove; wait for resolution and Alertmanager's group GC."""
    cases = []
    for repeat in range(run.args.repeats):
        case = Case(fault.key, repeat, None, fault.operation, lag)
        cases.append(case)
        await run_case(run, case, fault, 0.0, run.args.timeout)
        await settle(run, case)
    return cases


async def settle(run: Run, case: Case) -> None:
    """Until the case's alerts are gone from Prometheus and its incidents resolved in the receiver, then
    Alertmanager's group GC; at most `--settle` seconds."""
    assert case.injected_wall is not None
    since = case.injected_wall - 0.5
    deadline = time.monotonic() + run.args.settle
    while time.monotonic() < deadline:
        active = [o for o in run.obs.occurrences.values() if case.matches(o.labels) and o.active_at >= since
                  and o.labels.get("live") == "true" and o.gone_seen is None]  # fmt: skip
        open_ = [i for i in run.obs.incidents.values() if case.matches({k: v for k, v in i.row.items() if isinstance(v, str)})
                 and i.starts_at >= since and i.row.get("status") != "resolved" and i.row.get("alertname", "").startswith("WedwatchLive")]  # fmt: skip
        if not active and not open_:
            break
        await asyncio.sleep(1.0)
    else:
        run.progress(f"settle: still active after {run.args.settle:g} s; going on")
    await asyncio.sleep(AM_GROUP_GC_SECONDS)


# --- class 6: the storm ------------------------------------------------------------------------
#
# The receiver takes a storm's 2,000 notifications within a second or two of Alertmanager's flush
# and then commits them one transaction after another, for seconds: a storm posted at a random
# moment mostly misses the live alert. So the storm is aimed: its flush (the POST plus the default
# route's group_wait) goes `--storm-lead` seconds before the moment the live alert is predicted to
# reach the receiver: the first probe after the fault (from the probe history, then as seen) ends
# the fault's latency later, the first scrape after it, the live group's first evaluation after
# that, two more evaluations (WedwatchLiveWeddingSlow needs three recorded breaches in its 25 s
# window), and the live route's group_wait.


@dataclass
class Storm:
    """One repeat's storm: what went to Alertmanager and when the receiver took it (seconds after posting)."""

    repeat: int
    alerts: int
    weddings: int  # Alertmanager groups (alertname, wedding_id): one notification each
    label: str  # its weddings are `label-NNNN`
    lead: float = 0.0  # aimed: its flush this long before the live alert's predicted arrival
    aimed_from: str = ""  # what the live alert's arrival was predicted from: `schedule` or `probe`
    predicted_wall: float | None = None  # the live alert's predicted arrival at the receiver (epoch)
    guessed_probe: float | None = None  # the first bad probe's end as guessed from the history, after the fault
    late: float = 0.0  # posted this much later than aimed (the first bad probe was seen too late)
    delay: float | None = None  # posted this long after the live fault
    posted: float | None = None  # monotonic, just before the first POST
    posted_wall: float | None = None
    post_seconds: float | None = None  # all the POSTs to Alertmanager
    post_errors: int = 0
    first_received: float | None = None  # the first storm incident's first_seen_at (the receiver's clock)
    last_received: float | None = None  # ... the last one's
    acked: float | None = None  # Alertmanager had `weddings` more webhook requests answered 2xx (a poll)
    taken: int = 0  # storm incidents in the store after the repeat
    counted: float = 0.0  # the rise of wedwatch_receiver_alerts_total{status="firing",severity="low"}
    notifications: dict[str, float] = field(default_factory=dict)  # wedwatch_receiver_notifications_total's rise
    failed_requests: float = 0.0  # Alertmanager's failed webhook requests (retried)
    latency: dict[str, float] = field(default_factory=dict)  # Alertmanager's webhook latency histogram, its rise
    predicted_live: float | None = None  # the live alert's predicted arrival, after posting
    live_received: float | None = None  # the live alert's first_seen_at, after posting
    received_before_live: int | None = None  # storm alerts the receiver had received before the live alert
    unanswered_at_live: int | None = None  # storm notifications not yet answered when the live alert came
    answered_at_action: int | None = None  # storm notifications answered when the live first action came
    polls: list[tuple[float, float]] = field(default_factory=list)  # (after posting, answered requests' rise)
    note: str = ""


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration_seconds(text: str) -> float:
    """A Prometheus/Alertmanager duration such as `30s`, `5m`, `1h` (one unit)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(text).strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[match[2]]


def group_waits(run: Run) -> tuple[float, float]:
    """The default route's group_wait (the storm's) and the live route's (the fast path's), from the stack's config."""
    route = yaml.safe_load((run.local.directory / "alertmanager.yml").read_text())["route"]
    live = next(r for r in route.get("routes", []) if 'live="true"' in r.get("matchers", []))
    return duration_seconds(route["group_wait"]), duration_seconds(live.get("group_wait", route["group_wait"]))


def storm_body(storm: Storm, operations: list[str], now: datetime) -> list[dict[str, Any]]:
    """The storm's alerts as Alertmanager's API takes them: every operation of `storm.weddings` weddings."""
    starts, ends = z(now), z(now + STORM_ENDS)
    body = []
    for i in range(storm.alerts):
        wedding, op = divmod(i, len(operations))
        labels = {"alertname": STORM_ALERTNAME, "severity": STORM_SEVERITY, "wedding_id": f"{storm.label}-{wedding:04d}",
                  "operation": operations[op], "storm": str(storm.repeat)}  # fmt: skip
        body.append({"labels": labels, "annotations": {"summary": f"platform-wide fault: {operations[op]} slow"},
                     "startsAt": starts, "endsAt": ends})  # fmt: skip
    return body


async def receiver_counts(run: Run) -> dict[str, float]:
    """The receiver's storm-severity firing alerts (`storm`) and its notifications by outcome, from its /metrics
    (which reads the store: it answers once the transactions queued before it are done)."""
    async with run.session.get(f"{run.obs.receiver}/metrics") as response:
        text = await response.text()
    counts = {"storm": 0.0}
    for name, labels, value in samples(text, "wedwatch_receiver_alerts_total", "wedwatch_receiver_notifications_total"):
        if name == "wedwatch_receiver_notifications_total":
            counts[f"notifications:{labels.get('outcome', '')}"] = value
        elif labels.get("status") == "firing" and labels.get("severity") == STORM_SEVERITY:
            counts["storm"] += value
    return counts


async def alertmanager_counts(run: Run) -> dict[str, float]:
    """Alertmanager's webhook requests (all, failed) and its latency histogram's buckets, from its /metrics."""
    async with run.session.get(f"{run.local.alertmanager_url}/metrics") as response:
        text = await response.text()
    counts: dict[str, float] = {}
    names = ("alertmanager_notification_requests_total", "alertmanager_notification_requests_failed_total",
             "alertmanager_notification_latency_seconds_bucket")  # fmt: skip
    for name, labels, value in samples(text, *names):
        if labels.get("integration") == "webhook":
            key = f"le:{labels['le']}" if name.endswith("_bucket") else name.removeprefix("alertmanager_notification_")
            counts[key] = counts.get(key, 0.0) + value
    return counts


def answered(counts: dict[str, float]) -> float:
    return counts.get("requests_total", 0.0) - counts.get("requests_failed_total", 0.0)


async def post_storm(run: Run, storm: Storm, operations: list[str]) -> None:
    """POST the storm to Alertmanager's API, at most STORM_CHUNK alerts a request, each group's in one."""
    body = storm_body(storm, operations, datetime.now(UTC))
    url = f"{run.local.alertmanager_url}/api/v2/alerts"
    step = max(1, STORM_CHUNK // len(operations)) * len(operations)
    storm.posted, storm.posted_wall = time.monotonic(), time.time()
    for i in range(0, len(body), step):
        async with run.session.post(url, json=body[i : i + step]) as response:
            await response.read()
            if response.status != 200:
                storm.post_errors += 1
    storm.post_seconds = time.monotonic() - storm.posted


async def live_schedule(run: Run) -> tuple[float, float, float, float] | None:
    """The exporter's last scrape and its interval, the live group's last evaluation and its interval (epoch, s)."""
    async with run.session.get(f"{run.local.prometheus_url}/api/v1/targets", params={"state": "active"}) as r:
        targets = (await r.json())["data"]["activeTargets"]
    async with run.session.get(f"{run.local.prometheus_url}/api/v1/rules") as r:
        groups = (await r.json())["data"]["groups"]
    exporter = [t for t in targets if t["labels"].get("job") == "wedwatch-exporter"]
    live = [g for g in groups if g["name"] == "wedwatch.live"]
    if not exporter or not live or not live[0].get("lastEvaluation"):
        return None
    scraped, evaluated = epoch(exporter[0].get("lastScrape")) or 0.0, epoch(live[0]["lastEvaluation"]) or 0.0
    if evaluated < 1e9 or scraped < 1e9:
        return None
    every = duration_seconds(exporter[0]["scrapeInterval"]) if exporter[0].get("scrapeInterval") else 10.0
    return scraped, every, evaluated, float(live[0]["interval"])


def predict_live(bad_probe_end: float, schedule: tuple[float, float, float, float], live_wait: float) -> float:
    """When the live alert reaches the receiver (epoch), for a first bad probe ending at `bad_probe_end`."""
    scraped, scrape_every, evaluated, eval_every = schedule
    scrape = scraped + math.ceil((bad_probe_end - scraped) / scrape_every) * scrape_every
    evaluation = evaluated + math.ceil((scrape - evaluated) / eval_every) * eval_every
    return evaluation + FAST_PATH_EVALUATIONS * eval_every + live_wait


def next_bad_probe(obs: Observer, case: Case, latency: float, jitter: float) -> float | None:
    """The earliest end of the first probe to start after the fault, from the probe history (start-to-start
    median, less the schedule's jitter): early rather than late, because a guess past a scrape puts the live
    alert 10 s later, and the storm, aimed on it, after the live alert."""
    assert case.injected_wall is not None
    history = obs.probes.get((case.wedding_id or "", case.operation), [])
    starts = [p.ts - p.duration for p in history[-7:]]
    if len(starts) < 3:
        return None
    gaps = sorted(b - a for a, b in itertools.pairwise(starts))
    every, start = gaps[len(gaps) // 2], starts[-1]
    if every <= 0:
        return None
    while start <= case.injected_wall:
        start += every
    return max(start - jitter * every, case.injected_wall) + latency


async def storm_aim(run: Run, case: Case, storm: Storm, fault: FaultClass, waits: tuple[float, float]) -> None:
    """Sleep until the storm is to be posted: `lead` before the live alert's predicted arrival less the storm's
    group_wait; predicted from the probe history, and again once the first bad probe is seen."""
    assert case.injected is not None and case.injected_wall is not None
    storm_wait, live_wait = waits
    storm.lead = random.uniform(*run.args.storm_lead)
    schedule = await live_schedule(run)
    if schedule is None:
        storm.note = "no scrape or evaluation time in Prometheus: posted at once"
        return
    guess = next_bad_probe(
        run.obs, case, float(fault.spec.get("latency_seconds", 0.0)), run.config.schedule.jitter_ratio
    )
    storm.guessed_probe = None if guess is None else guess - case.injected_wall
    deadline = case.injected + 60.0
    while time.monotonic() < deadline:
        seen = case.bad_probe is not None
        end = case.injected_wall + case.bad_probe if case.bad_probe is not None else guess
        if end is not None:
            storm.aimed_from = "probe" if seen else "schedule"
            storm.predicted_wall = predict_live(end, schedule, live_wait)
            post = storm.predicted_wall - storm_wait - storm.lead
            now = time.time()
            if post <= now:
                storm.late = now - post
                return
            if seen or post - now <= 0.1:
                await asyncio.sleep(post - now)
                return
            await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(0.1)
    storm.note = "no bad probe within 60 s: posted then"


def _stamp(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return epoch(value) if isinstance(value, str) else None


def _answered_at(storm: Storm, wall: float) -> int | None:
    """Storm notifications Alertmanager had had answered by `wall`: the last poll before it (at most `weddings`)."""
    assert storm.posted_wall is not None
    before = [rise for t, rise in storm.polls if storm.posted_wall + t <= wall]
    return None if not storm.polls else min(storm.weddings, int(before[-1] if before else 0))


async def storm_figures(run: Run, case: Case, storm: Storm) -> None:
    """From the store: when the receiver received the first and the last storm alert and how many before the live
    alert (`first_seen_at`, this machine's clock); from the polls: how many notifications were answered."""
    store = run.obs.store
    if store is None or storm.posted_wall is None or case.injected_wall is None:
        return
    rows = await store.list_incidents(limit=2 * storm.alerts + 1000)  # newest first: this storm's are in
    prefix = f"{storm.label}-"
    received = sorted(t for r in rows if str(r.get("wedding_id") or "").startswith(prefix)
                      and (t := _stamp(r.get("first_seen_at"))) is not None)  # fmt: skip
    storm.taken = len(received)
    if received:
        storm.first_received, storm.last_received = received[0] - storm.posted_wall, received[-1] - storm.posted_wall
    if storm.predicted_wall is not None:
        storm.predicted_live = storm.predicted_wall - storm.posted_wall
    if case.receiver is not None:
        live = case.injected_wall + case.receiver
        storm.live_received = live - storm.posted_wall
        storm.received_before_live = bisect.bisect_left(received, live)
        answered_then = _answered_at(storm, live)
        storm.unanswered_at_live = None if answered_then is None else storm.weddings - answered_then
    if case.action is not None:
        storm.answered_at_action = _answered_at(storm, case.injected_wall + case.action)


async def storm_repeat(run: Run, case: Case, storm: Storm, fault: FaultClass, operations: list[str],
                       waits: tuple[float, float]) -> None:  # fmt: skip
    """The live fault as run_case injects it; the storm, aimed at the live alert; until the live case is done
    and Alertmanager has had the storm's notifications answered (at most `--storm-timeout` after posting)."""
    args = run.args
    live = asyncio.create_task(run_case(run, case, fault, 0.0, args.timeout))
    try:
        while case.injected is None and not live.done():
            await asyncio.sleep(0.02)
        if case.injected is None:
            await live  # it failed before the fault went in: its error
            return
        rx_before, am_before = await receiver_counts(run), await alertmanager_counts(run)
        await storm_aim(run, case, storm, fault, waits)
        await post_storm(run, storm, operations)
        assert storm.posted is not None
        storm.delay = storm.posted - case.injected
        run.progress(f"storm {storm.label}: {storm.alerts:,} alerts posted to Alertmanager {storm.delay:.1f} s after "
                     f"the fault (aimed {storm.lead:.1f} s before the live alert, from the {storm.aimed_from or '—'}"
                     f"{f', {storm.late:.1f} s late' if storm.late else ''}) in {storm.post_seconds:.1f} s")  # fmt: skip
        am_latest = am_before
        deadline = storm.posted + args.storm_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                am_latest = await alertmanager_counts(run)
                rise = answered(am_latest) - answered(am_before)
                storm.polls.append((round(time.monotonic() - storm.posted, 2), rise))
                if storm.acked is None and rise >= storm.weddings:
                    storm.acked = time.monotonic() - storm.posted
            if storm.acked is not None and live.done():
                break
            await asyncio.sleep(args.poll / 4)
        await live
    finally:
        if not live.done():
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
    rx_after = await receiver_counts(run)
    storm.counted = rx_after["storm"] - rx_before["storm"]
    storm.notifications = {k.partition(":")[2]: v - rx_before.get(k, 0.0) for k, v in rx_after.items()
                           if k.startswith("notifications:") and v - rx_before.get(k, 0.0)}  # fmt: skip
    storm.failed_requests = am_latest.get("requests_failed_total", 0.0) - am_before.get("requests_failed_total", 0.0)
    storm.latency = {
        k.partition(":")[2]: v - am_before.get(k, 0.0) for k, v in am_latest.items() if k.startswith("le:")
    }
    await storm_figures(run, case, storm)
    if storm.taken < storm.alerts:
        storm.note = f"the receiver took {storm.taken:,} of {storm.alerts:,} within {args.storm_timeout:g} s"
    if storm.unanswered_at_live is not None:
        overlap = f"came with {storm.unanswered_at_live:,}/{storm.weddings:,} storm notifications unanswered"
        case.note = f"{case.note}; {overlap}" if case.note else overlap
    shown = "—" if storm.acked is None else f"{storm.acked:.1f} s"
    run.progress(f"storm {storm.label}: received {storm.first_received}-{storm.last_received} s, answered {shown} "
                 f"after posting; live alert received {storm.live_received} s (predicted {storm.predicted_live}), "
                 f"{storm.unanswered_at_live} storm notifications unanswered then")  # fmt: skip


async def storm_class(run: Run, fault: FaultClass, lag: str) -> list[Case]:
    """Class 6, one repeat after another, each with its own live wedding and its own storm."""
    args = run.args
    operations = run.config.operations.names()
    weddings = -(-args.storm_alerts // len(operations))
    waits = group_waits(run)
    cases = []
    run.obs.receiver_limit = STORM_RECEIVER_ROWS
    try:
        for repeat in range(args.storm_repeats):
            case = Case(fault.key, repeat, run.weddings["storm"][repeat], fault.operation, lag)
            storm = Storm(repeat, args.storm_alerts, weddings, f"storm-{repeat}")
            cases.append(case)
            run.storms.append(storm)
            await storm_repeat(run, case, storm, fault, operations, waits)
    finally:
        run.obs.receiver_limit = 1000
    return cases


# --- noise -------------------------------------------------------------------------------------


@dataclass
class NoiseEvent:
    """One noise event: a pair (wedding, operation), a kind and the probes it affected."""

    at: float
    wedding_id: str
    operation: str
    kind: str  # slow, fail, jitter
    steps: list[dict[str, Any]]
    affected: list[dict[str, Any]] = field(default_factory=list)
    missed_steps: int = 0
    next_probe_clean: bool | None = None


def noise_steps(
    kind: str, guarantee: float, operation: str, timeout: float, rng: random.Random
) -> list[dict[str, Any]]:
    """The per-probe faults of one event: one slow probe, one failure, or jitter with one breach."""

    def slow() -> dict[str, Any]:
        factor = rng.uniform(1.2, 1.6) if operation == "photo_upload" else rng.uniform(2.0, 3.5)
        return {"latency_seconds": round(min(guarantee * factor, timeout - 2.0), 3)}

    if kind == "slow":
        return [slow()]
    if kind == "fail":
        return [{"error_rate": 1.0, "status": rng.choice((500, 502, 503))}]
    count = rng.randint(4, 6)
    breach = rng.randrange(count)
    return [
        slow() if i == breach else {"latency_seconds": round(guarantee * rng.uniform(0.2, 0.8), 3)}
        for i in range(count)
    ]


async def noise_event(run: Run, event: NoiseEvent) -> None:
    """Each step: inject, wait for the probe that shows it, remove; then check the next probe is clean."""
    obs, key = run.obs, (event.wedding_id, event.operation)
    timeout = run.config.operations.get(event.operation).timeout_seconds
    for step in event.steps:
        fault_id, _, wall = await run.inject({"operation": event.operation, "wedding_id": event.wedding_id, **step})
        deadline = time.monotonic() + timeout + 30
        shown = None
        try:
            while time.monotonic() < deadline and shown is None:
                for probe in obs.probes.get(key, []):
                    if probe.ts <= wall:
                        continue
                    latency = step.get("latency_seconds")
                    if (latency is not None and probe.duration >= 0.9 * latency) or (
                        latency is None and not probe.success
                    ):
                        shown = probe
                        break
                await asyncio.sleep(0.1)
        finally:
            await run.remove(fault_id)
        if shown is None:
            event.missed_steps += 1
            continue
        event.affected.append({"duration": shown.duration, "success": shown.success,
                               "breach": (not shown.success) or shown.duration > run.guarantee[event.operation]})  # fmt: skip
    removed = time.time()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        later = [p for p in obs.probes.get(key, []) if p.ts > removed + 0.05]
        if later:
            p = later[0]
            event.next_probe_clean = p.success and p.duration <= run.guarantee[event.operation]
            return
        await asyncio.sleep(0.2)


async def noise_run(run: Run) -> dict[str, Any]:
    """One-off slow probes, one-off failures and jitter on the noise weddings; count incidents and actions."""
    args = run.args
    rng = random.Random(args.seed + 16)
    pairs = [(w, op) for w in run.weddings["noise"] for op in NOISE_OPS]
    pair_last: dict[tuple[str, str], float] = {}
    failed_pairs: set[tuple[str, str]] = set()
    op_last_failure: dict[str, float] = {}
    busy: set[str] = set()
    events: list[NoiseEvent] = []
    tasks: list[asyncio.Task[None]] = []
    start_mono, start_wall = time.monotonic(), time.time()
    end = start_mono + args.noise_minutes * 60
    skipped = 0

    async def one(event: NoiseEvent) -> None:
        try:
            await noise_event(run, event)
        finally:
            busy.discard(event.wedding_id)
            pair_last[(event.wedding_id, event.operation)] = time.monotonic()

    run.progress(f"noise run: {args.noise_minutes:g} min on {len(run.weddings['noise'])} weddings")
    while time.monotonic() < end:
        await asyncio.sleep(rng.uniform(8.0, 20.0))
        if time.monotonic() >= end:
            break
        now = time.monotonic()
        kind = rng.choices(("slow", "fail", "jitter"), weights=(0.4, 0.3, 0.3))[0]
        eligible = [
            (w, op) for (w, op) in pairs
            if w not in busy and now - pair_last.get((w, op), -1e9) >= args.noise_pair_gap
            and (kind != "fail" or ((w, op) not in failed_pairs and now - op_last_failure.get(op, -1e9) >= 180))
            and (kind != "jitter" or op in JITTER_OPS)
        ]  # fmt: skip
        if not eligible:
            skipped += 1
            continue
        wedding, op = rng.choice(eligible)
        if kind == "fail":
            failed_pairs.add((wedding, op))
            op_last_failure[op] = now
        busy.add(wedding)
        pair_last[(wedding, op)] = now
        timeout = run.config.operations.get(op).timeout_seconds
        event = NoiseEvent(now - start_mono, wedding, op, kind, noise_steps(kind, run.guarantee[op], op, timeout, rng))
        events.append(event)
        tasks.append(asyncio.create_task(one(event)))
    await asyncio.gather(*tasks)
    last = time.monotonic()
    run.progress(f"noise run: {len(events)} events; {args.noise_tail:g} s tail")
    await asyncio.sleep(args.noise_tail)
    stop_mono = time.monotonic()

    noise_weddings = set(run.weddings["noise"])

    def noise_caused(labels: dict[str, Any]) -> bool:
        wedding, op = labels.get("wedding_id") or None, labels.get("operation") or None
        return (wedding in noise_weddings and op != "mobile") or (wedding is None and op in NOISE_OPS)

    incidents = [
        i for i in run.obs.incidents.values() if start_mono <= i.seen <= stop_mono and i.starts_at >= start_wall
    ]
    counted = [i for i in incidents if noise_caused(i.row)]
    others = [i for i in incidents if not noise_caused(i.row)]
    ids = {str(i.row["id"]) for i in counted}
    actions = [h for h in run.obs.hits if h.incident_id in ids]
    occurrences = [o for o in run.obs.occurrences.values() if o.active_at >= start_wall and noise_caused(o.labels)]
    affected = [a for e in events for a in e.affected]
    return {
        "minutes": args.noise_minutes,
        "seconds": stop_mono - start_mono,
        "events_seconds": last - start_mono,
        "weddings": sorted(noise_weddings),
        "events": [dataclasses.asdict(e) for e in events],
        "by_kind": dict(Counter(e.kind for e in events)),
        "affected_probes": len(affected),
        "breaching_probes": sum(1 for a in affected if a["breach"]),
        "missed_steps": sum(e.missed_steps for e in events),
        "next_probe_not_clean": sum(1 for e in events if e.next_probe_clean is False),
        "no_slot": skipped,
        "incidents": [i.row for i in counted],
        "actions": [dataclasses.asdict(h) for h in actions],
        "pending_only": sorted({o.labels.get("alertname", "?") for o in occurrences if o.firing_seen is None}),
        "pending_only_count": sum(1 for o in occurrences if o.firing_seen is None),
        "firing": sorted({o.labels.get("alertname", "?") for o in occurrences if o.firing_seen is not None}),
        "other_incidents": [
            {k: i.row.get(k) for k in ("alertname", "wedding_id", "operation", "severity")} for i in others
        ],
    }


# --- setting up --------------------------------------------------------------------------------


def calendar(now: datetime, args: argparse.Namespace) -> tuple[list[Wedding], dict[str, list[str]]]:
    """Live ceremonies (an hour ago) for every per-wedding repeat under each lag, class 6's repeats, the noise
    run and spares; weddings a month away."""
    roles: dict[str, list[str]] = {}
    for i, lag in enumerate(args.eval_lags):
        count = args.repeats if i == 0 else args.lag_repeats
        for key in ("slow", "photo", "stall"):
            roles[f"{key}-{lag}"] = [f"{key}-{lag[0]}{n}" for n in range(count)]
    roles["noise"] = [f"noise-{n}" for n in range(args.noise_weddings)]
    if "storm" in args.classes:
        roles["storm"] = [f"storm-live-{n}" for n in range(args.storm_repeats)]
    live_ids = [w for ids in roles.values() for w in ids]
    roles["spare"] = [f"spare-{n}" for n in range(max(0, args.min_live - len(live_ids)))]
    live_ids += roles["spare"]
    stay = timedelta(minutes=args.noise_minutes + 90 + (5 * args.storm_repeats if "storm" in args.classes else 0))
    live = todays_weddings(now, [timedelta(hours=-1)] * len(live_ids), stay=stay, seed=args.seed, prefix="x")
    weddings = [dataclasses.replace(w, id=wid) for w, wid in zip(live, live_ids, strict=True)]
    roles["live"] = live_ids
    roles["month"] = [f"month-{n}" for n in range(args.repeats)]
    london = ZoneInfo("Europe/London")
    away = (now + timedelta(days=20)).astimezone(london).replace(second=0, microsecond=0)
    weddings += [Wedding(wid, away, "Europe/London", 120, 8) for wid in roles["month"]]
    return weddings, roles


def detect_config(platform: str, target: str, store_url: str) -> dict[str, Any]:
    """Defaults everywhere (intervals, operations, thresholds, rails) but the actions, which call the target."""
    return {
        "platform": {"base_url": f"http://{platform}"},
        "calendar": {"file": "weddings.yml"},
        "store": {"url": store_url},
        "receiver": {"auth": {"bearer_token": "${WEDWATCH_RECEIVER_TOKEN}", "public_read": True}},
        "actions": {
            # Raised, not removed: they skip repeated actions (never delay one) and this run repeats
            # far more incidents on the same weddings than a real hour would hold.
            "hourly_budget": 10000,
            "cooldown_seconds": 0,
            "definitions": {
                "log": {"type": "log"},
                "scale": {"type": "scale", "url": f"{target}/scale/{{incident_id}}"},
                "cache_warm": {"type": "cache_warm", "url": f"{target}/cache_warm/{{incident_id}}"},
                "page": {"type": "notify", "url": f"{target}/page", "headers": {"X-Incident": "{incident_id}"}},
            },
            "strategies": {"emergency": ["scale", "cache_warm", "page", "log"], "urgent": ["scale", "log"],
                           "standard": ["cache_warm", "log"], "log": ["log"]},
        },
    }  # fmt: skip


@contextlib.contextmanager
def store_url(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """SQLite in the run's directory, or a fresh schema on the PostgreSQL server of --store-url."""
    if args.store_url is None:
        yield f"sqlite:///{workdir / 'wedwatch.db'}"
        return
    with postgres_schema(args.store_url) as url:
        yield url


async def ready(run: Run, live: list[str]) -> None:
    """Prometheus scrapes both targets and every live wedding has had every operation probed and scraped."""
    deadline = time.monotonic() + 120
    ops = run.config.operations.enabled()
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError, KeyError, ValueError):
            query = (
                'count(wedwatch_probe_timestamp_seconds and on (wedding_id) wedwatch_wedding_info{tier="wedding_day"})'
            )
            async with run.session.get(f"{run.obs.prometheus}/api/v1/query", params={"query": query}) as r:
                result = (await r.json())["data"]["result"]
            if result and int(float(result[0]["value"][1])) >= len(live) * len(ops):
                return
        await asyncio.sleep(1.0)
    raise RuntimeError("Prometheus did not see every live wedding's probes within 120 s")


async def detect(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start everything, run the classes and the noise run, stop everything whatever happens."""
    cancel_on_sigterm()
    if find_binary(PROMETHEUS_NAMES) is None or find_binary(ALERTMANAGER_NAMES) is None:
        raise SystemExit(
            "detect: needs Prometheus and Alertmanager (Debian: apt-get install prometheus prometheus-alertmanager)"
        )
    now = datetime.now(UTC)
    weddings, roles = calendar(now, args)
    token = secrets.token_urlsafe(24)
    addr = {name: f"127.0.0.1:{free_port()}" for name in ("platform", "exporter", "receiver")}
    target_port = free_port()
    local: LocalStack | None = None
    connector_timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=connector_timeout) as session:
        obs = Observer(session, "", f"http://{addr['receiver']}", f"http://{addr['exporter']}", args.poll)
        target_runner = web.AppRunner(obs.target(), access_log=None)
        await target_runner.setup()
        await web.TCPSite(target_runner, "127.0.0.1", target_port).start()
        poller: asyncio.Task[None] | None = None
        try:
            with store_url(args, workdir) as url, Fleet(workdir) as fleet:
                config = detect_config(addr["platform"], f"http://127.0.0.1:{target_port}", url)
                (workdir / "weddings.yml").write_text(
                    yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}, sort_keys=False)
                )
                path = workdir / "wedwatch.yml"
                path.write_text("# Generated by bench/detect.py.\n" + yaml.safe_dump(config, sort_keys=False))
                env = {**os.environ, "WEDWATCH_RECEIVER_TOKEN": token}
                loaded = load_config(path, environ=env).config
                fleet.start("platform", [WEDWATCH, "platform", f"--calendar.file={workdir / 'weddings.yml'}",
                                         f"--web.listen-address={addr['platform']}"], ready=f"http://{addr['platform']}/-/healthy")  # fmt: skip
                await asyncio.to_thread(warm_guest_lists, f"http://{addr['platform']}", [w.id for w in weddings])
                exporter_started = time.monotonic()
                for name in ("receiver", "exporter"):
                    fleet.start(name, [WEDWATCH, name, f"--config.file={path}", f"--web.listen-address={addr[name]}"],
                                env=env, ready=f"http://{addr[name]}/-/ready")  # fmt: skip
                obs.store = await open_store(url)  # the receiver has migrated it: reads only
                local = LocalStack(workdir / "prometheus-stack", loaded, addr["exporter"], addr["receiver"], token,
                                   prometheus_port=free_port(), alertmanager_port=free_port(), time_compression=1)  # fmt: skip
                local.write_files()
                await local.start()
                obs.prometheus = local.prometheus_url
                run = Run(args, session, obs, f"http://{addr['platform']}", loaded,
                          {op: operation_guarantees(loaded).get(op, loaded.thresholds.wedding_day.response_seconds)
                           for op in loaded.operations.names()},
                          roles, time.monotonic(), local)  # fmt: skip
                live = roles["live"]
                run.progress(
                    f"{len(live)} live weddings, {len(roles['month'])} a month away; waiting for their probes in Prometheus"
                )
                poller = asyncio.create_task(obs.run())
                await ready(run, live)
                run.phases["ready"] = time.monotonic() - run.start
                classes = fault_classes(args.hang_operation, args.storm_alerts)
                for i, lag in enumerate(args.eval_lags):
                    first = i == 0
                    entry = {"want": lag, "at_start": await set_lag(run, lag)}
                    run.lags.append(entry)
                    run.cases += await interleaved(
                        run, classes, lag, args.repeats if first else args.lag_repeats, first
                    )
                    run.phases[f"interleaved-{lag}"] = time.monotonic() - run.start
                    if first and "mobile" in args.classes:
                        run.cases += await platform_wide(run, classes["mobile"], lag)
                        run.phases[f"platform_wide-{lag}"] = time.monotonic() - run.start
                    if first and args.noise_minutes > 0:
                        young = args.noise_min_age - (time.monotonic() - exporter_started)
                        if young > 0:
                            run.progress(
                                f"noise run: waiting {young:.0f} s until the exporter is {args.noise_min_age:g} s old"
                            )
                            await asyncio.sleep(young)
                        run.noise.update(await noise_run(run))
                        run.phases[f"noise-{lag}"] = time.monotonic() - run.start
                    entry["at_end"] = await eval_lag(run)
                if "storm" in args.classes:
                    run.cases += await storm_class(run, classes["storm"], args.eval_lags[-1])
                    run.phases["storm"] = time.monotonic() - run.start
                died = fleet.exited()
                return {
                    "cases": run.cases,
                    "lags": run.lags,
                    "noise": run.noise,
                    "storm": [dataclasses.asdict(s) for s in run.storms],
                    "store": "SQLite" if url.startswith("sqlite") else f"PostgreSQL ({redact_url(url)})",
                    "phases": run.phases,
                    "died": died,
                    "observer_errors": dict(obs.errors),
                    "weddings": roles,
                    "guarantee": run.guarantee,
                    "incidents": [i.row | {"seen": i.seen - run.start} for i in obs.incidents.values()],
                    "hits": [dataclasses.asdict(h) | {"t": h.t - run.start} for h in obs.hits],
                }
        finally:
            if poller is not None:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
            if obs.store is not None:
                await obs.store.close()
            if local is not None:
                local.stop()
            await target_runner.cleanup()


# --- report ------------------------------------------------------------------------------------


def spread(values: list[float | None], total: int) -> str:
    """p50 / p95 / max of the values (nearest rank); a missing value counts as infinite."""
    if not total:
        return "—"
    got = sorted(v for v in values if v is not None)
    if not got:
        return "none"
    full = got + [float("inf")] * (total - len(got))

    def fmt(v: float) -> str:
        return "none" if v == float("inf") else f"{v:.0f}"

    return f"{fmt(percentile(full, 50))} / {fmt(percentile(full, 95))} / {fmt(full[-1])}"


def p95(values: list[float | None]) -> float:
    full = sorted(float("inf") if v is None else v for v in values)
    return percentile(full, 95) if full else float("nan")


def _lag_text(lags: list[dict[str, Any]], want: str) -> str:
    entry = next((e for e in lags if e["want"] == want), None)
    if entry is None:
        return want
    shown = [f"{v:.1f}" for v in (entry.get("at_start"), entry.get("at_end")) if v is not None]
    return f"{want} ({'→'.join(shown)} s)"


def report(result: dict[str, Any], args: argparse.Namespace, classes: dict[str, FaultClass]) -> int:
    """Print the tables and goals, write the JSON; 0 when every goal holds, else 1."""
    cases: list[Case] = result["cases"]
    rows: list[list[object]] = []
    failed: list[str] = []
    groups = [
        (key, lag) for lag in args.eval_lags for key in classes if any(c.cls == key and c.lag == lag for c in cases)
    ]
    for key, lag in groups:
        fault = classes[key]
        mine = [c for c in cases if c.cls == key and c.lag == lag]
        n = len(mine)
        acted = f"{sum(1 for c in mine if c.action is not None)}/{n}"
        lag_cell = _lag_text(result["lags"], lag)
        if key == "month":
            fired = [c for c in mine if c.alerts]
            rows.append([fault.title, lag_cell, acted, "untracked",
                         spread([c.firing for c in mine], n) if fired else "—",
                         spread([c.receiver for c in mine], n) if fired else "—",
                         spread([c.action for c in mine], n) if fired else f"no alert within {args.month_budget:g} s ({n}/{n})",
                         ", ".join(sorted({a for c in mine for a in c.alerts})) or "none"])  # fmt: skip
            continue
        rows.append([fault.title, lag_cell, acted, spread([c.bad_probe for c in mine], n), spread([c.firing for c in mine], n),
                     spread([c.receiver for c in mine], n), spread([c.action for c in mine], n),
                     ", ".join(dict.fromkeys(c.alerts[0] for c in mine if c.alerts)) or "none"])  # fmt: skip
    print(table(["fault class", "scrape → eval lag", "acted", "→ 1st bad probe", "→ firing", "→ receiver", "→ 1st action",
                 "first alert"], rows,
                title="Fault → detection → action at production settings, seconds after the fault: p50 / p95 / max"))  # fmt: skip
    print()
    case_rows = [[c.cls, c.lag, c.repeat, c.wedding_id or "(all)", round(c.offset, 1),
                  *("—" if v is None else round(v, 1) for v in (c.bad_probe, c.firing, c.receiver, c.action)),
                  c.first_action or "—", ", ".join(c.alerts) or "—", c.note or ""] for c in cases]  # fmt: skip
    print(table(["class", "lag", "rep", "wedding", "offset", "bad probe", "firing", "receiver", "action", "first", "alerts",
                 "note"], case_rows, title="Every repeat (seconds after the fault)"))  # fmt: skip
    print()
    storm_report(result, cases)
    print(f"store: {result['store']}")
    print(f"anchor, {ANCHOR}")
    print(f"arithmetic, {ARITHMETIC}")
    print("scrape → eval lag: seconds from the exporter's scrape to the wedwatch.live group's evaluation (fixed per "
          "deployment: both offsets are hashes); under 5 s the 25 s window holds three scrapes, above it two")  # fmt: skip
    month_probes = result["noise"].get("month_probes")
    if month_probes:
        print(f"month-away weddings' guest-list probes during their windows: {month_probes['guest_list_probes']:.0f}, "
              f"of which slower than the guarantee: {month_probes['slow']:.0f}")  # fmt: skip
    print()
    for key, lag in groups:
        fault = classes[key]
        mine = [c for c in cases if c.cls == key and c.lag == lag]
        if key == "month":
            fast = sum(1 for c in mine if c.fast_path)
            print(f"goal {fault.title}: no fast-path alert within {args.month_budget:g} s: {fast} of {len(mine)}: "
                  f"{'met' if not fast else 'MISSED'}")  # fmt: skip
            if fast:
                failed.append(f"{fault.title}: a fast-path alert fired for {fast} of {len(mine)}")
            continue
        worst = p95([c.action for c in mine])
        shown = f"none within {args.timeout:g} s" if worst == float("inf") else f"{worst:.0f} s"
        verdict = "met" if worst <= GOAL_SECONDS else ("limit met, goal missed" if worst <= LIMIT_SECONDS else "MISSED")
        print(f"goal {fault.title}, lag {lag}: fault → first action p95 {shown} "
              f"(goal ≤ {GOAL_SECONDS:g} s, limit ≤ {LIMIT_SECONDS:g} s): {verdict}")  # fmt: skip
        if worst > LIMIT_SECONDS:
            failed.append(f"{fault.title}, lag {lag}: p95 {shown} > {LIMIT_SECONDS:g} s")
    noise = result["noise"]
    if "events" in noise:
        n_inc, n_act = len(noise["incidents"]), len(noise["actions"])
        print()
        print(table(["minutes", "events", "by kind", "probes affected", "above guarantee", "missed", "next not clean",
                     "incidents", "non-log actions", "pending only"],
                    [[noise["minutes"], len(noise["events"]), ", ".join(f"{k} {v}" for k, v in sorted(noise["by_kind"].items())),
                      noise["affected_probes"], noise["breaching_probes"], noise["missed_steps"], noise["next_probe_not_clean"],
                      n_inc, n_act, f"{noise['pending_only_count']} ({', '.join(noise['pending_only']) or '—'})"]],
                    title=f"Noise run ({_lag_text(result['lags'], args.eval_lags[0])}): one-off slow probes, one-off "
                          "failures, jitter on live weddings"))  # fmt: skip
        if noise["incidents"]:
            print("noise incidents: " + "; ".join(f"{i.get('alertname')} {i.get('wedding_id')} {i.get('operation')}"
                                                   for i in noise["incidents"]))  # fmt: skip
        if noise["other_incidents"]:
            names = Counter(f"{i['alertname']} {i['operation'] or ''}".strip() for i in noise["other_incidents"])
            print(f"other incidents during the noise run, not on a noised wedding or operation: {dict(names)}")
        verdict = "met" if n_inc == 0 and n_act == 0 else "MISSED"
        print(f"goal noise run: 0 incidents and 0 non-log actions: {n_inc} and {n_act}: {verdict}")
        if n_inc or n_act:
            failed.append(f"noise run: {n_inc} incidents, {n_act} actions")
    if result["died"]:
        failed.append(f"processes died: {result['died']}")
    if result["observer_errors"]:
        print(f"observer errors (polls that failed): {result['observer_errors']}")
    path = write_json(args.name, {
        "settings": dict(vars(args)),
        "source": source(),
        "goals": {"limit_seconds": LIMIT_SECONDS, "goal_seconds": GOAL_SECONDS, "failed": failed},
        **{k: v for k, v in result.items() if k != "cases"},
        "cases": [dataclasses.asdict(c) for c in cases],
    })  # fmt: skip
    print(f"\n{path}")
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


def storm_report(result: dict[str, Any], cases: list[Case]) -> None:
    """Class 6's storms: every repeat, then one line."""
    storms: list[dict[str, Any]] = result.get("storm") or []
    if not storms:
        return

    def cell(v: float | None) -> object:
        return "—" if v is None else round(v, 1)

    def count(v: float | None) -> str:
        return "—" if v is None else f"{v:,.0f}"

    live = {c.repeat: c for c in cases if c.cls == "storm"}
    rows = []
    for s in storms:
        case = live.get(s["repeat"])
        guess = "" if s["guessed_probe"] is None else f"; probe guessed {s['guessed_probe']:.1f}"
        aim = f"{s['lead']:.1f} ({s['aimed_from'] or '—'}{', late ' + format(s['late'], '.1f') if s['late'] else ''}{guess})"
        latency = ", ".join(f"≤{k} {v:.0f}" for k, v in s["latency"].items() if v and k != "+Inf")
        rows.append([s["repeat"], case.wedding_id if case else "—", cell(s["delay"]), aim,
                     f"{cell(s['first_received'])}-{cell(s['last_received'])}", cell(s["acked"]),
                     f"{s['taken']:,}/{s['alerts']:,}", cell(s["predicted_live"]), cell(s["live_received"]),
                     count(s["received_before_live"]), count(s["unanswered_at_live"]), count(s["answered_at_action"]),
                     cell(None if case is None or case.action is None or case.receiver is None else case.action - case.receiver),
                     f"{latency}; failed {s['failed_requests']:.0f}" if latency else "—",
                     s["note"] or ""])  # fmt: skip
    first = storms[0]
    print(table(["rep", "live wedding", "posted after fault", "aimed lead", "storm received", "storm answered",
                 "storm incidents", "live predicted", "live received", "storm alerts received before live",
                 "storm notif. unanswered at live", "answered at live action", "live received → action",
                 "webhook latency (Alertmanager)", "note"], rows,
                title=f"Class 6, the storm: {first['alerts']:,} {STORM_ALERTNAME} severity {STORM_SEVERITY} alerts "
                      f"({first['weddings']:,} weddings × {-(-first['alerts'] // first['weddings'])} operations, "
                      f"{first['weddings']:,} notifications) posted to Alertmanager; seconds after posting unless said"))  # fmt: skip
    n = len(storms)
    during = sum(1 for s in storms if s["unanswered_at_live"])
    answered = spread([s["acked"] for s in storms], n)
    unanswered = ", ".join(count(s["unanswered_at_live"]) for s in storms)
    before = ", ".join(count(s["answered_at_action"]) for s in storms)
    print(f"storm: Alertmanager had all {first['weddings']:,} notifications answered {answered} s after posting "
          f"(p50 / p95 / max; its group_wait is 30 s); the live alert reached the receiver with {unanswered} of them "
          f"unanswered (during the storm in {during} of {n} repeats); answered when the live first action came: "
          f"{before} (Alertmanager's count of webhook requests: the few other notifications of those seconds in it)")  # fmt: skip
    print()


def source() -> dict[str, Any]:
    """Which wedwatch ran: this repository's tree (its commit, and whether src/ had uncommitted edits),
    or another tree given by PYTHONPATH (then only its path: its commit is what it was taken from)."""

    def git(*argv: str) -> str:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return ""

    tree = Path(wedwatch.__file__).resolve().parent
    if tree.is_relative_to(ROOT):
        return {
            "wedwatch": str(tree),
            "head": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "src")),
        }
    return {"wedwatch": str(tree), "outside_repository": True, "repository_head_at_end": git("rev-parse", "HEAD")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each fault class (default 5)")
    parser.add_argument(
        "--noise-minutes", type=float, default=30.0, help="length of the noise run; 0 skips it (default 30)"
    )
    parser.add_argument(
        "--classes",
        default="slow,photo,stall,mobile,month,storm",
        help="fault classes to run, comma-separated (default all six)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="live classes: seconds from the fault to wait for the first action (default 180)",
    )
    parser.add_argument(
        "--month-budget",
        type=float,
        default=330.0,
        help="class 5: seconds the fault stays on a month-away wedding, watched for alerts (default 330)",
    )
    parser.add_argument(
        "--eval-lags",
        default="short,long",
        help="scrape → live-group evaluation lags to run classes 1-3 under, in order: short (< 5 s, the "
        "fast path's window holds 3 scrapes), long (> 5 s: 2), any (as it comes); classes 4, 5 "
        "and the noise run go with the first (default short,long)",
    )
    parser.add_argument(
        "--lag-repeats",
        type=int,
        default=None,
        help="repeats of classes 1-3 under the lags after the first (default: --repeats)",
    )
    parser.add_argument(
        "--hang-operation", default="guest_list", help="class 3: the operation that hangs (default guest_list)"
    )
    parser.add_argument(
        "--stagger", type=float, default=6.0, help="seconds between the starts of interleaved cases (default 6)"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=150.0,
        help="class 4: at most this long for a repeat's alerts to resolve before the next (default 150)",
    )
    parser.add_argument("--noise-weddings", type=int, default=10, help="live weddings of the noise run (default 10)")
    parser.add_argument(
        "--noise-pair-gap",
        type=float,
        default=600.0,
        help="seconds between two noise events on one wedding's operation (default 600)",
    )
    parser.add_argument(
        "--noise-min-age",
        type=float,
        default=720.0,
        help="the noise run starts once the exporter is this old (default 720 s; below, one failed probe "
        "fires WedwatchWeddingUnavailable, a 1-hour average over a few minutes of samples)",
    )
    parser.add_argument(
        "--noise-tail", type=float, default=60.0, help="seconds watched after the last noise event (default 60)"
    )
    parser.add_argument(
        "--storm-alerts", type=int, default=12_000, help="class 6: alerts in each storm (default 12,000: 2,000 × 6)"
    )
    parser.add_argument("--storm-repeats", type=int, default=None, help="class 6: repeats (default: --repeats)")
    parser.add_argument(
        "--storm-lead",
        default="0,4",
        help="class 6: the storm reaches the receiver a random LOW,HIGH seconds before the live alert is predicted "
        "to (default 0,4)",
    )
    parser.add_argument(
        "--storm-timeout",
        type=float,
        default=300.0,
        help="class 6: at most this long after posting for the storm's notifications to be answered (default 300)",
    )
    parser.add_argument("--min-live", type=int, default=24, help="at least this many live weddings (spares fill up)")
    parser.add_argument(
        "--poll", type=float, default=0.5, help="seconds between polls of Prometheus, receiver, exporter"
    )
    parser.add_argument("--store-url", help="a PostgreSQL server (postgresql://…): the run uses a fresh schema there")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--name", default="detect", help="results file name (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    args.classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    args.eval_lags = [c.strip() for c in args.eval_lags.split(",") if c.strip()]
    if (
        not args.eval_lags
        or any(lag not in ("short", "long", "any") for lag in args.eval_lags)
        or len(set(args.eval_lags)) < len(args.eval_lags)
    ):
        parser.error("--eval-lags: distinct values among short, long, any")
    if args.lag_repeats is None:
        args.lag_repeats = args.repeats
    if args.storm_repeats is None:
        args.storm_repeats = args.repeats
    try:
        low, high = (float(v) for v in args.storm_lead.split(","))
    except ValueError:
        parser.error("--storm-lead: LOW,HIGH seconds")
    if not low <= high or args.storm_alerts < 1 or args.storm_repeats < 1:
        parser.error("--storm-lead: LOW <= HIGH; --storm-alerts, --storm-repeats: at least 1")
    args.storm_lead = (low, high)
    classes = fault_classes(args.hang_operation, args.storm_alerts)
    unknown = [c for c in args.classes if c not in classes]
    if unknown or args.repeats < 1:
        parser.error(
            f"--classes: unknown {unknown} (known: {', '.join(classes)})" if unknown else "--repeats: at least 1"
        )
    random.seed(args.seed)
    workdir = RESULTS / f"{args.name}-run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        result = asyncio.run(detect(args, workdir))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ndetect interrupted or terminated; every process it started is stopped", file=sys.stderr)
        return 130
    return report(result, args, {k: v for k, v in classes.items() if k in args.classes})


if __name__ == "__main__":
    sys.exit(main())
