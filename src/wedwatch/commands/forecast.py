"""`wedwatch forecast`: forecast one series, store it, size capacity and plan the weddings ahead."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from wedwatch.commands._inputs import add_config_flag, config_from_args, parse_instant, read_calendar
from wedwatch.config.loader import LoadedConfig

__all__ = ["HELP", "add_arguments", "add_source_arguments", "run", "source_context", "source_request"]

HELP = "forecast a series with Prophet (hourly yhat, lower, upper), store it and plan capacity"


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The history flags `forecast` and `backtest` share."""
    add_config_flag(parser, required=False)
    source = parser.add_argument_group("history (one of)")
    source.add_argument("--csv", metavar="FILE", help="a `timestamp,value` file")
    source.add_argument("--prometheus", metavar="URL", help="a Prometheus-compatible API (default forecast.prometheus_url)")
    source.add_argument("--query", metavar="PROMQL", help="yielding one series (default forecast.series.NAME.query)")
    source.add_argument("--synthetic", metavar="SEED", type=int, help="the built-in generator's history and calendar")
    parser.add_argument("--synthetic.weeks", dest="synthetic_weeks", metavar="N", type=int, default=16,
                        help="weeks of synthetic history (default 16)")  # fmt: skip
    parser.add_argument("--series", metavar="NAME", help="the series' name (default: the capacity series, requests)")
    parser.add_argument("--counter", action="store_true", help="values are a cumulative counter (resets handled)")
    parser.add_argument("--at", metavar="TIME", help="forecast from this instant (default now; for a CSV its end)")
    parser.add_argument("--workers", metavar="N", type=int, help="Prophet worker processes (default 2)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch forecast`."""
    add_source_arguments(parser)
    parser.add_argument("--horizon", default=None, metavar="DURATION", help="how far ahead (default forecast.horizon_hours, 14d)")
    parser.add_argument("--origins", type=int, metavar="N",
                        help="backtest origins deciding Prophet or the naive fallback (default 4; 0: always Prophet)")  # fmt: skip
    parser.add_argument("--plot", metavar="PNG", help="draw history, forecast, bands and ceremonies into this file")
    parser.add_argument("--no-store", dest="store", action="store_false", help="do not write the prediction set to the store")


def source_request(args: argparse.Namespace, loaded: LoadedConfig) -> Any:
    """The SourceRequest the flags describe."""
    from wedwatch.forecast.forecaster import settings_from_config
    from wedwatch.forecast.sources import SourceRequest

    settings = settings_from_config(loaded.config)
    return SourceRequest(
        series=args.series or settings.capacity.series,
        csv=args.csv,
        prometheus=args.prometheus,
        query=args.query,
        synthetic=args.synthetic,
        synthetic_weeks=args.synthetic_weeks,
        kind="counter" if args.counter else "gauge",
        history_hours=settings.history_hours,
        now=parse_instant(args.at) if args.at else None,
    )


async def source_context(args: argparse.Namespace, loaded: LoadedConfig) -> dict[str, Any]:
    """The calendar (reported skipped entries on stderr) and the `forecast` config a source needs."""
    if args.synthetic is not None or not args.config_file or loaded.config.calendar.source == "none":
        return {"config": loaded.config.forecast}
    calendar = await read_calendar(loaded)
    for error in calendar.errors:
        print(f"{calendar.source}: skipped {error}", file=sys.stderr)
    return {"calendar": calendar.weddings, "config": loaded.config.forecast}


def run(args: argparse.Namespace) -> int:
    """Forecast, store, plot and print."""
    loaded = config_from_args(args)
    return asyncio.run(_run(args, loaded))


async def _run(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from wedwatch.forecast.forecaster import make_executor, settings_from_config
    from wedwatch.forecast.pipeline import forecast_series
    from wedwatch.forecast.plan import plan
    from wedwatch.forecast.progress import ProgressBar
    from wedwatch.forecast.regressors import known_at
    from wedwatch.forecast.sources import load_source, parse_hours

    config = loaded.config
    settings = settings_from_config(config)
    horizon = parse_hours(args.horizon, flag="--horizon") if args.horizon else config.forecast.horizon_hours
    source = await load_source(source_request(args, loaded), **await source_context(args, loaded))
    for note in source.warnings:
        print(note, file=sys.stderr)
    if source.timezone and "timezone" not in settings.model.model_fields_set:
        # The generator's users live in one zone; a configured zone still wins.
        settings = settings.model_copy(update={"model": settings.model.model_copy(update={"timezone": source.timezone})})
    executor = make_executor(args.workers or settings.workers)
    bar = ProgressBar(f"backtest {source.name}")
    try:
        result = await forecast_series(
            source.name, source.history, source.bookings, now=source.now, horizon=horizon, settings=settings,
            bounds=config.actions.capacity, executor=executor, origins=args.origins, progress=bar,
        )  # fmt: skip
    finally:
        bar.close()
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
    steps = []
    if source.name == settings.capacity.series:
        weddings = known_at(source.bookings, source.now)
        steps = plan(result.forecast, weddings, now=source.now, capacity=settings.capacity,
                     bounds=config.actions.capacity, settings=settings.plan)  # fmt: skip
    stored_id = None
    if args.store:
        from wedwatch.forecast.persist import save_prediction_set
        from wedwatch.store import open_store_ctx

        async with open_store_ctx(config.store.url, pool_max_size=2) as store:
            stored_id = await save_prediction_set(store, result.prediction_set)
    if args.plot:
        from wedwatch.forecast.plot import plot_forecast

        await asyncio.to_thread(plot_forecast, source.history, result.forecast, source.weddings, args.plot,
                                title=f"{source.name}: {source.description}")  # fmt: skip
    if args.json:
        out = {**result.prediction_set.to_dict(), "id": stored_id, "source": source.description,
               "choice": result.reason, "plan": [s.to_dict() for s in steps]}  # fmt: skip
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    _print_table(result, steps, source.description, stored_id)
    return 0


def _print_table(result: Any, steps: list[Any], description: str, stored_id: int | None) -> None:
    pset = result.prediction_set
    print(f"series {pset.series} ({description}): {pset.model}; {result.reason}")
    where = f"stored as prediction set {stored_id}" if stored_id is not None else "not stored"
    print(f"horizon {pset.to_dict()['horizon_start']} to {pset.to_dict()['horizon_end']} ({len(pset.points)} hours), {where}")
    for rec in pset.recommendations:
        flag = "  CAPPED at the max bound" if rec["capped"] else (" (raised to the min bound)" if rec["bound"] == "min" else "")
        print(f"recommend {rec['resource']}={rec['target']:g} for peak {rec['demand']:.4g} at {rec['at']}, "
              f"{rec['cost_per_hour']:.4f}/h (max would cost {rec['max_cost_per_hour']:.4f}/h){flag}")  # fmt: skip
    for step in steps:
        targets = ", ".join(f"{k}={v:g}" for k, v in step.targets.items())
        print(f"plan {step.at:%Y-%m-%dT%H:%MZ} {step.action:<10} {step.wedding_id or '-'} {targets}  # {step.reason}")
    print(f"{'ts':<21} {'yhat':>10} {'lower':>10} {'upper':>10}")
    for p in pset.points:
        print(f"{p['ts']:<21} {p['yhat']:>10.4g} {p['yhat_lower']:>10.4g} {p['yhat_upper']:>10.4g}")
