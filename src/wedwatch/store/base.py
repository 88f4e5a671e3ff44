"""The store's interface: one transaction API and the domain methods both back ends share.

Value conventions, so that a row reads back the same from SQLite and PostgreSQL:

* **Timestamps** are timezone-aware `datetime`s; a naive one is refused with ValueError.
  PostgreSQL stores TIMESTAMPTZ; SQLite stores UTC text in one fixed form,
  `2027-06-12T14:00:00.000000Z`, so that text order is time order and SQL compares them
  correctly. A parameter is a timestamp by its type (`datetime`); a column is read back as one
  by its name, listed in TIMESTAMP_COLUMNS. Values come back in UTC. Local wall times
  (`weddings.ceremony_at`, as `2027-06-12T15:00`) are plain text and not in that set.
* **JSON**: a parameter or column whose name is in JSON_COLUMNS holds JSON: JSONB in PostgreSQL
  (psycopg `Jsonb`), TEXT in SQLite. Any JSON-encodable value goes in and the decoded value
  comes back; None is SQL NULL; NaN and infinity become JSON null (JSON has neither; msgspec,
  which encodes every JSON value here, writes null for them). A `RawJson` value is JSON text
  already checked (a webhook body as received): it is stored as it is, never re-encoded.
* **Booleans**: columns in BOOLEAN_COLUMNS come back as `bool` (SQLite keeps 0/1).
* **Row sets**: the parameter named `rows` (ROWS_PARAMETER) is a list of mappings, sent as ONE
  JSON array (JSONB in PostgreSQL, TEXT in SQLite) that a statement unpacks with
  `jsonb_array_elements(:rows)` / `json_each(:rows)`: many rows per statement, in the array's
  order. Inside it an instant is text (ISO 8601 with its offset, cast with `::timestamptz`;
  SQLite's stored form), so the same aware-datetime rule holds, and a JSON column's value is
  nested, read with `->` (a None there is JSON null, not SQL NULL: use NULLIF(…, 'null') for a
  nullable column).
* **Clock**: the database's clock is never used; methods take `now`-like arguments and default
  to the wall clock.
* **Transactions**: every domain method takes an optional keyword `tx`. Without it the method
  runs in a transaction of its own; with it, it joins the caller's, so that for instance the
  receiver commits a notification, its incidents and their outbox rows together or not at all:
  `async with store.transaction() as tx: await store.record_notification(..., tx=tx)`.
* **Errors**: a store that cannot be reached (or is busy past its timeout) raises
  StoreUnavailable, which callers answer with 503; every other driver error is a StoreError.
  Messages name the store by its redacted URL.

A new column whose name is a timestamp or JSON must be added to these sets; a test checks the
sets against the PostgreSQL schema's column types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from wedwatch.calendar.model import Wedding
from wedwatch.errors import StoreError
from wedwatch.store.incidents import INCIDENT_STATUSES, IncidentMethods
from wedwatch.store.migrations import apply_migrations
from wedwatch.store.outbox import OutboxMethods
from wedwatch.store.receiver_state import ReceiverStateMethods
from wedwatch.store.records import CriticalPathSample, ProbeAggregate
from wedwatch.store.responses import ResponseMethods
from wedwatch.store.transaction import Row, Transaction, utc_now

__all__ = [
    "Store",
    "TIMESTAMP_COLUMNS",
    "JSON_COLUMNS",
    "BOOLEAN_COLUMNS",
    "INCIDENT_STATUSES",
    "ROWS_PARAMETER",
    "dump_json",
    "dump_json_bytes",
    "load_json",
    "RawJson",
]

TIMESTAMP_COLUMNS = frozenset(
    {
        "applied_at",
        "bucket_start",
        "created_at",
        "decided_at",
        "ends_at",
        "entered_at",
        "executed_at",
        "exited_at",
        "finished_at",
        "first_action_completed_at",
        "first_seen_at",
        "horizon_end",
        "horizon_start",
        "last_seen_at",
        "lease_until",
        "not_before",
        "observed_at",
        "received_at",
        "resolved_at",
        "started_at",
        "starts_at",
        "updated_at",
    }
)
JSON_COLUMNS = frozenset(
    {"annotations", "details", "labels", "metrics", "params", "payload", "points", "recommendations", "result"}
)
BOOLEAN_COLUMNS = frozenset({"dry_run", "enabled"})
ROWS_PARAMETER = "rows"


# msgspec, not the json module: the receiver encodes every notification's rows (several times
# the body's size) on its hot path, and msgspec does it about ten times faster (bench/receiver.py).
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()


def dump_json_bytes(value: Any) -> bytes:
    """Encode a JSON column's value the same way for both back ends, as UTF-8."""
    return _ENCODER.encode(value)


def dump_json(value: Any) -> str:
    """dump_json_bytes() as text."""
    return _ENCODER.encode(value).decode()


def load_json(data: bytes | str) -> Any:
    """Decode a JSON column's value the same way for both back ends (msgspec: the worker decodes
    every claimed action's parameters)."""
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError:
        # SQLite text written before NaN became null (json.dumps wrote a bare NaN): json reads it.
        return json.loads(data)


