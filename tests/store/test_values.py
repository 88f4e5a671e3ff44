"""Timestamps and JSON read back identically from both back ends (values.py's conventions)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wedwatch.store import Store
from wedwatch.store.values import RawJson, load_json

INSTANTS = [
    datetime(2027, 6, 12, 13, 0, tzinfo=UTC),
    datetime(2027, 6, 12, 15, 0, 0, 123456, tzinfo=ZoneInfo("Europe/London")),
    datetime(2027, 3, 28, 1, 30, 59, 999999, tzinfo=ZoneInfo("America/New_York")),
    datetime(2027, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]

PAYLOAD: dict[str, Any] = {
    "version": "4",
    "alerts": [{"labels": {"severity": "critical", "wedding_id": "w-1"}, "startsAt": "2027-06-12T13:00:00Z"}],
    "nested": {"empty_list": [], "empty_dict": {}, "null": None, "flags": [True, False]},
    "numbers": [0, -1, 2**53 + 1, 1.5, 1e-7, 12345678.125],
    "text": "Zoë & José's 🎉 — 100% :name %(x)s '--' \\ \" \n",
}


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda d: d.isoformat())
async def test_timestamps_round_trip_as_aware_utc(store: Store, instant: datetime) -> None:
    incident_id, _ = await store.upsert_incident(
        fingerprint="f", starts_at=instant, alertname="A", status="resolved", severity="low",
        labels={}, annotations={}, seen_at=instant, ends_at=instant,
    )
    row = await store.get_incident(incident_id)
    assert row is not None
    for column in ("starts_at", "ends_at", "first_seen_at", "last_seen_at", "resolved_at"):
        value = row[column]
        assert value == instant, column
        assert value.tzinfo is UTC, column
        assert value.utcoffset() == timedelta(0)


async def test_timestamps_order_and_compare_in_sql(store: Store) -> None:
    # SQLite compares its text form: it must sort like the instants, whatever their offsets.
    shuffled = [INSTANTS[i] for i in (3, 0, 5, 2, 4, 1)]
    for i, instant in enumerate(shuffled):
        await store.upsert_incident(
            fingerprint=f"f{i}", starts_at=instant, alertname="A", status="firing", severity="low",
            labels={}, annotations={}, seen_at=instant,
        )
    rows = await store.list_incidents(limit=100)
    assert [row["last_seen_at"] for row in rows] == sorted(INSTANTS, reverse=True)


async def test_json_round_trips(store: Store) -> None:
    assert await store.record_notification(
        dedup_key="d", group_key="g", receiver="r", status="firing", alert_count=1, payload=PAYLOAD
    )
    incident_id, _ = await store.upsert_incident(
        fingerprint="f", starts_at=INSTANTS[0], alertname="A", status="firing", severity="low",
        labels={"alertname": "A", "quote": "it's"}, annotations={"description": PAYLOAD["text"]},
    )
    await store.enqueue_action(incident_id, "http", "k", PAYLOAD)
    (action,) = await store.list_actions(incident_id)
    assert action["params"] == PAYLOAD
    incident = await store.get_incident(incident_id)
    assert incident is not None
    assert incident["labels"] == {"alertname": "A", "quote": "it's"}
    assert incident["annotations"] == {"description": PAYLOAD["text"]}
    assert isinstance(action["params"]["numbers"][2], int)
    assert isinstance(action["params"]["numbers"][3], float)


async def test_json_null_column_is_sql_null(store: Store) -> None:
    await store.enqueue_action(None, "log", "k", {})
    (claimed,) = await store.claim_actions("w", limit=1, lease_seconds=5, now=datetime.now(UTC))
    assert claimed["result"] is None and claimed["params"] == {}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
async def test_json_stores_nan_as_null_on_both(store: Store, bad: float) -> None:
    # JSON has no NaN or infinity (JSONB refuses them): both back ends keep the row, with null.
    await store.enqueue_action(None, "log", "k", {"x": bad, "y": 1.5})
    (claimed,) = await store.claim_actions("w", limit=1, lease_seconds=5, now=datetime.now(UTC))
    assert claimed["params"] == {"x": None, "y": 1.5}


async def test_raw_json_is_stored_as_received_on_both(store: Store) -> None:
    body = rb'{"version": "4", "alerts": [], "note": "caf\u00e9 \u2014 \ud83d\ude00"}'
    assert await store.record_notification(
        dedup_key="d", group_key="g", receiver="r", status="firing", alert_count=0, payload=RawJson(body)
    )
    row = await store.get_notification("d")
    assert row is not None and row["payload"] == json.loads(body)
    assert row["payload"]["note"] == "café — \U0001f600"


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        await store.upsert_incident(
            fingerprint="f", starts_at=datetime(2027, 6, 12, 13, 0), alertname="A", status="firing",
            severity="low", labels={}, annotations={},
        )
    with pytest.raises(ValueError, match="naive datetime"):
        await store.claim_actions("w", limit=1, lease_seconds=5, now=datetime(2027, 6, 12))


def test_load_json_reads_what_either_encoder_wrote() -> None:
    assert load_json(b'{"numbers": [1, 2.5, null]}') == {"numbers": [1, 2.5, None]}
    # SQLite text written before NaN became null: json.dumps wrote a bare NaN, still readable.
    legacy = load_json('{"x": NaN, "y": 1}')
    assert math.isnan(legacy["x"]) and legacy["y"] == 1
