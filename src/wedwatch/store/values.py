"""How values cross into the store and back, the same on SQLite and PostgreSQL.

So that a row reads back the same from both back ends:

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

A new column whose name is a timestamp or JSON must be added to these sets; a test checks the
sets against the PostgreSQL schema's column types. Each back end applies them in its own module
(postgres.py, sqlite_values.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "TIMESTAMP_COLUMNS",
    "JSON_COLUMNS",
    "BOOLEAN_COLUMNS",
    "ROWS_PARAMETER",
    "dump_json",
    "dump_json_bytes",
    "load_json",
    "RawJson",
]

TIMESTAMP_COLUMNS = frozenset(
    {
        "acquired_at",
        "applied_at",
        "bucket_start",
        "created_at",
        "decided_at",
        "ends_at",
        "entered_at",
        "executed_at",
        "exited_at",
        "expires_at",
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
