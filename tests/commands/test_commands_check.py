"""`wedwatch check` (src/wedwatch/commands/check.py): the summary, a broken entry, the config from WEDWATCH_CONFIG."""

from __future__ import annotations

from pathlib import Path

import pytest

from wedwatch.cli import main


def test_config_from_environment_variable(
    calendar_config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEDWATCH_CONFIG", str(calendar_config))
    assert main(["check", "--at", "2027-06-12T12:00:00Z"]) == 0
    assert "calendar: " in capsys.readouterr().out


def test_check_prints_summary(calendar_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config.file", str(calendar_config), "--at", "2027-06-12T12:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert f"config: {calendar_config}: ok" in out
    assert "3 weddings, 0 skipped" in out
    assert "phases: ceremony=1, wedding_day=0, eve=0, after=1, week=0, month=0, planning=1, archived=0" in out
    assert "tracked: 2 of at most 2000" in out
    assert "operations: guest_list, photo_upload, timeline_sync, vendor_notification, mobile, critical_path" in out
    assert "store: sqlite:///" in out


def test_check_reports_broken_entry_and_exits_1(calendar_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calendar = calendar_config.parent / "weddings.yml"
    calendar.write_text(calendar.read_text() + "  - {id: w-bad, ceremony_at: 'soon', timezone: Europe/London, guests: 3}\n")
    assert main(["check", "--config.file", str(calendar_config), "--at", "2027-06-12T12:00:00Z"]) == 1
    captured = capsys.readouterr()
    assert "3 weddings, 1 skipped" in captured.out
    assert "entry 3 (id 'w-bad'): ceremony_at:" in captured.err
