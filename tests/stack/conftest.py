"""Fixtures for the stack tests: promtool, amtool and docker-compose, failing (not skipping) when missing.

promtool and amtool come from Debian's `prometheus` and `prometheus-alertmanager` packages,
docker-compose from Debian's `docker-compose` (scripts/run-tests installs all three). A CI image
without them must not pass silently: WEDWATCH_TEST_SKIP_PROMTOOL=1 and WEDWATCH_TEST_SKIP_COMPOSE=1
skip those tests on purpose.
"""

from __future__ import annotations

import os
import shutil

import pytest

SKIP_PROMTOOL_ENV = "WEDWATCH_TEST_SKIP_PROMTOOL"
SKIP_COMPOSE_ENV = "WEDWATCH_TEST_SKIP_COMPOSE"


def _binary(name: str, skip_env: str, install: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get(skip_env) == "1":
        pytest.skip(f"{name} not installed and {skip_env}=1")
    pytest.fail(f"{name} is not on PATH: {install} (scripts/run-tests does), or set {skip_env}=1 to skip this test")


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool."""
    return _binary("promtool", SKIP_PROMTOOL_ENV, "apt-get install -y prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    """Path of amtool."""
    return _binary("amtool", SKIP_PROMTOOL_ENV, "apt-get install -y prometheus-alertmanager")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Path of docker-compose (Debian's 1.29 validates a file without a Docker engine)."""
    return _binary("docker-compose", SKIP_COMPOSE_ENV, "apt-get install -y --no-install-recommends docker-compose")
