"""PostgREST's query grammar, the part the stand-in speaks: `eq.` filters, select, order, limit, offset."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from wedwatch.platform.supabase.gateway import PostgrestError

__all__ = ["Row", "Schema", "Order", "Query", "parse_query", "matches", "undefined_column"]

Row = dict[str, Any]

# Query parameters that are not filters. `columns` and `on_conflict` belong to inserts; GET ignores them.
_RESERVED = frozenset({"select", "order", "limit", "offset", "columns", "on_conflict"})


@dataclass(frozen=True, slots=True)
class Schema:
    """A table's name and columns; numeric columns compare as numbers, the others as text."""

    name: str
    columns: tuple[str, ...]
    numeric: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Order:
    """One `order` term: `column[.asc|.desc][.nullsfirst|.nullslast]`."""

    column: str
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed GET: which rows (every filter must hold), in which order, which columns."""

    columns: tuple[str, ...] | None  # None: select=*
    filters: tuple[tuple[str, str], ...]  # (column, value) of `column=eq.value`
    order: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int = 0

    def eq(self, column: str) -> str | None:
        """The value an `eq.` filter requires of `column`, if any (the last, when there are several)."""
        values = [value for name, value in self.filters if name == column]
        return values[-1] if values else None

    def pick(self, rows: Iterable[Row]) -> list[Row]:
        """The rows every filter holds for, ordered and paged, as PostgREST would."""
        picked = [row for row in rows if all(matches(row.get(c), v) for c, v in self.filters)]
        # Stable sorts from the last term to the first give the multi-column order.
        for term in reversed(self.order):
            picked.sort(key=_sort_key(term), reverse=term.descending)
        end = None if self.limit is None else self.offset + self.limit
        return picked[self.offset : end]

    def project(self, rows: Iterable[Row]) -> list[Row]:
        """Only the selected columns of `rows`, in the order `select` names them."""
        if self.columns is None:
            return list(rows)
        return [{c: row.get(c) for c in self.columns} for row in rows]


def _sort_key(term: Order) -> Callable[[Row], tuple[bool, Any]]:
    # False sorts before True, and `reverse` flips both: NULLs get True when they must end up last
    # ascending or first descending (PostgreSQL's default: NULLS LAST ascending, NULLS FIRST descending).
    nulls_true = term.descending == term.nulls_first

    def key(row: Row) -> tuple[bool, Any]:
        value = row.get(term.column)
        return (value is None) == nulls_true, value

    return key


def matches(value: Any, text: str) -> bool:
    """Whether a column's value equals a filter's text, compared in the column's type; NULL equals nothing."""
    if value is None:
        return False
    if isinstance(value, bool):
        return text.lower() in (("true", "t") if value else ("false", "f"))
    if isinstance(value, int | float):
        try:
            return float(text) == value
        except ValueError:
            return False
    return str(value) == text


def undefined_column(schema: Schema, column: str) -> PostgrestError:
    """PostgreSQL's error for a column the table does not have."""
    return PostgrestError(400, "42703", f"column {schema.name}.{column} does not exist")


def _bad(parameter: str, raw: str, why: str = "") -> PostgrestError:
    return PostgrestError(400, "PGRST100", f"failed to parse {parameter} ({raw})" + (f": {why}" if why else ""))


def _column(schema: Schema, name: str) -> str:
    if name not in schema.columns:
        raise undefined_column(schema, name)
    return name


def _select(schema: Schema, raw: str | None) -> tuple[str, ...] | None:
    if raw is None or raw.strip() in ("", "*"):
        return None
    names = tuple(part.strip() for part in raw.split(","))
    for name in names:
        if not name.isidentifier():
            raise _bad("select parameter", raw, "only * or a list of column names is supported")
        _column(schema, name)
    return names


def _filter(schema: Schema, column: str, raw: str) -> tuple[str, str]:
    _column(schema, column)
    operator, dot, value = raw.partition(".")
    if not dot:
        raise _bad("filter", raw)
    if operator != "eq":
        raise _bad("filter", raw, f"operator {operator!r} is not supported, only eq.")
    if column in schema.numeric:
        try:
            float(value)
        except ValueError:
            raise PostgrestError(400, "22P02", f'invalid input syntax for type numeric: "{value}"') from None
    return column, value


def _order(schema: Schema, raw: str) -> tuple[Order, ...]:
    terms = []
    for term in raw.split(","):
        column, *modifiers = term.strip().split(".")
        descending = bool(modifiers) and modifiers[0] == "desc"
        if modifiers and modifiers[0] in ("asc", "desc"):
            modifiers.pop(0)
        nulls_first = descending
        if modifiers and modifiers[0] in ("nullsfirst", "nullslast"):
            nulls_first = modifiers.pop(0) == "nullsfirst"
        if not column or modifiers:
            raise _bad("order parameter", raw)
        terms.append(Order(_column(schema, column), descending, nulls_first))
    return tuple(terms)


def _count(parameter: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise _bad(f"{parameter} parameter", raw, "expected a non-negative integer")
    return int(raw)


def parse_query(schema: Schema, params: MultiMapping[str]) -> Query:
    """A GET's query string, or a 400 naming what this stand-in does not understand."""
    filters = tuple(_filter(schema, name, value) for name, value in params.items() if name not in _RESERVED)
    order = params.get("order")
    return Query(
        columns=_select(schema, params.get("select")),
        filters=filters,
        order=() if order is None else _order(schema, order),
        limit=_count("limit", params.get("limit")),
        offset=_count("offset", params.get("offset")) or 0,
    )
