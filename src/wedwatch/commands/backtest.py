"""`wedwatch backtest`: rolling-origin backtest of Prophet against the weekly seasonal-naive."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from typing import Any

from wedwatch.commands._common import config_from_args
from wedwatch.commands.forecast import add_source_arguments, source_context, source_request
from wedwatch.config.loader import LoadedConfig

__all__ = ["HELP", "add_arguments", "run"]

HELP = "backtest Prophet against the weekly seasonal-naive (relative MAE, MASE, coverage)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch backtest`."""
    add_source_arguments(parser)
    parser.add_argument("--horizon", default="48h", metavar="DURATION", help="forecast horizon per origin (default 48h)")
    parser.add_argument("--origins", type=int, default=12, metavar="N", help="number of origins (default 12)")
    parser.add_argument("--step", metavar="DURATION", help="time between origins (default: the horizon)")


def run(args: argparse.Namespace) -> int:
    """Run the backtest and print its report."""
    loaded = config_from_args(args)
    return asyncio.run(_run(args, loaded))


async def _run(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from wedwatch.errors import ConfigError
    from wedwatch.forecast.backtest import run_backtest
    from wedwatch.forecast.forecaster import make_executor, settings_from_config
    from wedwatch.forecast.progress import ProgressBar
    from wedwatch.forecast.sources import load_source, parse_hours

    if args.origins < 1:
        raise ConfigError("must be at least 1", field="--origins")
    settings = settings_from_config(loaded.config)
    horizon = parse_hours(args.horizon, flag="--horizon")
    step = parse_hours(args.step, flag="--step") if args.step else horizon
    source = await load_source(source_request(args, loaded), **await source_context(args, loaded))
    for note in source.warnings:
        print(note, file=sys.stderr)
    model = settings.model
    if source.timezone and "timezone" not in model.model_fields_set:
        model = model.model_copy(update={"timezone": source.timezone})
    executor = make_executor(args.workers or settings.workers)
    bar = ProgressBar(f"backtest {source.name}")
    try:
        report = await run_backtest(
            source.name, source.history, source.bookings, settings=model, horizon=horizon, origins=args.origins,
            step=step, fallback_relative_mae=settings.backtest.fallback_relative_mae, executor=executor, progress=bar,
        )  # fmt: skip
    finally:
        bar.close()
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
    if args.json:
        json.dump({**report.to_dict(), "source": source.description}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    _print_report(report, source.description)
    return 0


def _f(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "-"


def _print_report(r: Any, description: str) -> None:
    print(f"series {r.series} ({description}): {r.origins} origins x {r.horizon_hours} h, {r.points} hours scored")
    rows = [
        ("relative MAE (Prophet / naive)", _f(r.relative_mae)),
        ("MASE", _f(r.mase)),
        ("MAE Prophet / naive", f"{_f(r.mae)} / {_f(r.naive_mae)}"),
        (f"MAE in ceremony windows ({r.ceremony_points} h)", f"{_f(r.ceremony_mae)} / {_f(r.ceremony_naive_mae)}"),
        ("80 % interval coverage", _f(r.coverage_80)),
        ("95 % interval coverage", _f(r.coverage_95)),
        ("fit time mean / max", f"{_f(r.fit_seconds_mean, 2)} s / {_f(r.fit_seconds_max, 2)} s"),
        ("wall time", f"{_f(r.wall_seconds, 1)} s"),
        ("peak RSS per worker", f"{r.peak_rss_bytes / 2**20:.0f} MiB"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    verdict = "Prophet wins" if r.model == "prophet" else "Prophet loses: the series falls back to the seasonal-naive"
    print(f"  {'model':<{width}}  {r.model} ({verdict}; threshold {r.fallback_relative_mae:g})")
