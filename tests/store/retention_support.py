"""Helpers for the retention tests: rows of every kind placed around their cutoffs, read back by label."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from wedwatch.config.retention import RetentionConfig
from wedwatch.store import CriticalPathSample, ProbeAggregate, Store
from wedwatch.store.pruning import cutoffs_at
from wedwatch.store.sqlite import sqlite_path

AT = datetime(2028, 6, 1, 12, 0, tzinfo=UTC)
WINDOWS = RetentionConfig().windows()
CUTOFFS = cutoffs_at(WINDOWS, AT)
TICK = timedelta(microseconds=1)
LONG_AGO = AT - timedelta(days=3000)

# One label column per table, to tell rows apart; literal SQL (identifiers are never assembled).
LABELS = {
    "notifications": "SELECT dedup_key FROM notifications",
    "wedding_performance_metrics": "SELECT wedding_id FROM wedding_performance_metrics",
    "critical_path_metrics": "SELECT wedding_id FROM critical_path_metrics",
    "scaling_prediction_sets": "SELECT model FROM scaling_prediction_sets",
    "optimization_results": "SELECT idempotency_key FROM optimization_results",
    "action_outbox": "SELECT idempotency_key FROM action_outbox",
    "emergency_events": "SELECT reason FROM emergency_events",
    "performance_alerts": "SELECT fingerprint FROM performance_alerts",
    "degradation_responses": "SELECT wedding_id FROM degradation_responses",
}


def cutoff(kind: str) -> datetime:
    """The kind's cutoff at AT under the default windows."""
    value = CUTOFFS[kind]
    assert value is not None
    return value


async def labels(url: str) -> dict[str, set[str]]:
    """Each table's labels, read beside the store."""
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return {table: {str(r[0]) for r in conn.execute(sql)} for table, sql in LABELS.items()}
        finally:
            conn.close()
    found: dict[str, set[str]] = {}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for table, query in LABELS.items():
            cur = await conn.execute(query)  # type: ignore[arg-type]  # literal SQL from LABELS
            found[table] = {str(r[0]) for r in await cur.fetchall()}
    return found


@dataclass
class Seeded:
    """What a pass at AT must remove (`gone`) and keep (`kept`), as labels per table."""

    gone: dict[str, set[str]]
    kept: dict[str, set[str]]

    def expect(self, table: str, *, gone: tuple[str, ...] = (), kept: tuple[str, ...] = ()) -> None:
        self.gone.setdefault(table, set()).update(gone)
        self.kept.setdefault(table, set()).update(kept)

    def counts(self) -> dict[str, int]:
        return {table: len(labels) for table, labels in self.gone.items()}


def _aggregate(wedding_id: str, phase: str, bucket_start: datetime) -> ProbeAggregate:
    tier = "wedding_day" if phase in ("ceremony", "wedding_day") else "standard"
    return ProbeAggregate(wedding_id, "guest_list", bucket_start, 300, tier, phase, 1, 0, 0.2, 0.2)


async def _incident(store: Store, name: str, *, status: str, seen: datetime) -> int:
    incident_id, _ = await store.upsert_incident(
        fingerprint=name, starts_at=seen - timedelta(hours=1), alertname="A", status=status, severity="high",
        labels={"alertname": "A"}, annotations={}, seen_at=seen,
    )  # fmt: skip
    await store.record_response(
        incident_id=incident_id, strategy="urgent", severity="high", decided_at=seen, wedding_id=name
    )
    return incident_id


async def _action(store: Store, key: str, incident_id: int | None, *, finished: datetime | None, at: datetime) -> None:
    assert await store.enqueue_action(incident_id, "log", key, {"strategy": "urgent"}, now=at)
    if finished is not None:
        rows = await store.claim_actions("w", 100, 60, at)
        for row in rows:
            if row["idempotency_key"] == key:
                await store.finish_action(row["id"], "done", now=finished)
            else:  # claimed by the way: back to pending as it was
                await store.release_action(row["id"], not_before=at)


