"""The Prophet fit: its temporary directory removed, its logs quiet, its model round-tripping through JSON."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from wedwatch.forecast import model as model_module
from wedwatch.forecast.model import FitJob, fit_predict, predict_json_model
from wedwatch.forecast.regressors import calendar_regressors
from wedwatch.forecast.settings import ModelSettings
from wedwatch.forecast.synthetic import generate_history

HORIZON = 24


@pytest.fixture(scope="module")
def job() -> FitJob:
    syn = generate_history(7, hours=4 * 168, outages=False)
    regs = calendar_regressors(syn.weddings, syn.series.start, len(syn.series) + HORIZON)
    settings = ModelSettings(timezone=syn.timezone, uncertainty_samples=200)
    return FitJob("requests", syn.series, regs, HORIZON, settings, return_model=True)


def test_fit_uses_its_own_temporary_directory_and_removes_it(
    job: FitJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    real_fit = model_module.load_prophet().fit

    def spying_fit(self: object, df: object, **kwargs: object) -> object:
        result = real_fit(self, df, **kwargs)
        output_dir = Path(str(kwargs["output_dir"]))
        assert output_dir.parent == tmp_path
        seen.append(os.listdir(output_dir))  # cmdstanpy's CSV and its console output
        return result

    monkeypatch.setattr(model_module.load_prophet(), "fit", spying_fit)
    from dataclasses import replace

    result = fit_predict(replace(job, tmp_root=str(tmp_path)))
    assert seen and seen[0], "the fit wrote nothing into the directory it was given"
    assert list(tmp_path.iterdir()) == []
    assert len(result.forecast) == HORIZON


def test_logs_are_quiet_after_loading(job: FitJob, caplog: pytest.LogCaptureFixture) -> None:
    model_module.load_prophet()
    assert logging.getLogger("cmdstanpy").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("prophet").getEffectiveLevel() >= logging.WARNING
    with caplog.at_level(logging.DEBUG):
        fit_predict(job)
    assert [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))] == []


def test_model_round_trips_through_prophet_json(pool: ProcessPoolExecutor, job: FitJob) -> None:
    result = pool.submit(fit_predict, job).result(timeout=120)
    assert result.model_json is not None and result.model_json.startswith("{")
    again = predict_json_model(result.model_json, job)
    assert again.yhat == pytest.approx(result.forecast.yhat, rel=1e-9)
    assert again.upper_80 == pytest.approx(result.forecast.upper_80, rel=1e-9)


def test_forecast_bands_are_ordered(job: FitJob) -> None:
    f = fit_predict(job).forecast
    for i in range(len(f)):
        assert 0 <= f.lower_95[i] <= f.lower_80[i] <= f.yhat[i] <= f.upper_80[i] <= f.upper_95[i]


def test_a_sparse_history_is_fitted_with_newton(job: FitJob) -> None:
    from dataclasses import replace

    from wedwatch.forecast.series import HourlySeries

    # Fewer than 100 known hours: Prophet switches to Newton, which takes no L-BFGS tolerance.
    sparse = tuple(v if i % 5 == 0 else None for i, v in enumerate(job.history.values[-400:]))
    history = HourlySeries(job.history.at(len(job.history) - 400), sparse)
    regressors = {k: v[len(job.history) - 400 :] for k, v in job.regressors.items()}
    result = fit_predict(replace(job, history=history, regressors=regressors, return_model=False))
    assert len(result.forecast) == HORIZON and all(y > 0 for y in result.forecast.yhat)
