"""`wedwatch backtest` and `wedwatch forecast`: JSON shapes, the PNG plot, the store, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from wedwatch.cli import main
from wedwatch.forecast.history import write_csv
from wedwatch.forecast.synthetic import generate_history
from wedwatch.store import open_store_ctx


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A config with the generator's calendar and a SQLite store, and its history as CSV with one bad line."""
    syn = generate_history(2, hours=6 * 168)
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in syn.weddings]}))
    config = tmp_path / "wedwatch.yml"
    config.write_text("calendar:\n  file: weddings.yml\nstore:\n  url: sqlite:///w.db\n")
    csv = tmp_path / "requests.csv"
    write_csv(syn.series, csv)
    lines = csv.read_text().splitlines()
    lines.insert(5, "2026-03-02T09:00:00Z,lots")
    csv.write_text("\n".join(lines) + "\n")
    return config, csv


def test_backtest_json_from_a_csv(setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config, csv = setup
    argv = ["backtest", "--config.file", str(config), "--csv", str(csv), "--horizon", "48h", "--origins", "3",
            "--workers", "1", "--json"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "line 6: value is not a number" in captured.err
    assert "[" not in captured.err  # stderr is not a terminal: no progress bar
    report = json.loads(captured.out)
    assert {"relative_mae", "mase", "coverage_80", "coverage_95", "fit_seconds_mean", "ceremony_mae", "model"} <= set(report)
    assert report["origins"] == 3 and report["horizon_hours"] == 48 and report["series"] == "requests"
    assert 0 < report["relative_mae"] < 1 and report["model"] == "prophet"
    assert 0 <= report["coverage_80"] <= report["coverage_95"] <= 1


def test_backtest_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--synthetic", "1", "--synthetic.weeks", "4", "--origins", "2", "--horizon", "1d",
                 "--workers", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    for label in ("relative MAE", "MASE", "MAE in ceremony windows", "80 % interval coverage", "95 % interval coverage",
                  "fit time"):  # fmt: skip
        assert label in out


def test_forecast_json_plot_and_store(setup: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, csv = setup
    png = tmp_path / "out.png"
    argv = ["forecast", "--config.file", str(config), "--csv", str(csv), "--horizon", "3d", "--origins", "2",
            "--workers", "1", "--plot", str(png), "--json"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"series", "model", "horizon_start", "horizon_end", "points", "recommendations", "metrics", "plan", "id"} <= set(out)
    assert out["series"] == "requests" and out["model"] in ("prophet", "naive")
    assert len(out["points"]) == 72
    assert set(out["points"][0]) == {"ts", "yhat", "yhat_lower", "yhat_upper", "yhat_lower_95", "yhat_upper_95"}
    assert all(p["yhat_lower"] <= p["yhat"] <= p["yhat_upper"] for p in out["points"])
    assert {r["resource"] for r in out["recommendations"]} == {"db_connections", "cache_mb", "instances"}
    assert out["metrics"]["backtest"]["origins"] == 2
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert all({"at", "action", "wedding_id", "targets", "reason"} <= set(step) for step in out["plan"])
    assert {step["action"] for step in out["plan"]} <= {"scale", "cache_warm"}


async def test_forecast_is_stored_where_the_config_says(setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    config, csv = setup
    argv = ["forecast", "--config.file", str(config), "--csv", str(csv), "--horizon", "1d", "--origins", "0", "--workers", "1"]
    # main() runs its own event loop: off this test's loop.
    assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    assert "stored as prediction set 1" in out and "recommend instances=" in out
    async with open_store_ctx(f"sqlite:///{config.parent / 'w.db'}") as store:
        sets = await store.latest_prediction_sets()
    assert [(s["series"], len(s["points"])) for s in sets] == [("requests", 24)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["forecast", "--no-store"], "choose a history: --csv FILE"),
        (["backtest", "--synthetic", "1", "--horizon", "soon"], "--horizon: expected a duration such as 48h"),
        (["backtest", "--synthetic", "1", "--origins", "0"], "--origins: must be at least 1"),
    ],
)
def test_usage_mistakes_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEDWATCH_CONFIG", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_too_short_a_history_for_the_backtest_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--synthetic", "1", "--synthetic.weeks", "2", "--origins", "12"]) == 1
    assert "need at least" in capsys.readouterr().err


def test_the_progress_bar_draws_only_on_a_terminal() -> None:
    import io

    from wedwatch.forecast.progress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term, pipe = Terminal(), io.StringIO()
    for stream in (term, pipe):
        bar = ProgressBar("backtest requests", stream=stream, width=10)
        bar(1, 4)
        bar(4, 4)
        bar.close()
    assert term.getvalue() == "\rbacktest requests [##--------] 1/4\rbacktest requests [##########] 4/4\n"
    assert pipe.getvalue() == ""
