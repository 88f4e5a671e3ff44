"""`wedwatch weddings` (src/wedwatch/commands/weddings.py): JSON keys, the table, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wedwatch.cli import main


def test_weddings_json_has_exactly_the_documented_keys(calendar_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weddings", "--config.file", str(calendar_config), "--at", "2027-06-12T12:00:00Z", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"wedding_id": "w-nyc", "phase": "after", "tier": "standard", "tracked": True,
         "probe_interval_seconds": 300, "ceremony_at": "2027-06-05T21:30:00Z"},
        {"wedding_id": "w-ldn", "phase": "ceremony", "tier": "wedding_day", "tracked": True,
         "probe_interval_seconds": 10, "ceremony_at": "2027-06-12T13:00:00Z"},
        {"wedding_id": "w-akl", "phase": "planning", "tier": "standard", "tracked": False,
         "probe_interval_seconds": 900, "ceremony_at": "2027-09-04T04:00:00Z"},
    ]  # fmt: skip


def test_weddings_table(calendar_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weddings", "--config.file", str(calendar_config), "--at", "2027-06-12T12:00:00+00:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["wedding_id", "phase", "tier", "tracked", "probe_interval_seconds", "ceremony_at"]
    assert lines[2].split() == ["w-ldn", "ceremony", "wedding_day", "yes", "10", "2027-06-12T13:00:00Z"]


def test_weddings_bad_instant_is_a_usage_error(calendar_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weddings", "--config.file", str(calendar_config), "--at", "tomorrow"]) == 2
    assert "--at: not an ISO 8601 time: 'tomorrow'" in capsys.readouterr().err


def test_unreadable_calendar_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wedwatch.yml"
    path.write_text("calendar:\n  file: missing.yml\n")
    assert main(["weddings", "--config.file", str(path)]) == 1
    assert "missing.yml: cannot read" in capsys.readouterr().err
