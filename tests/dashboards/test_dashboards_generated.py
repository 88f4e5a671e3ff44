"""The generated dashboards: checked in as generated, every panel complete and well placed, SQL by name."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from typing import Any

import pytest
from checkout import DASHBOARD_DIR, REPO, stack_config
from grafana_queries import DEFAULT_VALUES, all_queries, substitute_variables

from wedwatch.config.model import Config
from wedwatch.dashboards import DASHBOARDS, SQL, dashboard_files, dashboards, render, stale_files
from wedwatch.dashboards.builder import GRID_WIDTH
from wedwatch.dashboards.forecast import series_unit
from wedwatch.dashboards.targets import named_sql
from wedwatch.rules import resource_signals as signals

CONFIGS = {"stack": stack_config, "defaults": Config}


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


@pytest.fixture(params=sorted(CONFIGS))
def models(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """The dashboard models generated for the stack's config and for the defaults."""
    return dashboard_files(CONFIGS[request.param]())


def test_checked_in_dashboards_are_what_the_generator_writes() -> None:
    stale = stale_files(dashboard_files(stack_config()), DASHBOARD_DIR)
    assert not stale, f"regenerate: wedwatch dashboards --config.file deploy/compose/wedwatch.yml ({stale})"


def test_rendering_is_deterministic_and_parses_back() -> None:
    files = dashboard_files(stack_config())
    again = dashboard_files(stack_config())
    for name, model in files.items():
        assert render(model) == render(again[name])
        assert json.loads(render(model)) == model


def test_file_names_are_the_uids_and_uids_are_unique() -> None:
    boards = dashboards(Config())
    assert [f"{b.uid}.json" for b in boards] == list(DASHBOARDS)
    assert len({b.uid for b in boards}) == len(boards)
    assert len({b.title for b in boards}) == len(boards)


def test_every_panel_has_a_title_a_description_a_unit_and_queries(models: dict[str, dict[str, Any]]) -> None:
    for name, model in models.items():
        assert model["title"] and model["description"], name
        for panel in _panels(model):
            where = f"{name}: panel {panel.get('title')!r}"
            assert panel["title"].strip(), where
            assert panel["description"].strip(), where
            assert panel["fieldConfig"]["defaults"]["unit"].strip(), where
            assert panel["targets"], where
            for target in panel["targets"]:
                assert target["datasource"] == panel["datasource"], where
                assert (target.get("expr") or target.get("rawSql") or "").strip(), where


def test_panel_titles_and_ids_are_unique_within_a_dashboard(models: dict[str, dict[str, Any]]) -> None:
    for name, model in models.items():
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids)), name
        titles = [p["title"] for p in _panels(model)]
        duplicates = {t for t in titles if titles.count(t) > 1}
        assert not duplicates, f"{name}: {duplicates}"


def test_panels_fit_the_grid_without_overlapping(models: dict[str, dict[str, Any]]) -> None:
    for name, model in models.items():
        cells: dict[tuple[int, int], str] = {}
        for panel in model["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= GRID_WIDTH, (name, panel["title"])
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']!r} overlaps {cells[(x, y)]!r}"
                    cells[(x, y)] = panel["title"]


def test_every_variable_a_query_uses_is_defined(models: dict[str, dict[str, Any]]) -> None:
    builtins = {k: v for k, v in DEFAULT_VALUES.items() if k.startswith("__")}
    for model in models.values():
        defined = {v["name"]: "x" for v in model["templating"]["list"]}
        for panel in _panels(model):
            for target in panel["targets"]:
                # KeyError names a variable the dashboard does not define.
                substitute_variables(target.get("expr") or target["rawSql"], {**builtins, **defined})


def test_all_queries_lists_every_target_and_variable() -> None:
    for config in (stack_config(), Config()):
        queries = all_queries(config)
        boards = dashboards(config)
        targets = sum(len(p.targets) for b in boards for p in b.panels())
        variables = sum(len(b.variables) for b in boards)
        assert len(queries) == targets + variables
        assert {q.datasource for q in queries} == {"prometheus", "postgres"}


def test_each_configured_forecast_series_gets_a_panel_against_actual() -> None:
    config = stack_config()
    assert config.forecast.series, "the stack's config should demonstrate forecasts"
    model = dashboard_files(config)["wedwatch-forecast.json"]
    by_title = {p["title"]: p for p in _panels(model)}
    for name, series in config.forecast.series.items():
        panel = by_title[f"{name}: forecast against actual"]
        exprs = [t["expr"] for t in panel["targets"]]
        assert exprs[0] == series.query
        assert all(f'series="{name}"' in e and "offset 1h" in e for e in exprs[1:])
        assert panel["fieldConfig"]["defaults"]["unit"] == series_unit(name)


@pytest.mark.parametrize(
    ("name", "unit"),
    [("guest_list_p95_seconds", "s"), ("upload_bytes", "bytes"), ("checkin_ratio", "percentunit"), ("load", "short")],
)
def test_series_unit_follows_prometheus_naming(name: str, unit: str) -> None:
    assert series_unit(name) == unit


def test_wedding_day_guarantees_reach_the_panels() -> None:
    config = Config.model_validate({"thresholds": {"wedding_day": {"operation_seconds": {"guest_list": 0.75}}}})
    model = dashboard_files(config)["wedwatch-oncall.json"]
    panel = next(p for p in _panels(model) if p["title"] == "p95 guest_list")
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1] == {"color": "red", "value": 0.75}


