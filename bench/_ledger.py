"""What the receivers decided and did, read from their store, and the check that every action ran exactly once.

The soak and bench/saturday.py end with this check. Its sources, independent of each other:

- the store: each decision (`degradation_responses.details.actions`) and the outbox rows it
  queued (`action_outbox`: status, attempts, which worker claimed it), read behind the store's
  back with plain SELECTs on either back end;
- each receiver's `wedwatch_actions_total{outcome="succeeded"}`: every execution counts once in
  the process that ran it, so the sum over replicas exceeds the `done` rows if any ran twice;
- optionally the hits an action target recorded (`Sink`), keyed by action and incident: what
  actually reached the outside world.

An action is **lost** when it was decided but never queued, is still pending or running after
the run drained, or is `done` without reaching its target; **duplicated** when it was queued
twice, reached its target twice, was counted as run more often than rows say, or ran without a
decision. A retry after a failure is neither (it is counted as `retried`).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Ledger", "Sink", "read_tables", "count_unfinished", "drain", "check", "executions", "UNFINISHED"]

UNFINISHED = ("pending", "running")
_QUERIES = {
    "responses": "SELECT incident_id, strategy, severity, details, resolution_seconds, outcome, resolved_at "
    "FROM degradation_responses",
    "actions": "SELECT id, incident_id, action, status, attempts, claimed_by, error FROM action_outbox",
    "incidents": "SELECT id, alertname, severity, escalated_severity, strategy, status, wedding_id FROM performance_alerts",
}


def read_tables(store_url: str) -> dict[str, list[dict[str, Any]]]:
    """The receiver's decisions, outbox and incidents, from `sqlite:///path` or `postgresql://…` (read only)."""
    tables = _select(store_url, _QUERIES)
    for row in tables["responses"]:
        if isinstance(row["details"], str):  # SQLite keeps JSON as text
            row["details"] = json.loads(row["details"])
    return tables


def count_unfinished(store_url: str) -> int:
    """Outbox rows still pending or running."""
    sql = "SELECT count(*) AS n FROM action_outbox WHERE status IN ('pending', 'running')"  # UNFINISHED
    return int(_select(store_url, {"n": sql})["n"][0]["n"])


async def drain(
    store_url: str, timeout: float, *, every: float = 1.0, on_wait: Callable[[int], None] | None = None
) -> int:
    """Wait (at most `timeout` seconds) until the outbox holds nothing pending or running; how many rows still do."""
    deadline = time.monotonic() + timeout
    while (left := await asyncio.to_thread(count_unfinished, store_url)) and time.monotonic() < deadline:
        if on_wait is not None:
            on_wait(left)
        await asyncio.sleep(every)
    return left


