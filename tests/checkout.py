"""Files of the checkout the tests read: the compose stack's config, the generated rules and dashboards.

Imported by name (tests/ is on sys.path) from every test directory that compares generated files
with the checked-in ones or reads the stack's configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from wedwatch.config import load_config
from wedwatch.config.model import Config

__all__ = [
    "REPO", "STACK_DIR", "STACK_CONFIG", "COMPOSE_FILE", "DASHBOARD_DIR", "PROVISIONING_DIR", "RULES_DIR",
    "load_yaml", "stack_config",
]  # fmt: skip

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
STACK_DIR = REPO / "deploy" / "compose"
STACK_CONFIG = STACK_DIR / "wedwatch.yml"
DASHBOARD_DIR = REPO / "grafana" / "dashboards"
PROVISIONING_DIR = REPO / "grafana" / "provisioning"
RULES_DIR = REPO / "rules"


def load_yaml(path: Path) -> Any:
    """Parse one YAML file (merge keys included)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def stack_config() -> Config:
    """The compose stack's wedwatch config, with its demo defaults (no environment)."""
    return load_config(STACK_CONFIG, environ={}).config