@dataclass(frozen=True, slots=True)
class RawJson:
    """JSON text that was already parsed and checked, stored as it is instead of re-encoded."""

    data: bytes


class Store(IncidentMethods, OutboxMethods, ResponseMethods, ReceiverStateMethods):
    """A wedwatch store: open one with `open_store(url)`; both back ends share these methods."""

    async def migrate(self, *, now: datetime | None = None) -> list[int]:
        """Apply pending schema migrations; the versions applied ([] when already current)."""
        return await apply_migrations(self, now=now)

    async def ping(self) -> None:
        """Round-trip to the database; raises StoreUnavailable when it does not answer."""
        async with self.transaction(readonly=True) as tx:
            await tx.fetchone("ping")

    async def describe(self) -> dict[str, dict[str, str]]:
        """The schema as {table: {column: database type}}, for checks and tests."""
        async with self.transaction(readonly=True) as tx:
            rows = await tx.fetchall("describe_schema")
        tables: dict[str, dict[str, str]] = {}
        for row in rows:
            tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        return tables

    # -- weddings ---------------------------------------------------------------------------

    async def upsert_weddings(
        self, weddings: Iterable[Wedding], *, now: datetime | None = None, tx: Transaction | None = None
    ) -> int:
        """Insert or replace weddings by id; the number written."""
        updated_at = utc_now(now)
        rows = [{**wedding.to_dict(), "updated_at": updated_at} for wedding in weddings]
        if not rows:
            return 0
        async with self._joined(tx) as t:
            await t.executemany("upsert_wedding", rows)
        return len(rows)

    async def list_weddings(self, *, tx: Transaction | None = None) -> list[Row]:
        """All weddings as calendar entries (the keys `wedwatch.calendar.parse_calendar` takes)."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_weddings")

    # -- probe results ----------------------------------------------------------------------

    async def record_probe_aggregates(self, rows: Iterable[ProbeAggregate], *, tx: Transaction | None = None) -> int:
        """Add probe aggregates to their buckets (counts and sums add up); the rows written."""
        params = [row.params() for row in rows]
        if not params:
            return 0
        async with self._joined(tx) as t:
            await t.executemany("upsert_probe_aggregate", params)
        return len(params)

    async def list_probe_aggregates(self, since: datetime, *, tx: Transaction | None = None) -> list[Row]:
        """Aggregates of the buckets starting at or after `since`, oldest first."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("list_probe_aggregates", {"since": utc_now(since)})

    async def record_critical_path(self, rows: Iterable[CriticalPathSample], *, tx: Transaction | None = None) -> int:
        """Store critical-path samples; a repeat of (wedding, observed_at) is ignored. The rows new."""
        params = [row.params() for row in rows]
        if not params:
            return 0
        async with self._joined(tx) as t:
            return await t.executemany("insert_critical_path", params)

    async def latest_critical_path(self, *, tx: Transaction | None = None) -> list[Row]:
        """The newest critical-path sample of each wedding."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("latest_critical_path")

    # -- notifications (incidents are in incidents.py) -------------------------------------

    async def record_notification(
        self,
        *,
        dedup_key: str,
        group_key: str,
        receiver: str,
        status: str,
        alert_count: int,
        payload: Mapping[str, Any] | RawJson,
        received_at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> bool:
        """Store an Alertmanager notification unless its dedup key is known; True when new."""
        values = {
            "dedup_key": dedup_key,
            "group_key": group_key,
            "receiver": receiver,
            "status": status,
            "alert_count": alert_count,
            "received_at": utc_now(received_at),
            "payload": payload if isinstance(payload, RawJson) else dict(payload),
        }
        async with self._joined(tx) as t:
            return await t.fetchone("insert_notification", values) is not None

    async def get_notification(self, dedup_key: str) -> Row | None:
        """A stored notification (its `payload` decoded), None if no notification has that key."""
        async with self._joined(None) as t:
            return await t.fetchone("get_notification", {"dedup_key": dedup_key})

    # -- forecasts --------------------------------------------------------------------------

    async def save_prediction_set(
        self,
        *,
        series: str,
        horizon_start: datetime,
        horizon_end: datetime,
        model: str,
        points: Sequence[Mapping[str, Any]],
        metrics: Mapping[str, Any] | None = None,
        recommendations: Sequence[Mapping[str, Any]] | None = None,
        created_at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> int:
        """Store one forecast (its points, accuracy metrics and scaling recommendations); its id."""
        values = {
            "series": series,
            "created_at": utc_now(created_at),
            "horizon_start": utc_now(horizon_start),
            "horizon_end": utc_now(horizon_end),
            "model": model,
            "metrics": dict(metrics or {}),
            "points": [dict(p) for p in points],
            "recommendations": [dict(r) for r in recommendations or []],
        }
        async with self._joined(tx) as t:
            row = await t.fetchone("insert_prediction_set", values)
        if row is None:  # cannot happen: an INSERT without ON CONFLICT returns its row or raises
            raise StoreError("inserting a prediction set returned no id")
        return int(row["id"])

    async def latest_prediction_sets(self, *, tx: Transaction | None = None) -> list[Row]:
        """The newest prediction set of each series, by series name."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("latest_prediction_sets")
