"""Fixtures for the rules tests: the promtool and amtool binaries.

promtool and amtool come from Debian's `prometheus` and `prometheus-alertmanager` packages
(scripts/run-tests installs them). When they are missing the tests fail, so that a CI image
without them cannot pass silently; WEDWATCH_TEST_SKIP_PROMTOOL=1 skips them on purpose.
"""

from __future__ import annotations

import os
import shutil

import pytest

SKIP_ENV = "WEDWATCH_TEST_SKIP_PROMTOOL"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{name} not installed and {SKIP_ENV}=1")
    pytest.fail(
        f"{name} is not on PATH: apt-get install -y prometheus prometheus-alertmanager"
        f" (scripts/run-tests does), or set {SKIP_ENV}=1 to skip these tests"
    )


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool; fails the test when it is missing (unless skipping on purpose)."""
    return _binary("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    """Path of amtool; fails the test when it is missing (unless skipping on purpose)."""
    return _binary("amtool")
