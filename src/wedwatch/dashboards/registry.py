"""The dashboards, one module each, registered by file name; and their rendering to checked-in JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from wedwatch.config.model import Config
from wedwatch.dashboards import automation, forecast, oncall, operations, wedding
from wedwatch.dashboards.builder import Dashboard, Json

__all__ = ["DASHBOARDS", "dashboards", "dashboard_files", "render", "write_dashboard_files", "stale_files"]

# File name -> builder. The file name is the uid, so a provisioned dashboard keeps its URL.
DASHBOARDS: dict[str, Callable[[Config], Dashboard]] = {
    f"{oncall.UID}.json": oncall.dashboard,
    f"{wedding.UID}.json": wedding.dashboard,
    f"{operations.UID}.json": operations.dashboard,
    f"{forecast.UID}.json": forecast.dashboard,
    f"{automation.UID}.json": automation.dashboard,
}


def dashboards(config: Config) -> list[Dashboard]:
    """Every dashboard for `config`, in registry order."""
    return [build(config) for build in DASHBOARDS.values()]


def dashboard_files(config: Config) -> dict[str, Json]:
    """File name -> dashboard JSON model."""
    return {name: build(config).to_json() for name, build in DASHBOARDS.items()}


def render(model: Json) -> str:
    """Deterministic JSON text: two-space indent, keys sorted, a final newline (diff-friendly)."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_dashboard_files(files: dict[str, Json], out_dir: Path) -> list[Path]:
    """Write each dashboard under `out_dir` (created if needed); the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, model in files.items():
        path = out_dir / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written


def stale_files(files: dict[str, Json], out_dir: Path) -> list[Path]:
    """Paths under `out_dir` that differ from what `render` would write, or are JSON it would not write."""
    # A leftover file (a renamed dashboard) would still be provisioned by Grafana: stale too.
    stale = sorted(p for p in out_dir.glob("*.json") if p.name not in files)
    for name, model in files.items():
        path = out_dir / name
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != render(model):
            stale.append(path)
    return stale
