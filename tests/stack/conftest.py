"""Fixtures for the stack tests: docker-compose, failing (not skipping) when missing.

docker-compose comes from Debian's `docker-compose` (scripts/run-tests installs it). A CI image
without it must not pass silently: WEDWATCH_TEST_SKIP_COMPOSE=1 skips those tests on purpose.
promtool and amtool are fixtures of tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil

import pytest

SKIP_COMPOSE_ENV = "WEDWATCH_TEST_SKIP_COMPOSE"


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """Path of docker-compose (Debian's 1.29 validates a file without a Docker engine)."""
    found = shutil.which("docker-compose")
    if found:
        return found
    if os.environ.get(SKIP_COMPOSE_ENV) == "1":
        pytest.skip(f"docker-compose not installed and {SKIP_COMPOSE_ENV}=1")
    pytest.fail(
        "docker-compose is not on PATH: apt-get install -y --no-install-recommends docker-compose"
        f" (scripts/run-tests does), or set {SKIP_COMPOSE_ENV}=1 to skip this test"
    )
