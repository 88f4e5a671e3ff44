"""Helpers for the rules tests: repository paths, running tools without a shell, test files."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from checkout import REPO, RULES_DIR

__all__ = ["REPO", "RULES_DIR", "RULE_TESTS_DIR", "all_rules", "load_yaml", "rule_test_files", "run_tool"]

RULE_TESTS_DIR = RULES_DIR / "tests"


def run_tool(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool without a shell, capturing its output."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=300, check=False, cwd=cwd)


def rule_test_files() -> list[Path]:
    """The hand-written promtool unit test files, sorted."""
    return sorted(RULE_TESTS_DIR.glob("*.yml"))


def load_yaml(path: Path) -> Any:
    """Parse one YAML file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def all_rules(files: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rule (recording and alerting) of generated or parsed rule files."""
    return [rule for content in files.values() for group in content["groups"] for rule in group["rules"]]
