"""Fixtures of the forecast tests: one Prophet process pool for the whole directory."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from wedwatch.forecast.forecaster import make_executor


@pytest.fixture(scope="session")
def pool() -> Iterator[ProcessPoolExecutor]:
    """Two spawned workers (each imports Prophet once), shared by every test that fits."""
    executor = make_executor(2)
    try:
        yield executor
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