async def seed(store: Store) -> Seeded:
    """Rows of every kind just outside (cutoff - 1 µs) and just inside (at the cutoff) their windows,
    and the rows that must stay however old."""
    s = Seeded({}, {})
    n = cutoff("notifications")
    for key, at in (("n-old", n - TICK), ("n-edge", n), ("n-new", AT)):
        assert await store.record_notification(
            dedup_key=key, group_key="g", receiver="r", status="firing", alert_count=1, payload={"k": key}, received_at=at
        )
    s.expect("notifications", gone=("n-old",), kept=("n-edge", "n-new"))

    u, t = cutoff("probe_aggregates_untracked"), cutoff("probe_aggregates_tracked")
    await store.record_probe_aggregates([
        _aggregate("u-old-planning", "planning", u - TICK), _aggregate("u-old-month", "month", u - TICK),
        _aggregate("u-edge", "planning", u), _aggregate("u-new", "month", AT),
        # Tracked phases between the two windows stay; past the longer one they go.
        _aggregate("t-mid", "eve", u - timedelta(days=1)),
        _aggregate("t-old-week", "week", t - TICK), _aggregate("t-old-ceremony", "ceremony", t - TICK),
        _aggregate("t-old-after", "after", t - TICK), _aggregate("t-edge", "wedding_day", t),
    ])  # fmt: skip
    s.expect(
        "wedding_performance_metrics",
        gone=("u-old-planning", "u-old-month", "t-old-week", "t-old-ceremony", "t-old-after"),
        kept=("u-edge", "u-new", "t-mid", "t-edge"),
    )

    c = cutoff("critical_path")
    await store.record_critical_path([CriticalPathSample("c-old", c - TICK), CriticalPathSample("c-edge", c)])
    s.expect("critical_path_metrics", gone=("c-old",), kept=("c-edge",))

    p = cutoff("prediction_sets")
    for model, series, created in (("p-old", "a", p - TICK), ("p-edge", "a", p), ("p-lone", "b", LONG_AGO)):
        await store.save_prediction_set(
            series=series, horizon_start=created, horizon_end=created + timedelta(hours=48), model=model,
            points=[], created_at=created,
        )  # fmt: skip
    # p-lone is its series' newest: it stays however old.
    s.expect("scaling_prediction_sets", gone=("p-old",), kept=("p-edge", "p-lone"))

    o = cutoff("optimization_results")
    for key, at in (("o-old", o - TICK), ("o-edge", o)):
        assert await store.record_optimization(
            kind="scale", resource="instances", executed_at=at, outcome="ok", idempotency_key=key
        )
    s.expect("optimization_results", gone=("o-old",), kept=("o-edge",))

    a = cutoff("plan_actions")
    await _action(store, "a-old", None, finished=a - TICK, at=LONG_AGO)
    await _action(store, "a-edge", None, finished=a, at=LONG_AGO)
    await _action(store, "a-pending", None, finished=None, at=LONG_AGO)
    s.expect("action_outbox", gone=("a-old",), kept=("a-edge", "a-pending"))

    i = cutoff("incidents")
    old = await _incident(store, "i-old", status="resolved", seen=i - TICK)
    await _action(store, "i-old:log", old, finished=i - TICK, at=i - timedelta(days=1))
    await _incident(store, "i-edge", status="resolved", seen=i)
    firing = await _incident(store, "i-firing", status="firing", seen=LONG_AGO)
    await _action(store, "i-firing:log", firing, finished=LONG_AGO, at=LONG_AGO)
    waiting = await _incident(store, "i-pending", status="resolved", seen=LONG_AGO)
    await _action(store, "i-pending:done", waiting, finished=LONG_AGO, at=LONG_AGO)
    await _action(store, "i-pending:queued", waiting, finished=None, at=LONG_AGO)
    by_pruned_period = await _incident(store, "i-pruned-period", status="resolved", seen=LONG_AGO)
    by_kept_period = await _incident(store, "i-kept-period", status="resolved", seen=LONG_AGO)
    by_open_period = await _incident(store, "i-open-period", status="resolved", seen=LONG_AGO)
    s.expect(
        "performance_alerts",
        gone=("i-old", "i-pruned-period"),
        kept=("i-edge", "i-firing", "i-pending", "i-kept-period", "i-open-period"),
    )
    s.expect("degradation_responses", gone=("i-old", "i-pruned-period"), kept=("i-edge", "i-firing", "i-pending"))
    s.expect("degradation_responses", kept=("i-kept-period", "i-open-period"))
    s.expect("action_outbox", gone=("i-old:log",), kept=("i-firing:log", "i-pending:done", "i-pending:queued"))

    e = cutoff("emergency_periods")
    for reason, incident_id, exited in (
        ("e-old", by_pruned_period, e - TICK), ("e-edge", by_kept_period, e), ("e-open", by_open_period, None),
    ):  # fmt: skip
        assert await store.enter_emergency(entered_at=LONG_AGO, reason=reason, incident_id=incident_id)
        if exited is not None:
            assert await store.exit_emergency(exited_at=exited, reason="resolved")
    s.expect("emergency_events", gone=("e-old",), kept=("e-edge", "e-open"))
    return s
