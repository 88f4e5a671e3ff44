"""The runner's freshness rule: replicas share the store, so one refits only when the stored sets are stale.

(The loops themselves run in the receiver: tests/receiver/test_receiver_forecaster.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.forecast.runner import is_fresh

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
INTERVAL = 6 * 3600.0  # refit_interval_seconds: fresh while younger than 0.9 of it (5 h 24 min)


def stored(**ages: float) -> list[dict[str, object]]:
    """Prediction sets of the named series, created that many hours before NOW."""
    return [{"series": name, "created_at": NOW - timedelta(hours=hours)} for name, hours in ages.items()]


@pytest.mark.parametrize(
    ("sets", "series", "fresh"),
    [
        ([], ["requests"], False),  # nothing stored yet
        (stored(requests=1), ["requests"], True),
        (stored(requests=5.39), ["requests"], True),
        (stored(requests=5.4), ["requests"], False),  # 0.9 of the interval
        (stored(requests=7), ["requests"], False),
        (stored(requests=1), ["requests", "db"], False),  # a series never stored
        (stored(requests=1, db=6), ["requests", "db"], False),  # the oldest counts
        (stored(requests=1, db=2), ["requests", "db"], True),
    ],
)
def test_is_fresh(sets: list[dict[str, object]], series: list[str], fresh: bool) -> None:
    assert is_fresh(sets, series, INTERVAL, NOW) is fresh
