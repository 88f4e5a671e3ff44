"""Grafana dashboards generated from the configuration, checked in under grafana/dashboards/.

A small builder of our own (`builder`) turns panels, rows and variables into Grafana's JSON model;
each dashboard is one module with `UID` and `dashboard(config) -> Dashboard`, registered in
`registry.DASHBOARDS`. Thresholds come from the same config the rules do. `all_queries()` lists
every PromQL and SQL query so tests can validate and run them.
"""

from wedwatch.dashboards.builder import POSTGRES, PROMETHEUS, SQL, Dashboard, Datasource, Panel, PromQL, Row, Variable
from wedwatch.dashboards.queries import DEFAULT_VALUES, Query, all_queries, expand_sql_macros, substitute_variables
from wedwatch.dashboards.registry import (
    DASHBOARDS,
    dashboard_files,
    dashboards,
    render,
    stale_files,
    write_dashboard_files,
)

__all__ = [
    "DASHBOARDS",
    "DEFAULT_VALUES",
    "POSTGRES",
    "PROMETHEUS",
    "SQL",
    "Dashboard",
    "Datasource",
    "Panel",
    "PromQL",
    "Query",
    "Row",
    "Variable",
    "all_queries",
    "dashboard_files",
    "dashboards",
    "expand_sql_macros",
    "render",
    "stale_files",
    "substitute_variables",
    "write_dashboard_files",
]
