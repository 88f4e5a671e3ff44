"""Prophet, set up for wedding traffic, fitted in a worker process.

`fit_predict(job)` is the worker's entry point: a picklable job in, a picklable result out, so
that it runs in a `ProcessPoolExecutor` and never on the event loop. Each fit writes cmdstanpy's
files into a temporary directory of its own, removed when the fit ends (cmdstanpy would
otherwise keep ~200 KB per fit until the process exits, and pool workers never exit). Only the
horizon is predicted: predicting the whole history with 1,000 samples costs ~400 MB.
"""

from __future__ import annotations

import importlib
import logging
import math
import resource
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.regressors import REGRESSOR_NAMES
from wedwatch.forecast.series import HOUR, HourlySeries
from wedwatch.forecast.settings import ModelSettings

__all__ = ["FitJob", "FitResult", "fit_predict", "load_prophet", "model_from_json", "predict_json_model"]

# Saturday, Sunday and Friday each get a daily shape of their own; the other weekdays share one.
_DAY_TYPES = {"saturday": (5,), "sunday": (6,), "friday": (4,), "weekday": (0, 1, 2, 3)}


@dataclass(frozen=True)
class FitJob:
    """One fit: the (cleaned) history, calendar regressors for history plus horizon, the settings."""

    series: str
    history: HourlySeries
    regressors: Mapping[str, Sequence[float]]
    horizon: int
    settings: ModelSettings = field(default_factory=ModelSettings)
    return_model: bool = False
    # Parent of the per-fit temporary directory (None: the system's temp dir).
    tmp_root: str | None = None
    # Seeds the optimizer and the interval sampling, so that a job's result is reproducible.
    seed: int = 0


@dataclass(frozen=True)
class FitResult:
    """The horizon's forecast, timings, the model as Prophet JSON (when asked) and the worker's peak RSS."""

    series: str
    forecast: Forecast
    fit_seconds: float
    predict_seconds: float
    model_json: str | None
    peak_rss_bytes: int