def _select(store_url: str, queries: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    if store_url.startswith("sqlite:///"):
        conn = sqlite3.connect(f"file:{store_url.removeprefix('sqlite:///')}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return {name: [dict(r) for r in conn.execute(sql)] for name, sql in queries.items()}
        finally:
            conn.close()
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(store_url, row_factory=dict_row) as pg:
        return {name: list(pg.execute(sql).fetchall()) for name, sql in queries.items()}


def executions(metrics_text: str) -> Counter[str]:
    """Actions one receiver ran to success, by action, from its /metrics."""
    from _support import samples

    out: Counter[str] = Counter()
    for _, labels, value in samples(metrics_text, "wedwatch_actions_total"):
        if labels.get("outcome") == "succeeded":
            out[labels["action"]] += int(value)
    return out


@dataclass
class Ledger:
    """The outcome of the check; `ok` when nothing was lost or duplicated."""

    decided: int = 0
    queued: int = 0
    by_status: Counter[tuple[str, str]] = field(default_factory=Counter)  # (action, status)
    by_worker: Counter[str] = field(default_factory=Counter)  # executions per claiming worker
    retried: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing duplicated."""
        return not self.lost and not self.duplicated

    def summary(self) -> dict[str, Any]:
        """For the JSON results (the first 50 findings of each kind)."""
        return {
            "decided": self.decided,
            "queued": self.queued,
            "by_status": {f"{a} {s}": n for (a, s), n in sorted(self.by_status.items())},
            "by_worker": dict(self.by_worker),
            "retried": self.retried,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "lost_examples": self.lost[:50],
            "duplicated_examples": self.duplicated[:50],
        }


def check(
    tables: Mapping[str, list[dict[str, Any]]],
    counted: Counter[str],
    hits: Mapping[tuple[str, str], Counter[str]] | None = None,
    watched: Iterable[str] = (),
) -> Ledger:
    """Compare decisions, outbox rows, the receivers' execution counters and a target's `hits` for the
    `watched` actions (those configured to call it)."""
    watched = frozenset(watched)
    ledger = Ledger()
    decided = {
        (int(r["incident_id"]), str(a)) for r in tables["responses"] for a in (r["details"] or {}).get("actions", [])
    }
    ledger.decided = len(decided)
    rows: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in tables["actions"]:
        if row["incident_id"] is None:
            continue  # a step of the forecaster's plan: no decision behind it
        rows.setdefault((int(row["incident_id"]), str(row["action"])), []).append(row)
    ledger.queued = sum(len(v) for v in rows.values())
    for key in sorted(decided - rows.keys()):
        ledger.lost.append(f"incident {key[0]}: {key[1]} was decided and never queued")
    for key in sorted(rows.keys() - decided):
        ledger.duplicated.append(f"incident {key[0]}: {key[1]} was queued without a decision")
    done: Counter[str] = Counter()
    for (incident, action), found in sorted(rows.items()):
        _check_rows(ledger, incident, action, found, hits if action in watched else None)
        done[action] += sum(1 for r in found if r["status"] == "done")
    for action in sorted(done.keys() | counted.keys()):
        if counted[action] > done[action]:
            ledger.duplicated.append(
                f"{action}: the receivers ran it {counted[action]} times for {done[action]} done rows"
            )
        elif counted[action] < done[action]:
            ledger.lost.append(
                f"{action}: {done[action]} rows are done but the receivers counted {counted[action]} runs"
            )
    if hits is not None:
        for (action, hit), targets in sorted(hits.items()):
            if not hit.isdigit() or (int(hit), action) not in rows:
                ledger.duplicated.append(
                    f"incident {hit or '?'}: {action} reached its target {sum(targets.values())} times, no outbox row"
                )
    return ledger


def _check_rows(
    ledger: Ledger, incident: int, action: str, found: list[dict[str, Any]],
    hits: Mapping[tuple[str, str], Counter[str]] | None,
) -> None:  # fmt: skip
    what = f"incident {incident}: {action}"
    if len(found) > 1:
        ledger.duplicated.append(f"{what} was queued {len(found)} times")
    for row in found:
        status = str(row["status"])
        ledger.by_status[(action, status)] += 1
        if status == "done":
            ledger.by_worker[str(row["claimed_by"])] += 1
        if int(row["attempts"] or 0) > 1:
            ledger.retried += 1
        if status in UNFINISHED:
            ledger.lost.append(f"{what} is still {status} after the drain (attempts {row['attempts']})")
    if hits is None:
        return  # the target does not see this action (`log`, or no target at all)
    reached = hits.get((action, str(incident)), Counter())
    statuses = {str(r["status"]) for r in found}
    if "done" in statuses and not reached:
        ledger.lost.append(f"{what} is done but never reached its target")
    for target, n in sorted(reached.items()):
        if n > 1:
            ledger.duplicated.append(f"{what} reached its target {target or '(platform)'} {n} times")
    if reached and statuses <= {"skipped"}:
        ledger.duplicated.append(f"{what} was skipped but reached its target")


class Sink:
    """An action target that counts each hit by action, incident and sub-target.

    Actions are configured to call `/<action>/{incident_id}[/{wedding_id}]`; an action whose URL
    cannot carry the incident (notify) sends it in the `X-Incident` header and calls `/<action>`.
    """

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str], Counter[str]] = {}

    def url(self, base: str, action: str, *parts: str) -> str:
        """The URL template an action definition should call."""
        return "/".join([base.rstrip("/"), action, *parts])

    def app(self) -> web.Application:
        """The aiohttp app to serve."""

        async def hit(request: web.Request) -> web.Response:
            await request.read()
            action, _, rest = request.path.strip("/").partition("/")
            incident, _, target = rest.partition("/")
            incident = incident or request.headers.get("X-Incident", "")
            self.hits.setdefault((action, incident), Counter())[target] += 1
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", hit)
        return app
