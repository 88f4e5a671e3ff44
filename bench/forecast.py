"""Forecast cost: Prophet fit-and-predict at 2,000 and 10,000 hourly points, and a 12-origin backtest.

Every fit runs the way the forecaster runs it: in a spawned worker process of a
`ProcessPoolExecutor`, on the generator's history and calendar, with the default model settings
(log transform, day-type daily seasonalities, calendar regressors) and a 14-day horizon sampled
1,000 times. Each size is fitted in a fresh one-worker pool, so that the worker's peak RSS
(`ru_maxrss`) is that size's own. The backtest is `wedwatch backtest --synthetic 0` (16 weeks,
12 origins of 48 h) on two workers.

Goals: at most 5 s to fit and predict 10,000 points, at most 300 MB per worker.

Run: .venv/bin/python bench/forecast.py [--sizes 2000,10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from importlib.metadata import version
from typing import Any

from _support import table, write_json

from wedwatch.forecast.backtest import run_backtest
from wedwatch.forecast.forecaster import make_executor
from wedwatch.forecast.model import FitJob, fit_predict
from wedwatch.forecast.regressors import calendar_regressors
from wedwatch.forecast.series import mask_outages
from wedwatch.forecast.settings import ModelSettings
from wedwatch.forecast.synthetic import generate_history

HORIZON = 14 * 24
GOAL_SECONDS = 5.0
GOAL_RSS_MB = 300.0


def _fit_size(hours: int, repeats: int) -> dict[str, Any]:
    syn = generate_history(0, hours=hours)
    history, _ = mask_outages(syn.series)
    regressors = calendar_regressors(syn.weddings, history.start, len(history) + HORIZON)
    # The default keeps a year (8,760 h) of history; lift the cap so that all of it is fitted.
    settings = ModelSettings(timezone=syn.timezone, max_history_hours=max(hours, 8760))
    job = FitJob("requests", history, regressors, HORIZON, settings)
    with make_executor(1) as pool:
        started = time.perf_counter()
        pool.submit(fit_predict, FitJob("warm-up", history.tail(500), regressors, 24, settings)).result()
        startup = time.perf_counter() - started
        runs = []
        for seed in range(repeats):
            started = time.perf_counter()
            result = pool.submit(fit_predict, FitJob(job.series, job.history, job.regressors, job.horizon, settings, seed=seed)).result()
            runs.append((result.fit_seconds, result.predict_seconds, time.perf_counter() - started, result.peak_rss_bytes))
    return {
        "points": hours,
        "horizon_hours": HORIZON,
        "fit_seconds": statistics.median(r[0] for r in runs),
        "predict_seconds": statistics.median(r[1] for r in runs),
        "fit_and_predict_seconds": statistics.median(r[0] + r[1] for r in runs),
        "wall_seconds": statistics.median(r[2] for r in runs),
        "worker_start_and_first_fit_seconds": startup,
        "peak_rss_mb": max(r[3] for r in runs) / 2**20,
        "repeats": repeats,
    }


async def _backtest() -> dict[str, Any]:
    syn = generate_history(0, hours=16 * 168)
    with make_executor(2) as pool:
        # Start both workers (Prophet's import, ~1 s each) before the clock runs.
        list(pool.map(fit_predict, [FitJob("warm-up", syn.series.tail(400), calendar_regressors([], syn.series.tail(400).start, 424), 24)] * 2))
        report = await run_backtest(
            "requests", syn.series, syn.bookings, settings=ModelSettings(timezone=syn.timezone),
            horizon=48, origins=12, executor=pool,
        )  # fmt: skip
    return {
        "points": len(syn.series),
        "origins": report.origins,
        "horizon_hours": report.horizon_hours,
        "workers": 2,
        "wall_seconds": report.wall_seconds,
        "fit_seconds_mean": report.fit_seconds_mean,
        "fit_seconds_max": report.fit_seconds_max,
        "peak_rss_mb_per_worker": report.peak_rss_bytes / 2**20,
        "relative_mae": report.relative_mae,
        "mase": report.mase,
        "coverage_80": report.coverage_80,
        "coverage_95": report.coverage_95,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    fits = [_fit_size(n, args.repeats) for n in sizes]
    print(table(
        ["points", "fit s", "predict s", "fit+predict s", "wall s", "worker start s", "peak RSS MB"],
        [[f["points"], f["fit_seconds"], f["predict_seconds"], f["fit_and_predict_seconds"], f["wall_seconds"],
          f["worker_start_and_first_fit_seconds"], f["peak_rss_mb"]] for f in fits],
        title=f"Prophet fit and {HORIZON}-hour predict in a worker process (median of {args.repeats})",
    ))  # fmt: skip
    backtest = asyncio.run(_backtest())
    print(table(
        ["points", "origins x h", "workers", "wall s", "fit mean s", "peak RSS MB/worker", "rel. MAE", "cov 80", "cov 95"],
        [[backtest["points"], f"{backtest['origins']} x {backtest['horizon_hours']}", backtest["workers"],
          backtest["wall_seconds"], backtest["fit_seconds_mean"], backtest["peak_rss_mb_per_worker"],
          backtest["relative_mae"], backtest["coverage_80"], backtest["coverage_95"]]],
        title="Rolling-origin backtest (wedwatch backtest --synthetic 0)",
    ))  # fmt: skip
    largest = max(fits, key=lambda f: f["points"])
    worst_rss = max([f["peak_rss_mb"] for f in fits] + [backtest["peak_rss_mb_per_worker"]])
    goals = {
        f"fit_and_predict_{largest['points']}_points_at_most_{GOAL_SECONDS:g}_s": largest["fit_and_predict_seconds"] <= GOAL_SECONDS,
        f"peak_rss_per_worker_at_most_{GOAL_RSS_MB:g}_mb": worst_rss <= GOAL_RSS_MB,
    }
    print("\ngoals: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in goals.items()))
    path = write_json("forecast", {
        "versions": {name: version(name) for name in ("prophet", "cmdstanpy", "pandas", "numpy")},
        "fits": fits, "backtest": backtest, "goals": goals,
    })  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    # The guard matters: the pool's workers are spawned and import this module as __mp_main__.
    main()
