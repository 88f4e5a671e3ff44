"""Fixtures of the command tests: a config whose calendar has three weddings in three time zones."""

from __future__ import annotations

from pathlib import Path

import pytest

CALENDAR = """\
weddings:
  - {id: w-ldn, ceremony_at: '2027-06-12T14:00', timezone: Europe/London, guests: 180, vendors: 12}
  - {id: w-nyc, ceremony_at: '2027-06-05T17:30', timezone: America/New_York, guests: 95, vendors: 8}
  - {id: w-akl, ceremony_at: '2027-09-04T16:00', timezone: Pacific/Auckland, guests: 140, vendors: 10}
"""


@pytest.fixture
def calendar_config(tmp_path: Path) -> Path:
    """wedwatch.yml next to weddings.yml (CALENDAR) and a SQLite store."""
    (tmp_path / "weddings.yml").write_text(CALENDAR)
    path = tmp_path / "wedwatch.yml"
    path.write_text("calendar:\n  file: weddings.yml\nstore:\n  url: sqlite:///w.db\n")
    return path
