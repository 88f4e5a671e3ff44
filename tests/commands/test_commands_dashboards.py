"""`wedwatch dashboards`: writes the dashboards, and --check tells stale files apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from checkout import STACK_CONFIG

from wedwatch.cli import main
from wedwatch.commands import COMMANDS
from wedwatch.dashboards import DASHBOARDS


@pytest.fixture(autouse=True)
def _no_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEDWATCH_CONFIG", raising=False)


def test_the_command_is_registered() -> None:
    assert "dashboards" in COMMANDS


def test_writes_every_dashboard_then_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dashboards"
    assert main(["dashboards", "--output-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(DASHBOARDS)
    assert capsys.readouterr().out.splitlines() == [str(out / name) for name in DASHBOARDS]
    assert main(["dashboards", "--check", "--output-dir", str(out)]) == 0


def test_check_names_changed_missing_and_leftover_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dashboards"
    assert main(["dashboards", "--output-dir", str(out)]) == 0
    capsys.readouterr()
    changed, missing = (out / name for name in list(DASHBOARDS)[:2])
    changed.write_text("{}\n", encoding="utf-8")
    missing.unlink()
    (out / "old-dashboard.json").write_text("{}\n", encoding="utf-8")
    assert main(["dashboards", "--check", "--output-dir", str(out)]) == 1
    err = capsys.readouterr().err
    for path in (changed, missing, out / "old-dashboard.json"):
        assert str(path) in err


def test_the_config_file_changes_the_forecast_panels(tmp_path: Path) -> None:
    plain, stack = tmp_path / "plain", tmp_path / "stack"
    assert main(["dashboards", "--output-dir", str(plain)]) == 0
    assert main(["dashboards", "--config.file", str(STACK_CONFIG), "--output-dir", str(stack)]) == 0
    name = "wedwatch-forecast.json"
    assert (plain / name).read_text() != (stack / name).read_text()
    assert "probes_per_second: forecast against actual" in (stack / name).read_text()


def test_a_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("thresholds: {stall_intervals: fast}\n", encoding="utf-8")
    assert main(["dashboards", "--config.file", str(bad), "--output-dir", str(tmp_path / "out")]) == 2
