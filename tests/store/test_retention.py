"""Retention on both back ends: a pass removes exactly what the windows allow at a given instant,
never what must stay (firing incidents, unfinished actions, the open emergency period and what
they refer to), and a dry run counts the same rows without removing any."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from wedwatch.calendar.phases import TRACKED_PHASES
from wedwatch.config import Phase, parse_config
from wedwatch.config.retention import RetentionConfig
from wedwatch.errors import ConfigError
from wedwatch.store import Store
from wedwatch.store.pruning import prune
from wedwatch.store.queries import load_queries
from wedwatch.store.retention import KIND_NAMES, KINDS, PRUNED_TABLES

from .retention_support import AT, LONG_AGO, WINDOWS, Seeded, labels, seed


def _remaining(before: dict[str, set[str]], seeded: Seeded) -> dict[str, set[str]]:
    return {table: found - seeded.gone.get(table, set()) for table, found in before.items()}


async def test_a_pass_removes_exactly_what_the_windows_allow(store: Store, store_url: str) -> None:
    seeded = await seed(store)
    before = await labels(store_url)
    for table in seeded.gone:  # the seed placed what it says
        assert seeded.gone[table] | seeded.kept[table] == before[table], table

    report = await prune(store, WINDOWS, holder="test", at=AT, batch_size=2)

    assert not report.skipped and not report.lease_lost
    after = await labels(store_url)
    assert after == _remaining(before, seeded)
    for table, kept in seeded.kept.items():
        assert kept <= after[table], f"{table}: {sorted(kept - after[table])} were removed"
    assert {t: n for t, n in report.tables.items() if n} == {t: n for t, n in seeded.counts().items() if n}
    assert report.kinds["incidents"] == 2 and report.kinds["probe_aggregates_tracked"] == 3
    # Everything allowed went in one pass: a second finds nothing.
    again = await prune(store, WINDOWS, holder="test", at=AT, batch_size=2)
    assert again.rows == 0
    assert await labels(store_url) == after


async def test_dry_run_counts_what_the_pass_removes_and_removes_nothing(store: Store, store_url: str) -> None:
    seeded = await seed(store)
    before = await labels(store_url)
    dry = await prune(store, WINDOWS, holder="test", at=AT, dry_run=True)
    assert await labels(store_url) == before
    assert await store.get_lease("prune") is None  # a dry run takes no lease
    real = await prune(store, WINDOWS, holder="test", at=AT, batch_size=3)
    assert dry.tables == real.tables
    assert dry.kinds == real.kinds
    assert dry.rows == sum(seeded.counts().values()) > 0
    assert dry.to_dict()["dry_run"] is True and real.to_dict()["dry_run"] is False


async def test_the_firing_the_unfinished_and_the_open_emergency_stay_however_old(store: Store, store_url: str) -> None:
    await seed(store)
    # Twenty years later, with every window at its shortest: only what must stay is left.
    shortest = dict.fromkeys(KIND_NAMES, timedelta(days=1))
    await prune(store, shortest, holder="test", at=AT + timedelta(days=7300))
    left = await labels(store_url)
    assert left["performance_alerts"] == {"i-firing", "i-pending", "i-open-period"}
    assert left["degradation_responses"] == {"i-firing", "i-pending", "i-open-period"}
    assert left["action_outbox"] == {"a-pending", "i-firing:log", "i-pending:done", "i-pending:queued"}
    assert left["emergency_events"] == {"e-open"}
    active = await store.active_emergency()
    assert active is not None and active["incident_id"] is not None
    # Each series' newest forecast stays too; everything else is gone.
    assert left["scaling_prediction_sets"] == {"p-edge", "p-lone"}
    for table in ("notifications", "wedding_performance_metrics", "critical_path_metrics", "optimization_results"):
        assert left[table] == set(), table


async def test_a_window_of_none_keeps_that_kind_forever(store: Store, store_url: str) -> None:
    await seed(store)
    forever = {**WINDOWS, "notifications": None, "incidents": None}
    report = await prune(store, forever, holder="test", at=AT + timedelta(days=7300))
    left = await labels(store_url)
    assert left["notifications"] == {"n-old", "n-edge", "n-new"}
    assert {"i-old", "i-edge", "i-pruned-period"} <= left["performance_alerts"]
    assert report.to_dict()["kinds"]["incidents"] == {"retention_days": None, "cutoff": None, "rows": 0}


async def test_batches_are_small_and_reported_as_they_commit(store: Store) -> None:
    for i in range(7):
        await store.record_notification(
            dedup_key=f"n{i}", group_key="g", receiver="r", status="firing", alert_count=1, payload={},
            received_at=LONG_AGO + timedelta(seconds=i),
        )  # fmt: skip
    seen: list[dict[str, int]] = []
    report = await prune(store, WINDOWS, holder="test", at=AT, batch_size=3, pause_seconds=0, on_batch=seen.append)
    notification_batches = [b["notifications"] for b in seen if "notifications" in b]
    assert len(notification_batches) >= 3 and max(notification_batches) <= 3
    assert sum(notification_batches) == report.tables["notifications"] == 7


def test_config_kinds_are_the_stores_kinds() -> None:
    assert list(RetentionConfig().windows()) == list(KIND_NAMES)
    assert set(PRUNED_TABLES) == {table for kind in KINDS for table in kind.tables}


def test_the_sql_splits_phases_as_tracking_does() -> None:
    # The prunable queries name the phases literally (the store does not import the calendar).
    queries = load_queries("sqlite")

    def phases(name: str) -> set[str]:
        found = re.search(r"phase IN \(([^)]*)\)", queries[name])
        assert found is not None
        return set(re.findall(r"'([a-z_]+)'", found.group(1)))

    tracked = phases("prunable_probe_aggregates_tracked")
    untracked = phases("prunable_probe_aggregates_untracked")
    assert tracked == {p.value for p in TRACKED_PHASES}
    assert tracked | untracked == {p.value for p in Phase} and not tracked & untracked
    assert phases("count_prunable_probe_aggregates_tracked") == tracked
    assert phases("count_prunable_probe_aggregates_untracked") == untracked



def test_config_windows_are_days_or_forever() -> None:
    loaded = parse_config("store:\n  retention:\n    notifications_days: 7\n    incidents_days: null\n", source="w.yml")
    windows = loaded.config.store.retention.windows()
    assert windows["notifications"] == timedelta(days=7) and windows["incidents"] is None
    assert windows["probe_aggregates_untracked"] == timedelta(days=14)


@pytest.mark.parametrize("bad", ["0", "0.5", "-3"])
def test_config_refuses_less_than_a_day_and_says_how_to_keep_forever(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"store\.retention\.notifications_days: .*null keeps this data forever"):
        parse_config(f"store:\n  retention:\n    notifications_days: {bad}\n", source="w.yml")
