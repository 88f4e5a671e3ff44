"""`wedwatch rules`: writes the files, reads thresholds from --config.file or WEDWATCH_CONFIG, --check."""

from __future__ import annotations

from pathlib import Path

import pytest
from checkout import RULES_DIR

from wedwatch.cli import main
from wedwatch.rules import ALERTING_FILE, RECORDING_FILE

CONFIG = """\
thresholds:
  critical: {p95_seconds: 9, error_ratio: 0.3, availability: 0.85}
  wedding_day:
    availability: 0.998
"""


def test_writes_the_default_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["rules", "--output-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([RECORDING_FILE, ALERTING_FILE])
    for name in (RECORDING_FILE, ALERTING_FILE):
        assert (out / name).read_text() == (RULES_DIR / name).read_text()
    assert str(out / ALERTING_FILE) in capsys.readouterr().out


def test_thresholds_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "wedwatch.yml"
    config.write_text(CONFIG)
    assert main(["rules", "--config.file", str(config), "--output-dir", str(tmp_path)]) == 0
    alerts = (tmp_path / ALERTING_FILE).read_text()
    assert "p95_rate5m > 9\n" in alerts
    assert "ratio_rate5m > 0.3\n" in alerts
    assert "success_ratio_rate1h < 0.85\n" in alerts
    assert "/ 0.002 > 14.4" in alerts


def test_config_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "wedwatch.yml"
    config.write_text(CONFIG)
    monkeypatch.setenv("WEDWATCH_CONFIG", str(config))
    assert main(["rules", "--output-dir", str(tmp_path)]) == 0
    assert "p95_rate5m > 9\n" in (tmp_path / ALERTING_FILE).read_text()


def test_runbook_base_url_flag(tmp_path: Path) -> None:
    assert main(["rules", "--output-dir", str(tmp_path), "--runbook.base-url", "https://runbooks.example.org/w"]) == 0
    assert "runbook_url: https://runbooks.example.org/w#wedwatchprobesstalled" in (tmp_path / ALERTING_FILE).read_text()


def test_check_reports_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--check", "--output-dir", str(tmp_path)]) == 1
    assert main(["rules", "--output-dir", str(tmp_path)]) == 0
    assert main(["rules", "--check", "--output-dir", str(tmp_path)]) == 0
    (tmp_path / RECORDING_FILE).write_text("groups: []\n")
    capsys.readouterr()
    assert main(["rules", "--check", "--output-dir", str(tmp_path)]) == 1
    assert RECORDING_FILE in capsys.readouterr().err


def test_checked_in_rules_pass_check() -> None:
    assert main(["rules", "--check", "--output-dir", str(RULES_DIR)]) == 0


def test_invalid_config_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "wedwatch.yml"
    config.write_text("thresholds:\n  wedding_day:\n    availability: 1.0\n")
    assert main(["rules", "--config.file", str(config), "--output-dir", str(tmp_path)]) == 2
    assert "thresholds.wedding_day.availability" in capsys.readouterr().err
    assert not (tmp_path / ALERTING_FILE).exists()
