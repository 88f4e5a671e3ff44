"""Grafana dashboards generated from the configuration, checked in under grafana/dashboards/.

A small builder of our own (`builder`) turns panels, rows and variables into Grafana's JSON model;
each dashboard is one module with `UID` and `dashboard(config) -> Dashboard`, registered in
`registry.DASHBOARDS`. Thresholds come from the same config the rules do. The SQL panels' queries
are in `sql/<dashboard>.sql`, by name.
"""

from wedwatch.dashboards.builder import POSTGRES, PROMETHEUS, SQL, Dashboard, Datasource, Panel, PromQL, Row, Variable
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
    "POSTGRES",
    "PROMETHEUS",
    "SQL",
    "Dashboard",
    "Datasource",
    "Panel",
    "PromQL",
    "Row",
    "Variable",
    "dashboard_files",
    "dashboards",
    "render",
    "stale_files",
    "write_dashboard_files",
]
