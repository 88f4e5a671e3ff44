"""`wedwatch backtest`: rolling-origin backtest of Prophet against the weekly seasonal-naive.

With `--capacity`, also the cost backtest (`forecast.cost`): each origin's horizon replayed under
the forecast's plan, a held training peak and a lagging autoscaler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from typing import Any

from wedwatch.commands._inputs import config_from_args
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
    parser.add_argument("--capacity", action="store_true",
                        help="also replay each horizon's capacity: the forecast's plan, static_peak and reactive")  # fmt: skip
    parser.add_argument("--plot", metavar="PNG",
                        help="with --capacity: each policy's capacity against the actual need over the busiest origin")  # fmt: skip


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
    if args.plot and not args.capacity:
        raise ConfigError("draws the capacity replay: add --capacity", field="--plot")
    settings = settings_from_config(loaded.config)
    horizon = parse_hours(args.horizon, flag="--horizon")
    step = parse_hours(args.step, flag="--step") if args.step else horizon
    source = await load_source(source_request(args, loaded), **await source_context(args, loaded))
    for note in source.warnings:
        print(note, file=sys.stderr)
    if args.capacity and source.name != settings.capacity.series:
        # Capacity units are in the sizing series' units (requests per second by default).
        raise ConfigError(
            f"capacity is sized from forecast.capacity.series ({settings.capacity.series}), not {source.name}",
            field="--capacity",
        )
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
    cost = None
    if args.capacity:
        from wedwatch.forecast.cost import cost_backtest

        bounds = loaded.config.actions.capacity
        cost = cost_backtest(source.history, source.bookings, report.forecasts, capacity=settings.capacity,
                             bounds=bounds, settings=settings.plan)  # fmt: skip
        busiest = cost.busiest()
        if args.plot and busiest is not None:
            from wedwatch.forecast.plot import plot_capacity

            title = f"{source.name}: capacity from {busiest.cutoff:%Y-%m-%d %H:%MZ} ({source.description})"
            await asyncio.to_thread(plot_capacity, busiest, args.plot, title=title, bounds=bounds)
    if args.json:
        extra = cost.to_dict() if cost is not None else {}
        json.dump({**report.to_dict(), "source": source.description, **extra}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    _print_report(report, source.description)
    if cost is not None:
        _print_cost(cost, report.origins, report.horizon_hours)
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


def _print_cost(cost: Any, origins: int, horizon: int) -> None:
    print(f"capacity replayed over {origins} origins x {horizon} h (under-provisioned: below the need, "
          "not at the upper bound)")  # fmt: skip
    header = ("resource", "policy", "unit-hours", "cost", "x static_peak", "under-provisioned")
    print("  {:<15} {:<12} {:>11} {:>9} {:>13} {:>17}".format(*header))
    for resource, by_policy in cost.scores.items():
        static = by_policy["static_peak"].unit_hours
        for policy, s in by_policy.items():
            ratio = s.unit_hours / static if static else math.nan
            under = f"{s.under_provisioned_hours_ratio:.1%} ({s.under_provisioned_hours} h)"
            print(f"  {resource:<15} {policy:<12} {s.unit_hours:>11.0f} {s.cost:>9.2f} {_f(ratio, 2):>13} {under:>17}")
