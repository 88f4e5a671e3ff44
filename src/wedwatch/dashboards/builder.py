"""A small Grafana dashboard builder: panels, rows and variables as data, rendered to dashboard JSON.

Only what wedwatch's dashboards use, and nothing Grafana fills in by itself. Layout is a flow: panels
fill the 24-column grid left to right and wrap, and each row starts a new line, so a module lists
panels in reading order and never computes a coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wedwatch.dashboards.targets import POSTGRES, PROMETHEUS, SQL, Datasource, Json, PromQL, Target

__all__ = [
    "Json",
    "Datasource",
    "PROMETHEUS",
    "POSTGRES",
    "PromQL",
    "SQL",
    "Target",
    "Panel",
    "Row",
    "Variable",
    "Dashboard",
    "GRID_WIDTH",
    "SCHEMA_VERSION",
]

GRID_WIDTH = 24
# Grafana 11's dashboard schema; Grafana migrates older numbers on load, never newer ones.
SCHEMA_VERSION = 39


_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Per panel type, the options Grafana would otherwise default differently from what we want.
_OPTIONS: dict[str, Json] = {
    "timeseries": {
        "legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    },
    "stat": {
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "textMode": "auto",
    },
    "bargauge": {
        "displayMode": "gradient",
        "orientation": "horizontal",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
    },
    "table": {"cellHeight": "sm", "footer": {"show": False}, "showHeader": True},
    "state-timeline": {
        "alignValue": "left",
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "mergeValues": True,
        "rowHeight": 0.9,
        "showValue": "never",
        "tooltip": {"mode": "single"},
    },
    "heatmap": {
        "calculate": False,
        "cellGap": 1,
        "color": {"exponent": 0.5, "mode": "scheme", "scheme": "Oranges", "steps": 64},
        "legend": {"show": True},
        "rowsFrame": {"layout": "auto"},
        "tooltip": {"mode": "single", "yHistogram": True},
        "yAxis": {"axisPlacement": "left"},
    },
}


@dataclass(frozen=True)
class Panel:
    """One visualisation. `unit` is a Grafana unit id (`s`, `percentunit`, `short`, `reqps`, ...)."""

    kind: Literal["timeseries", "stat", "bargauge", "table", "state-timeline", "heatmap"]
    title: str
    description: str
    unit: str
    targets: tuple[Target, ...]
    width: int = 12
    height: int = 8
    # (value, colour) steps; the first value is None (the base colour).
    thresholds: tuple[tuple[float | None, str], ...] = ()
    # Draw the thresholds as lines in a time series: the guarantee or burn rate to stay under.
    threshold_lines: bool = False
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    mappings: tuple[Json, ...] = ()
    overrides: tuple[Json, ...] = ()
    transformations: tuple[Json, ...] = ()
    options: Json = field(default_factory=dict)
    custom: Json = field(default_factory=dict)

    def to_json(self, panel_id: int, x: int, y: int) -> Json:
        """The Grafana panel at grid position (x, y)."""
        datasources = {t.datasource for t in self.targets}
        if len(datasources) != 1:
            # Mixing both datasources would need Grafana's "-- Mixed --"; no panel needs it.
            raise ValueError(f"panel {self.title!r}: needs targets from exactly one datasource")
        (datasource,) = datasources
        defaults: Json = {"unit": self.unit}
        if self.thresholds:
            steps = [{"color": color, "value": value} for value, color in self.thresholds]
            defaults["thresholds"] = {"mode": "absolute", "steps": steps}
        for key, value in (("min", self.min), ("max", self.max), ("decimals", self.decimals)):
            if value is not None:
                defaults[key] = value
        if self.mappings:
            defaults["mappings"] = list(self.mappings)
        custom = dict(self.custom)
        if self.threshold_lines:
            custom["thresholdsStyle"] = {"mode": "dashed"}
        if custom:
            defaults["custom"] = custom
        panel: Json = {
            "datasource": datasource.ref(),
            "description": self.description,
            "fieldConfig": {"defaults": defaults, "overrides": list(self.overrides)},
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "id": panel_id,
            "options": {**_OPTIONS[self.kind], **self.options},
            "targets": [t.to_json(_REF_IDS[i]) for i, t in enumerate(self.targets)],
            "title": self.title,
            "type": self.kind,
        }
        if self.transformations:
            panel["transformations"] = list(self.transformations)
        return panel


@dataclass(frozen=True)
class Row:
    """A titled group of panels, starting on a new line."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Variable:
    """A Prometheus query variable: the values of `label` on the series of `metric`."""

    name: str
    label: str
    metric: str
    description: str
    multi: bool = False
    include_all: bool = False
    # Sent for "All" instead of every value joined: `.+` keeps the query short with many values.
    all_value: str | None = None

    @property
    def definition(self) -> str:
        """The Grafana variable query."""
        return f"label_values({self.metric}, {self.name})"

    def to_json(self) -> Json:
        """The Grafana templating entry."""
        entry: Json = {
            "datasource": PROMETHEUS.ref(),
            "definition": self.definition,
            "description": self.description,
            "includeAll": self.include_all,
            "label": self.label,
            "multi": self.multi,
            "name": self.name,
            "query": {"qryType": 1, "query": self.definition, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2,  # on time range change: weddings enter and leave the tracked set
            "regex": "",
            "sort": 1,
            "type": "query",
        }
        if self.all_value is not None:
            entry["allValue"] = self.all_value
        if self.include_all:
            # Open on "All": a first visit shows every operation, not whichever sorts first.
            entry["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
        return entry


@dataclass(frozen=True)
class Dashboard:
    """A whole dashboard; `uid` is stable so that links and bookmarks survive regeneration."""

    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    variables: tuple[Variable, ...] = ()
    time_from: str = "now-6h"
    time_to: str = "now"
    refresh: str = "30s"
    tags: tuple[str, ...] = ("wedwatch",)

    def panels(self) -> list[Panel]:
        """Every panel, in reading order."""
        return [panel for row in self.rows for panel in row.panels]

    def to_json(self) -> Json:
        """The Grafana dashboard JSON model."""
        return {
            "annotations": {"list": [_BUILTIN_ANNOTATIONS]},
            "description": self.description,
            "editable": True,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,  # shared crosshair: line up latency, errors and alerts in time
            "links": [
                {
                    "asDropdown": True,
                    "includeVars": False,
                    "keepTime": True,
                    "tags": ["wedwatch"],
                    "targetBlank": False,
                    "title": "wedwatch dashboards",
                    "type": "dashboards",
                }
            ],
            "panels": _layout(self.rows),
            "refresh": self.refresh,
            "schemaVersion": SCHEMA_VERSION,
            "tags": list(self.tags),
            "templating": {"list": [v.to_json() for v in self.variables]},
            "time": {"from": self.time_from, "to": self.time_to},
            "timepicker": {},
            "timezone": "browser",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
        }


_BUILTIN_ANNOTATIONS: Json = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def _layout(rows: tuple[Row, ...]) -> list[Json]:
    out: list[Json] = []
    next_id = 1
    y = 0
    for row in rows:
        out.append(
            {
                "collapsed": False,
                "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                "id": next_id,
                "panels": [],
                "title": row.title,
                "type": "row",
            }
        )
        next_id += 1
        y += 1
        x = 0
        line_height = 0
        for panel in row.panels:
            if not 0 < panel.width <= GRID_WIDTH:
                raise ValueError(f"panel {panel.title!r}: width {panel.width} outside 1..{GRID_WIDTH}")
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            out.append(panel.to_json(next_id, x, y))
            next_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return out
