"""Every query the dashboards run, and how to make one concrete the way Grafana would.

Tests (tests/dashboards, and tests/e2e against a real Prometheus and PostgreSQL) iterate
`all_queries()`, substitute Grafana's variables with `Query.promql()` / `Query.sql()`, and run the
result. A module of tests/ (on sys.path through tests/conftest.py), imported by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from wedwatch.config.model import Config
from wedwatch.dashboards import SQL, PromQL, dashboards

__all__ = [
    "Query",
    "all_queries",
    "DEFAULT_VALUES",
    "substitute_variables",
    "expand_sql_macros",
    "SQL_MACROS",
]

# Values for Grafana's built-in and our own variables: short windows, and a wedding of the demo
# calendar (`wedwatch demo` and the compose stack both have one in its ceremony window).
DEFAULT_VALUES: dict[str, str] = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "wedding_id": "demo-ceremony",
    "operation": ".+",
    "tier": ".+",
    "series": ".+",
}

# Macros of Grafana's SQL datasources that `expand_sql_macros` implements (the ones the dashboards use).
SQL_MACROS = frozenset({"__timeFilter", "__timeFrom", "__timeTo", "__time", "__timeGroup", "__timeGroupAlias"})

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


@dataclass(frozen=True)
class Query:
    """One query of one panel (or a variable's selector), as stored in the dashboard."""

    dashboard: str
    panel: str
    ref_id: str
    datasource: Literal["prometheus", "postgres"]
    text: str
    instant: bool = False
    # Grafana's result format: time_series, table or heatmap (PromQL); time_series or table (SQL).
    format: str = "time_series"

    def promql(self, values: Mapping[str, str] | None = None) -> str:
        """The PromQL with every Grafana variable replaced (DEFAULT_VALUES unless given)."""
        if self.datasource != "prometheus":
            raise ValueError(f"{self}: not a PromQL query")
        return substitute_variables(self.text, {**DEFAULT_VALUES, **(values or {})})

    def sql(self, start: datetime, end: datetime, values: Mapping[str, str] | None = None) -> str:
        """The SQL with variables replaced and macros expanded for the time range [start, end]."""
        if self.datasource != "postgres":
            raise ValueError(f"{self}: not a SQL query")
        text = substitute_variables(self.text, {**DEFAULT_VALUES, **(values or {})})
        return expand_sql_macros(text, start, end)

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


def all_queries(config: Config | None = None) -> list[Query]:
    """Every panel target of every dashboard, plus each variable's selector (as instant PromQL)."""
    config = config or Config()
    out: list[Query] = []
    for board in dashboards(config):
        for variable in board.variables:
            out.append(Query(board.uid, f"variable {variable.name}", "-", "prometheus", variable.metric, True, "table"))
        for panel in board.panels():
            for i, target in enumerate(panel.targets):
                ref_id = chr(ord("A") + i)
                if isinstance(target, PromQL):
                    out.append(
                        Query(board.uid, panel.title, ref_id, "prometheus", target.expr, target.instant, target.format)
                    )
                elif isinstance(target, SQL):
                    out.append(Query(board.uid, panel.title, ref_id, "postgres", target.sql, False, target.format))
    return out


def substitute_variables(text: str, values: Mapping[str, str]) -> str:
    """Replace `$name`, `${name}` and `[[name]]`; SQL macros stay; an unknown variable is a KeyError."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in SQL_MACROS:
            return match.group(0)
        if name not in values:
            raise KeyError(f"no value for Grafana variable ${name} in {text!r}")
        return values[name]

    return _VARIABLE.sub(replace, text)


def expand_sql_macros(text: str, start: datetime, end: datetime) -> str:
    """Expand Grafana's PostgreSQL macros as Grafana does, for the time range [start, end]."""
    out: list[str] = []
    pos = 0
    macro = re.compile(r"\$(__\w+)\(")
    while (match := macro.search(text, pos)) is not None:
        name = match.group(1)
        close = _closing_paren(text, match.end())
        args = _split_args(text[match.end() : close])
        out.append(text[pos : match.start()])
        out.append(_expand(name, args, start, end))
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)


def _literal(instant: datetime) -> str:
    return "'" + instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


def _expand(name: str, args: list[str], start: datetime, end: datetime) -> str:
    if name == "__timeFilter" and len(args) == 1:
        return f"{args[0]} BETWEEN {_literal(start)} AND {_literal(end)}"
    if name == "__timeFrom" and args == [""]:
        return _literal(start)
    if name == "__timeTo" and args == [""]:
        return _literal(end)
    if name == "__time" and len(args) == 1:
        return f'{args[0]} AS "time"'
    if name in ("__timeGroup", "__timeGroupAlias") and len(args) == 2:
        step = _interval_seconds(args[1].strip("'\" "))
        group = f"floor(extract(epoch from {args[0]})/{step})*{step}"
        return group + (' AS "time"' if name == "__timeGroupAlias" else "")
    raise ValueError(f"unsupported Grafana SQL macro ${name}({', '.join(args)})")


def _interval_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    match = re.fullmatch(r"(\d+)([smhd])", text)
    if match is None:
        raise ValueError(f"not a Grafana interval: {text!r}")
    return int(match.group(1)) * units[match.group(2)]


def _closing_paren(text: str, start: int) -> int:
    depth, quote = 1, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses in {text!r}")


def _split_args(text: str) -> list[str]:
    args: list[str] = []
    depth, quote, current = 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    args.append(current.strip())
    return args