def load_prophet() -> Any:
    """Import Prophet with its logging quiet; the Prophet class."""
    # prophet.plot logs "Importing plotly failed" at ERROR while being imported: raise its level
    # first. cmdstanpy and prophet log INFO lines on every fit: quiet them once imported.
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from cmdstanpy.utils import get_logger
        from prophet import Prophet
    # cmdstanpy configures its logger on first use (DEBUG, with a handler of its own when the
    # root logger has none): make that happen now, then raise the level.
    get_logger()
    for name in ("prophet", "cmdstanpy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return Prophet


@contextmanager
def _quiet() -> Iterator[None]:
    # Prophet 1.5 calls DataFrame.drop(inplace=True), deprecated by pandas 3 (Pandas4Warning, a
    # DeprecationWarning), and pandas' FutureWarnings about its own calls: Prophet's business,
    # filtered here only, around Prophet's calls (the tests run with warnings as errors).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="prophet")
        warnings.filterwarnings("ignore", category=FutureWarning, module="prophet")
        yield


def _frame(settings: ModelSettings, start: datetime, hours: int, regressors: Mapping[str, Sequence[float]],
           offset: int, names: Sequence[str]) -> Any:  # fmt: skip
    pd = _pandas()
    zone = ZoneInfo(settings.timezone)
    # Wall-clock timestamps in the users' zone: daily shapes move with the clocks at DST changes.
    # The hour repeated in autumn appears twice, which Prophet accepts.
    local = [(start + (offset + i) * HOUR).astimezone(zone) for i in range(hours)]
    data: dict[str, Any] = {"ds": pd.to_datetime([t.replace(tzinfo=None) for t in local])}
    for day_type, weekdays in _DAY_TYPES.items():
        data[f"is_{day_type}"] = [t.weekday() in weekdays for t in local]
    for name in names:
        column = regressors[name][offset : offset + hours]
        data[name] = [_transform_guests(settings, name, v) for v in column]
    return pd.DataFrame(data)


def _pandas() -> Any:
    # pandas comes with Prophet and ships no type information: typed as Any here.
    return importlib.import_module("pandas")


def _transform_guests(settings: ModelSettings, name: str, value: float) -> float:
    if name == "weddings" or not settings.log_transform:
        return value
    return math.log1p(value / settings.guest_scale)


def _build(settings: ModelSettings, names: Sequence[str]) -> Any:
    prophet_cls = load_prophet()
    m = prophet_cls(
        growth="linear",
        changepoint_prior_scale=settings.changepoint_prior_scale,
        seasonality_prior_scale=settings.seasonality_prior_scale,
        yearly_seasonality="auto",
        weekly_seasonality=settings.weekly_fourier_order,
        daily_seasonality=False if settings.day_type_seasonality else settings.daily_fourier_order,
        uncertainty_samples=settings.uncertainty_samples,
    )
    if settings.day_type_seasonality:
        for day_type in _DAY_TYPES:
            m.add_seasonality(
                name=f"daily_{day_type}", period=1, fourier_order=settings.daily_fourier_order,
                condition_name=f"is_{day_type}",
            )  # fmt: skip
    for name in names:
        m.add_regressor(name, prior_scale=settings.regressor_prior_scale)
    return m


def _fit(settings: ModelSettings, names: Sequence[str], df: Any, job: FitJob) -> Any:
    with tempfile.TemporaryDirectory(prefix="wedwatch-prophet-", dir=job.tmp_root) as output_dir:
        m = _build(settings, names)
        # Below 100 rows Prophet optimises with Newton, which takes no L-BFGS tolerance.
        if int(df["y"].notna().sum()) < 100:
            return m.fit(df, output_dir=output_dir, seed=job.seed)
        try:
            return m.fit(df, output_dir=output_dir, seed=job.seed, tol_rel_grad=settings.tol_rel_grad)
        except (RuntimeError, ValueError):
            # L-BFGS gave up; Prophet's own fallback (Newton) refuses the tolerance, so start again
            # with Prophet's defaults. A Prophet object can be fitted only once.
            m = _build(settings, names)
            return m.fit(df, output_dir=output_dir, seed=job.seed)


def _to_y(settings: ModelSettings, value: float | None) -> float:
    if value is None:
        return math.nan
    return math.log1p(max(0.0, value)) if settings.log_transform else value


def _from_y(settings: ModelSettings, value: float) -> float:
    return max(0.0, math.expm1(value) if settings.log_transform else value)


def fit_predict(job: FitJob) -> FitResult:
    """Fit Prophet on the job's history and forecast its horizon (runs in a worker process)."""
    settings = job.settings
    history = job.history.tail(settings.max_history_hours)
    skip = len(job.history) - len(history)
    # A regressor that never moved in the history carries no information and cannot be scaled.
    names = [n for n in REGRESSOR_NAMES if n in job.regressors and len(set(job.regressors[n][skip : len(job.history)])) > 1]
    with _quiet():
        df = _frame(settings, job.history.start, len(job.history), job.regressors, 0, names).iloc[skip:]
        df["y"] = [_to_y(settings, v) for v in history.values]
        started = time.perf_counter()
        m = _fit(settings, names, df, job)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        future = _frame(settings, job.history.start, job.horizon, job.regressors, len(job.history), names)
        forecast = _predict(m, future, settings, job.history.end, job.seed)
        predict_seconds = time.perf_counter() - started
        model_json = _to_json(m) if job.return_model else None
    return FitResult(
        series=job.series,
        forecast=forecast,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        model_json=model_json,
        # ru_maxrss is in KiB on Linux.
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )


def _predict(m: Any, future: Any, settings: ModelSettings, start: datetime, seed: int) -> Forecast:
    import numpy as np

    # Prophet samples with numpy's global generator; in a worker process that is ours to seed.
    np.random.seed(seed)
    samples = m.predictive_samples(future)["yhat"]  # (hours, samples), on the model's scale
    saved, m.uncertainty_samples = m.uncertainty_samples, 0
    try:
        point = m.predict(future)["yhat"].to_numpy()
    finally:
        m.uncertainty_samples = saved
    q = np.quantile(samples, [0.025, 0.1, 0.9, 0.975], axis=1)

    def back(values: Any) -> tuple[float, ...]:
        return tuple(_from_y(settings, float(x)) for x in values)

    yhat = back(point)
    lo95, lo80, hi80, hi95 = (back(row) for row in q)
    # Sampling noise can leave the point a hair outside a band: keep lower <= yhat <= upper.
    lo80 = tuple(min(a, y) for a, y in zip(lo80, yhat, strict=True))
    hi80 = tuple(max(a, y) for a, y in zip(hi80, yhat, strict=True))
    lo95 = tuple(min(a, y) for a, y in zip(lo95, lo80, strict=True))
    hi95 = tuple(max(a, y) for a, y in zip(hi95, hi80, strict=True))
    return Forecast(start, yhat, lo80, hi80, lo95, hi95, model="prophet")


def _to_json(m: Any) -> str:
    from prophet.serialize import model_to_json

    with _quiet():
        text: str = model_to_json(m)
    return text


def model_from_json(text: str) -> Any:
    """A fitted Prophet model back from `prophet.serialize.model_to_json` output."""
    load_prophet()
    from prophet.serialize import model_from_json as _from_json

    with _quiet():
        return _from_json(text)


def predict_json_model(text: str, job: FitJob) -> Forecast:
    """Forecast the job's horizon with a model saved as JSON (no refit)."""
    m = model_from_json(text)
    names = list(m.extra_regressors)
    with _quiet():
        future = _frame(job.settings, job.history.start, job.horizon, job.regressors, len(job.history), names)
        return _predict(m, future, job.settings, job.history.end, job.seed)
