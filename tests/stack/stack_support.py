"""Helpers for the stack tests: repository paths, configs, a PromQL selector scanner, .dockerignore matching."""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wedwatch.config import load_config
from wedwatch.config.model import Config
from wedwatch.exporter.contract import METRICS
from wedwatch.receiver.contract import RECEIVER_METRICS

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
STACK_DIR = REPO / "deploy" / "compose"
STACK_CONFIG = STACK_DIR / "wedwatch.yml"
DASHBOARD_DIR = REPO / "grafana" / "dashboards"
PROVISIONING_DIR = REPO / "grafana" / "provisioning"
RULES_DIR = REPO / "rules"


def run_tool(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool without a shell, capturing its output."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=300, check=False, cwd=cwd)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file (merge keys included)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def stack_config() -> Config:
    """The compose stack's wedwatch config, with its demo defaults (no environment)."""
    return load_config(STACK_CONFIG, environ={}).config


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


# -- PromQL -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:[smhdwy]+\d*)*)
    | (?P<ident>[A-Za-z_:][\w:]*)
    | (?P<punct>=~|!~|!=|==|>=|<=|[{}()\[\],=<>+\-*/^%@])
    | (?P<space>\s+)
    """,
    re.X,
)
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
)
_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}
)


@dataclass(frozen=True)
class Selector:
    """A metric a PromQL expression reads, and the label names its matchers use."""

    metric: str
    labels: tuple[str, ...]


def _tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot scan PromQL at {expr[pos:pos + 20]!r} in {expr!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            out.append((kind, match.group(0)))
        pos = match.end()
    return out


def selectors(expr: str) -> list[Selector]:
    """The metric selectors of a PromQL expression (without a parser: a token scanner)."""
    tokens = _tokens(expr)
    found: list[Selector] = []
    i, bracket = 0, 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if text == "[":
            bracket += 1
        elif text == "]":
            bracket -= 1
        elif bracket or kind != "ident":
            pass
        elif text in _LABEL_LISTS and nxt == "(":
            i = tokens.index(("punct", ")"), i)  # skip the label list: names, not metrics
        elif text in _KEYWORDS or nxt == "(" or (text in _AGGREGATIONS and nxt in ("by", "without")):
            pass
        else:
            labels: list[str] = []
            if nxt == "{":
                j = i + 2
                while tokens[j][1] != "}":
                    if tokens[j][0] == "ident" and tokens[j + 1][1] in ("=", "!=", "=~", "!~"):
                        labels.append(tokens[j][1])
                    j += 1
                i = j
            found.append(Selector(text, tuple(labels)))
        i += 1
    return found


def known_labels() -> dict[str, frozenset[str]]:
    """Metric name -> label names it carries, for the exporter's and the receiver's contracts."""
    out: dict[str, frozenset[str]] = {}
    target = {"instance", "job"}
    for spec in (*METRICS, *RECEIVER_METRICS):
        labels = frozenset({*spec.labels, *target})
        out[spec.name] = labels
        if spec.type == "histogram":
            out[f"{spec.name}_bucket"] = labels | {"le"}
            out[f"{spec.name}_sum"] = labels
            out[f"{spec.name}_count"] = labels
    return out


def recorded_labels() -> dict[str, frozenset[str]]:
    """Recording rule name -> labels it keeps (its `level`, by Prometheus' naming convention)."""
    out: dict[str, frozenset[str]] = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    level = rule["record"].split(":")[0]
                    out[rule["record"]] = frozenset(name for name in ("wedding_id", "operation", "tier") if name in level)
    return out


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
