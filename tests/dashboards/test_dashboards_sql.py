"""Every SQL panel runs on a real PostgreSQL with the store's migrations, and returns the seeded rows.

Grafana reads the store through its PostgreSQL datasource only, so these run on PostgreSQL alone.
The macros and variables are expanded as Grafana would (`Query.sql`, tests/grafana_queries.py); a table
or column a query names that the migrations do not create fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from grafana_queries import Query, all_queries

from wedwatch.store import CriticalPathSample, ProbeAggregate, Store, open_store_ctx

pytestmark = pytest.mark.postgres

WEDDING = "demo-ceremony"


async def _seed(store: Store, now: datetime) -> None:
    """One row of every kind a panel reads, inside the last hour (and a forecast into the next)."""
    await store.record_probe_aggregates(
        [ProbeAggregate(WEDDING, "guest_list", now - timedelta(minutes=10), 300, "wedding_day", "ceremony", 30, 1, 4.5, 0.4)]
    )
    await store.record_critical_path(
        [CriticalPathSample(WEDDING, now - timedelta(minutes=5), 120, 180, 60.0, 10, 12, 1, 45.0)]
    )
    firing, _ = await store.upsert_incident(
        fingerprint="f1", starts_at=now - timedelta(minutes=30), alertname="WedwatchWeddingDaySlow", status="firing",
        severity="medium", escalated_severity="high", strategy="urgent", wedding_id=WEDDING, operation="guest_list",
        labels={"alertname": "WedwatchWeddingDaySlow"}, annotations={}, seen_at=now - timedelta(minutes=29),
    )  # fmt: skip
    resolved, _ = await store.upsert_incident(
        fingerprint="f2", starts_at=now - timedelta(minutes=50), alertname="WedwatchOperationErrors", status="resolved",
        severity="high", escalated_severity="critical", strategy="emergency", operation="mobile",
        labels={"alertname": "WedwatchOperationErrors"}, annotations={}, ends_at=now - timedelta(minutes=20),
        seen_at=now - timedelta(minutes=19),
    )  # fmt: skip
    for incident, strategy in ((firing, "urgent"), (resolved, "emergency")):
        await store.record_response(
            incident_id=incident, strategy=strategy, severity="high", decided_at=now - timedelta(minutes=28),
            wedding_id=WEDDING if incident == firing else None,
        )  # fmt: skip
    await store.enqueue_action(resolved, "scale", "k1", {"instances": 6}, now=now - timedelta(minutes=28))
    await store.enqueue_action(resolved, "log", "k2", {}, now=now - timedelta(minutes=28))
    claimed = await store.claim_actions("w1", 10, 60, now - timedelta(minutes=27))
    assert len(claimed) == 2
    await store.finish_action(claimed[0]["id"], "done", {"ok": True}, now=now - timedelta(minutes=26))
    await store.finish_action(claimed[1]["id"], "failed", error="boom", now=now - timedelta(minutes=26))
    await store.complete_response_action(resolved, now - timedelta(minutes=26))
    await store.resolve_response(resolved, now - timedelta(minutes=20), "resolved")
    await store.record_optimization(
        kind="scale", resource="instances", executed_at=now - timedelta(minutes=26), outcome="succeeded",
        wedding_id=WEDDING, before_value=2, after_value=6,
    )  # fmt: skip
    hours = [now + timedelta(hours=h) for h in range(-2, 3)]
    await store.save_prediction_set(
        series="probes_per_second", horizon_start=hours[0], horizon_end=hours[-1], model="prophet",
        points=[{"ts": h.isoformat(), "yhat": 5.0, "yhat_lower": 4.0, "yhat_upper": 6.0} for h in hours],
        metrics={"relative_mae": 0.73}, recommendations=[{"resource": "instances", "desired": 4}],
        created_at=now - timedelta(minutes=5),
    )  # fmt: skip


def _sql_queries() -> list[Query]:
    return [q for q in all_queries() if q.datasource == "postgres"]


def test_there_are_sql_panels_for_every_store_table_the_issue_names() -> None:
    text = "\n".join(q.text for q in _sql_queries())
    for table in ("degradation_responses", "action_outbox", "performance_alerts", "scaling_prediction_sets",
                  "optimization_results", "wedding_performance_metrics", "critical_path_metrics"):  # fmt: skip
        assert f"FROM {table}" in text or f"JOIN {table}" in text, table


async def test_every_sql_panel_runs_and_returns_rows(postgres_schema_url: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with open_store_ctx(postgres_schema_url) as store:
        await _seed(store, now)
    problems: list[str] = []
    async with await psycopg.AsyncConnection.connect(postgres_schema_url) as conn:
        # Read-only, as Grafana's role is (deploy/compose/postgres/10-grafana-reader.sh).
        await conn.set_read_only(True)
        for query in _sql_queries():
            sql = query.sql(now - timedelta(hours=6), now + timedelta(hours=6), {"wedding_id": WEDDING})
            try:
                cur = await conn.execute(sql)
                rows = await cur.fetchall()
            except psycopg.Error as exc:
                problems.append(f"{query}: {exc}\n{sql}")
                await conn.rollback()
                continue
            await conn.rollback()
            if not rows:
                problems.append(f"{query}: no rows from the seeded store\n{sql}")
            elif query.format == "time_series" and "time" not in [c.name for c in cur.description or ()]:
                problems.append(f"{query}: a time series needs a `time` column")
    assert not problems, "\n\n".join(problems)

