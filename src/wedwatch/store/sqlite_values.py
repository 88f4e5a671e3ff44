"""How values cross into SQLite and back: timestamps as fixed UTC text, JSON columns as text,
booleans as 0/1, row sets for `json_each` as one JSON array (conventions in store/values.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from wedwatch.store.transaction import Params, Row
from wedwatch.store.values import (
    BOOLEAN_COLUMNS,
    JSON_COLUMNS,
    ROWS_PARAMETER,
    TIMESTAMP_COLUMNS,
    RawJson,
    dump_json,
    load_json,
)

__all__ = ["format_timestamp", "parse_timestamp", "adapt", "to_row"]


def format_timestamp(value: datetime) -> str:
    """The fixed UTC text SQLite stores a timestamp as, e.g. `2027-06-12T14:00:00.000000Z`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware datetimes")
    # Always microseconds and a `Z`, so that text order is time order.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from format_timestamp's text."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _to_sqlite(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == ROWS_PARAMETER:
        return _json_rows(value)
    if isinstance(value, RawJson):
        return value.data.decode()
    if name in JSON_COLUMNS:
        return dump_json(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    return value


def _json_rows(rows: Iterable[Params]) -> str:
    # One JSON array for json_each(); instants in the stored text form. A batch repeats few
    # instants (`now`, a group's startsAt): each is formatted once.
    texts: dict[datetime, str] = {}
    out = []
    for row in rows:
        item = dict(row)
        for key, value in item.items():
            if isinstance(value, datetime):
                text = texts.get(value)
                if text is None:
                    text = texts[value] = format_timestamp(value)
                item[key] = text
        out.append(item)
    return dump_json(out)


def _from_sqlite(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in TIMESTAMP_COLUMNS:
        return parse_timestamp(value)
    if name in JSON_COLUMNS:
        return load_json(value)
    if name in BOOLEAN_COLUMNS:
        return bool(value)
    return value


def adapt(params: Params | None) -> dict[str, Any]:
    return {name: _to_sqlite(name, value) for name, value in (params or {}).items()}


def to_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {col[0]: _from_sqlite(col[0], value) for col, value in zip(cursor.description, values, strict=True)}


# -- blocking helpers, run on the store's thread only ---------------------------------------