RESOURCES_ROW = "Platform resources (shared by every wedding)"
RESOURCE_PANELS = {
    "Database connections used": "database",
    "Cache memory used": "cache",
    "Cache evictions": "cache",
    "Cache hit ratio": "cache",
    "CPU busy": "cpu",
    "Memory used": "memory",
    "Disk free, fullest filesystem": "disk",
    "Offline capability": "offline",
}


def _row_panels(model: dict[str, Any], row_title: str) -> list[dict[str, Any]]:
    """The panels under the row titled `row_title`, in order."""
    out: list[dict[str, Any]] = []
    inside = False
    for panel in model["panels"]:
        if panel["type"] == "row":
            inside = panel["title"] == row_title
        elif inside:
            out.append(panel)
    return out


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_the_wedding_dashboards_resources_row_reads_what_the_resource_alerts_read(config_name: str) -> None:
    config = CONFIGS[config_name]()
    r = config.resources
    panels = _row_panels(dashboard_files(config)["wedwatch-wedding.json"], RESOURCES_ROW)
    titles = [p["title"] for p in panels]
    assert set(RESOURCE_PANELS) <= set(titles)
    assert {"Database and cache reachable", "Resource alerts firing"} <= set(titles)
    exprs = "\n".join(t["expr"] for p in panels for t in p["targets"])
    # The rules' own expressions, selectors and filesystem filters included, not a second spelling.
    for signal in (
        signals.connections_used,
        signals.database_up,
        signals.cache_memory_used,
        signals.cache_evictions,
        signals.cache_hit_ratio,
        signals.cache_up,
        signals.cpu_used,
        signals.memory_used,
        signals.disk_free,
        signals.writable_filesystems,
    ):
        assert signal(r) in exprs, signal.__name__
    assert signals.offline_step_success(r, 'wedding_id="$wedding_id"') in exprs
    (firing,) = [p for p in panels if p["title"] == "Resource alerts firing"]
    assert 'ALERTS{alertstate="firing", resource!=""}' in firing["targets"][0]["expr"]


def _tier_legends(panel: dict[str, Any]) -> list[str]:
    return [t["legendFormat"] for t in panel["targets"][1:]]


def test_the_resource_thresholds_come_from_the_config() -> None:
    config = Config.model_validate(
        {
            "resources": {
                "used_ratio": {"medium": 0.6, "high": 0.75, "critical": 0.9},
                "disk_free_ratio": {"medium": 0.25, "high": 0.15, "critical": 0.08},
                "live_offset": 0.2,
                "cache": {"hit_ratio": 0.65},
            }
        }
    )
    panels = {p["title"]: p for p in _row_panels(dashboard_files(config)["wedwatch-wedding.json"], RESOURCES_ROW)}
    # Lower by the offset while live, never past the next tier's quiet-day threshold: 0.9 -> 0.75 (not 0.7).
    used = ["critical >= 90% (75% while live)", "high >= 75% (60% while live)", "medium >= 60% (40% while live)"]
    for title in ("Database connections used", "Cache memory used", "CPU busy", "Memory used"):
        assert _tier_legends(panels[title]) == used, title
        overrides = {o["matcher"]["options"]: o["properties"] for o in panels[title]["fieldConfig"]["overrides"]}
        assert set(overrides) == set(used)
    free = ["critical < 8% (15% while live)", "high < 15% (25% while live)", "medium < 25% (45% while live)"]
    assert _tier_legends(panels["Disk free, fullest filesystem"]) == free
    steps = panels["Cache hit ratio"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1]["value"] == 0.65


@pytest.mark.parametrize("family", sorted(set(RESOURCE_PANELS.values())))
def test_a_disabled_resource_family_has_no_panel(family: str) -> None:
    config = Config.model_validate({"resources": {family: {"enabled": False}}})
    titles = {p["title"] for p in _row_panels(dashboard_files(config)["wedwatch-wedding.json"], RESOURCES_ROW)}
    assert titles & set(RESOURCE_PANELS) == {title for title, f in RESOURCE_PANELS.items() if f != family}


def test_with_every_resource_family_disabled_only_the_alerts_remain() -> None:
    off = {"enabled": False}
    config = Config.model_validate({"resources": dict.fromkeys(set(RESOURCE_PANELS.values()), off)})
    titles = [p["title"] for p in _row_panels(dashboard_files(config)["wedwatch-wedding.json"], RESOURCES_ROW)]
    assert titles == ["Resource alerts firing"]


SQL_DIR = REPO / "src" / "wedwatch" / "dashboards" / "sql"


def test_every_named_sql_query_is_a_panel_and_every_sql_panel_is_named() -> None:
    named = {(path.stem, name): text for path in SQL_DIR.glob("*.sql") for name, text in named_sql(path.stem).items()}
    used = [t.sql for b in dashboards(Config()) for p in b.panels() for t in p.targets if isinstance(t, SQL)]
    assert sorted(used) == sorted(named.values())  # each once, none inline
    assert {module for module, _ in named} == {"automation", "forecast", "oncall", "wedding"}


def test_the_sql_files_ship_as_package_data() -> None:
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["wedwatch"]
    for path in SQL_DIR.glob("*.sql"):
        relative = path.relative_to(REPO / "src" / "wedwatch").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data), relative
