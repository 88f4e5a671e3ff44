"""The `wedwatch` command: exit codes, one-line errors, `check` and `weddings` output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wedwatch import __version__
from wedwatch.cli import build_parser, main

CALENDAR = """\
weddings:
  - {id: w-ldn, ceremony_at: '2027-06-12T14:00', timezone: Europe/London, guests: 180, vendors: 12}
  - {id: w-nyc, ceremony_at: '2027-06-05T17:30', timezone: America/New_York, guests: 95, vendors: 8}
  - {id: w-akl, ceremony_at: '2027-09-04T16:00', timezone: Pacific/Auckland, guests: 140, vendors: 10}
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "weddings.yml").write_text(CALENDAR)
    path = tmp_path / "wedwatch.yml"
    path.write_text("calendar:\n  file: weddings.yml\nstore:\n  url: sqlite:///w.db\n")
    return path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"wedwatch {__version__}"


def test_python_dash_m_works() -> None:
    done = subprocess.run([sys.executable, "-m", "wedwatch", "--version"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"wedwatch {__version__}")


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["weddings", "--no-such-flag"], ["check"]])
def test_usage_errors_exit_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEDWATCH_CONFIG", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("wedwatch")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule:\n  max_tracked_weddings: lots\n", "schedule.max_tracked_weddings: Input should be a valid integer"),
        ("calendar:\n  fil: x.yml\n", "calendar.fil: unknown key"),
        ("receiver:\n  auth:\n    bearer_token: ${WEDWATCH_TEST_NOT_SET}\n", "receiver.auth.bearer_token: environment variable WEDWATCH_TEST_NOT_SET is not set"),
    ],
)  # fmt: skip
def test_bad_config_exits_2_naming_file_field_reason(
    tmp_path: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    assert main(["check", "--config.file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: {expected}" in err


def test_config_from_environment_variable(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEDWATCH_CONFIG", str(config_file))
    assert main(["check", "--at", "2027-06-12T12:00:00Z"]) == 0
    assert "calendar: " in capsys.readouterr().out


def test_check_prints_summary(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config.file", str(config_file), "--at", "2027-06-12T12:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert f"config: {config_file}: ok" in out
    assert "3 weddings, 0 skipped" in out
    assert "phases: ceremony=1, wedding_day=0, eve=0, after=1, week=0, month=0, planning=1, archived=0" in out
    assert "tracked: 2 of at most 2000" in out
    assert "operations: guest_list, photo_upload, timeline_sync, vendor_notification, mobile, critical_path" in out
    assert "store: sqlite:///" in out


def test_check_reports_broken_entry_and_exits_1(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calendar = config_file.parent / "weddings.yml"
    calendar.write_text(CALENDAR + "  - {id: w-bad, ceremony_at: 'soon', timezone: Europe/London, guests: 3}\n")
    assert main(["check", "--config.file", str(config_file), "--at", "2027-06-12T12:00:00Z"]) == 1
    captured = capsys.readouterr()
    assert "3 weddings, 1 skipped" in captured.out
    assert "entry 3 (id 'w-bad'): ceremony_at:" in captured.err


def test_weddings_json_has_exactly_the_documented_keys(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weddings", "--config.file", str(config_file), "--at", "2027-06-12T12:00:00Z", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"wedding_id": "w-nyc", "phase": "after", "tier": "standard", "tracked": True,
         "probe_interval_seconds": 300, "ceremony_at": "2027-06-05T21:30:00Z"},
        {"wedding_id": "w-ldn", "phase": "ceremony", "tier": "wedding_day", "tracked": True,
         "probe_interval_seconds": 10, "ceremony_at": "2027-06-12T13:00:00Z"},
        {"wedding_id": "w-akl", "phase": "planning", "tier": "standard", "tracked": False,
         "probe_interval_seconds": 900, "ceremony_at": "2027-09-04T04:00:00Z"},
    ]  # fmt: skip


def test_weddings_table(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weddings", "--config.file", str(config_file), "--at", "2027-06-12T12:00:00+00:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["wedding_id", "phase", "tier", "tracked", "probe_interval_seconds", "ceremony_at"]
    assert lines[2].split() == ["w-ldn", "ceremony", "wedding_day", "yes", "10", "2027-06-12T13:00:00Z"]


def test_weddings_bad_instant_is_a_usage_error(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weddings", "--config.file", str(config_file), "--at", "tomorrow"]) == 2
    assert "--at: not an ISO 8601 time: 'tomorrow'" in capsys.readouterr().err


def test_unreadable_calendar_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wedwatch.yml"
    path.write_text("calendar:\n  file: missing.yml\n")
    assert main(["weddings", "--config.file", str(path)]) == 1
    assert "missing.yml: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--log.level", "debug", "check"], ["check", "--log.level", "debug"], ["check"]])
def test_log_level_before_or_after_the_command(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEDWATCH_LOG_LEVEL", "warn")
    args = build_parser().parse_args(argv)
    assert args.log_level == ("debug" if "debug" in argv else "warn")
