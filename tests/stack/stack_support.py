"""Helpers for the stack tests: the compose file, tools run without a shell, .dockerignore matching.

The checkout's paths and the stack's config come from tests/checkout.py, re-exported here.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkout import (
    COMPOSE_FILE,
    DASHBOARD_DIR,
    PROVISIONING_DIR,
    REPO,
    RULES_DIR,
    STACK_CONFIG,
    STACK_DIR,
    load_yaml,
    stack_config,
)

__all__ = [
    "COMPOSE_FILE", "DASHBOARD_DIR", "PROVISIONING_DIR", "REPO", "RULES_DIR", "STACK_CONFIG", "STACK_DIR", "Mount",
    "bind_mounts", "compose", "dockerfile_copy_sources", "dockerignore_patterns", "dockerignored", "load_yaml",
    "run_tool", "stack_config",
]  # fmt: skip


def run_tool(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool without a shell, capturing its output."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=300, check=False, cwd=cwd)


def compose() -> dict[str, Any]:
    """docker-compose.yml as parsed YAML (anchors and merge keys resolved)."""
    data: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return data


@dataclass(frozen=True)
class Mount:
    """A bind mount of a compose service: repository path -> container path."""

    service: str
    source: Path
    target: str


def bind_mounts() -> list[Mount]:
    """Every bind mount (a source starting with `.`) of every service."""
    mounts: list[Mount] = []
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                mounts.append(Mount(name, (REPO / source).resolve(), target))
    return mounts


# -- .dockerignore --------------------------------------------------------------------------------


def _parts_match(pattern: Sequence[str], path: Sequence[str]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_parts_match(pattern[1:], path[k:]) for k in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pattern[0]) and _parts_match(pattern[1:], path[1:])


def dockerignored(rel_path: str, patterns: Sequence[str]) -> bool:
    """Whether Docker leaves `rel_path` out of the build context: the last matching pattern wins.

    A pattern matches a path or any of its parent directories, as Docker's own matcher does.
    """
    parts = rel_path.strip("/").split("/")
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = [p for p in raw.lstrip("!").strip("/").split("/") if p and p != "."]
        if any(_parts_match(pattern, parts[:k]) for k in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def dockerignore_patterns() -> list[str]:
    """The patterns of .dockerignore, comments and blank lines dropped."""
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def dockerfile_copy_sources() -> Iterator[str]:
    """Sources of the Dockerfile's COPY and ADD lines that read the build context."""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = words[1:]
        if any(a.startswith("--from") for a in args):
            continue
        sources = [a for a in args if not a.startswith("--")][:-1]
        yield from sources
