"""The `wedwatch` command: its version, exit codes, one-line errors, the log level (commands: tests/commands)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wedwatch import __version__
from wedwatch.cli import build_parser, main


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


@pytest.mark.parametrize("argv", [["--log.level", "debug", "check"], ["check", "--log.level", "debug"], ["check"]])
def test_log_level_before_or_after_the_command(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEDWATCH_LOG_LEVEL", "warn")
    args = build_parser().parse_args(argv)
    assert args.log_level == ("debug" if "debug" in argv else "warn")
