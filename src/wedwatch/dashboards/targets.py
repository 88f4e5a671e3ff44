"""What a panel queries: the two provisioned datasources and a target for each (PromQL, SQL).

The SQL panels' queries live in `sql/<dashboard>.sql`, one block per `-- name:` header as the
store's queries do, and are read by name with `named_sql`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from wedwatch.store.queries import parse_queries

__all__ = ["Json", "Datasource", "PROMETHEUS", "POSTGRES", "PromQL", "SQL", "Target", "named_sql"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Datasource:
    """A datasource by the fixed uid it is provisioned with (grafana/provisioning/datasources/)."""

    type: str
    uid: str
    name: str

    def ref(self) -> Json:
        """The `{type, uid}` reference panels and targets carry."""
        return {"type": self.type, "uid": self.uid}


PROMETHEUS = Datasource("prometheus", "wedwatch-prometheus", "Prometheus")
# The plugin id since Grafana 10.2.3; the old id `postgres` is only an alias.
POSTGRES = Datasource("grafana-postgresql-datasource", "wedwatch-postgres", "wedwatch store")


@dataclass(frozen=True)
class PromQL:
    """A Prometheus query: a range query unless `instant`."""

    expr: str
    legend: str = ""
    instant: bool = False
    format: Literal["time_series", "table", "heatmap"] = "time_series"

    datasource = PROMETHEUS

    def to_json(self, ref_id: str) -> Json:
        """The Grafana target."""
        return {
            "datasource": PROMETHEUS.ref(),
            "editorMode": "code",
            "expr": self.expr,
            "format": self.format,
            "instant": self.instant,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "refId": ref_id,
        }


@dataclass(frozen=True)
class SQL:
    """A raw SQL query on the store's PostgreSQL; `time_series` needs a `time` column."""

    sql: str
    format: Literal["table", "time_series"] = "table"

    datasource = POSTGRES

    def to_json(self, ref_id: str) -> Json:
        """The Grafana target."""
        return {
            "datasource": POSTGRES.ref(),
            "editorMode": "code",
            "format": self.format,
            "rawQuery": True,
            "rawSql": self.sql,
            "refId": ref_id,
        }


Target = PromQL | SQL


@cache
def named_sql(dashboard: str) -> Mapping[str, str]:
    """The queries of `sql/<dashboard>.sql` by name, as Grafana runs them (macros and variables kept)."""
    text = resources.files("wedwatch.dashboards").joinpath("sql", f"{dashboard}.sql").read_text(encoding="utf-8")
    return MappingProxyType(parse_queries(text, source=f"wedwatch/dashboards/sql/{dashboard}.sql"))
