"""Named SQL queries read from `sql/queries.sql`, with per-dialect overrides, parsed once.

A file is a sequence of blocks, each opened by a header line `-- name: <identifier>`; the
block's text up to the next header is the query. Queries use `:name` placeholders (SQLite's
native style); for psycopg they are rewritten to `%(name)s` at load time, with every literal
`%` doubled, so the same text serves both drivers. `sql/<dialect>/queries.sql` may replace a
shared query by name (or add one) where the dialects truly differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources

from wedwatch.errors import StoreError

__all__ = ["DIALECTS", "Queries", "load_queries", "parse_queries", "to_pyformat"]

DIALECTS = ("sqlite", "postgres")

_HEADER = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
# Order matters: literals and comments are matched first so that a `:word` or `%` inside them
# is never taken for a placeholder; `::` is PostgreSQL's cast operator, not a placeholder.
_TOKENS = re.compile(
    r"(?P<literal>'(?:[^']|'')*')"
    r'|(?P<quoted>"(?:[^"]|"")*")'
    r"|(?P<comment>--[^\n]*)"
    r"|(?P<cast>::)"
    r"|:(?P<param>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<percent>%)"
)


class Queries(Mapping[str, str]):
    """The queries of one dialect, by name, in that dialect's placeholder style."""

    def __init__(self, dialect: str, queries: Mapping[str, str]) -> None:
        self.dialect = dialect
        self._queries = dict(queries)

    def __getitem__(self, name: str) -> str:
        try:
            return self._queries[name]
        except KeyError:
            raise StoreError(f"no SQL query named {name!r} for {self.dialect}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


def parse_queries(text: str, *, source: str) -> dict[str, str]:
    """Split a queries file into {name: sql}; comments are dropped, trailing `;` removed."""
    queries: dict[str, str] = {}
    name: str | None = None
    body: list[str] = []

    def close() -> None:
        if name is None:
            return
        sql = _strip_comments("\n".join(body)).strip().rstrip(";").strip()
        if not sql:
            raise StoreError(f"{source}: query {name!r} is empty")
        queries[name] = sql

    for lineno, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line.strip())
        if header:
            close()
            name, body = header.group(1), []
            if name in queries:
                raise StoreError(f"{source}:{lineno}: query {name!r} is defined twice")
        elif name is None:
            if line.strip() and not line.strip().startswith("--"):
                raise StoreError(f"{source}:{lineno}: SQL before the first `-- name:` header")
        else:
            body.append(line)
    close()
    return queries


def to_pyformat(sql: str) -> str:
    """Rewrite `:name` placeholders to psycopg's `%(name)s` and escape literal `%`."""

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "param":
            return f"%({match.group('param')})s"
        if kind == "percent":
            return "%%"
        # psycopg scans the whole text for `%`, including inside literals and identifiers.
        return match.group(0).replace("%", "%%")

    return _TOKENS.sub(replace, sql)


def _strip_comments(sql: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return "" if match.lastgroup == "comment" else match.group(0)

    return _TOKENS.sub(replace, sql)


def _read(*parts: str) -> str | None:
    node = resources.files("wedwatch.store").joinpath("sql", *parts)
    return node.read_text(encoding="utf-8") if node.is_file() else None


@cache
def load_queries(dialect: str) -> Queries:
    """The shared queries with `dialect`'s overrides applied, in that driver's placeholder style."""
    if dialect not in DIALECTS:
        raise StoreError(f"unknown SQL dialect {dialect!r}")
    shared = _read("queries.sql")
    if shared is None:
        raise StoreError("the package is missing wedwatch/store/sql/queries.sql")
    queries = parse_queries(shared, source="sql/queries.sql")
    override = _read(dialect, "queries.sql")
    if override is not None:
        queries.update(parse_queries(override, source=f"sql/{dialect}/queries.sql"))
    if dialect == "postgres":
        queries = {name: to_pyformat(sql) for name, sql in queries.items()}
    return Queries(dialect, queries)
