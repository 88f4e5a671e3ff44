"""`wedwatch check`: validate the config and the calendar, then print a short summary."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter

from wedwatch.calendar import Phase, plan
from wedwatch.commands._inputs import add_config_flag, config_from_args, parse_instant, read_calendar
from wedwatch.urls import redact_url

HELP = "validate the configuration and the wedding calendar"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch check`."""
    add_config_flag(parser)
    parser.add_argument("--at", metavar="TIME", help="evaluate phases at this ISO 8601 instant (default now)")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when everything is valid, 1 when calendar entries had to be skipped."""
    loaded = config_from_args(args)
    config = loaded.config
    now = parse_instant(args.at)
    calendar = asyncio.run(read_calendar(loaded))
    statuses = plan(calendar.weddings, now, config.schedule, config.features)
    phases = Counter(s.phase for s in statuses)
    tracked = sum(s.tracked for s in statuses)
    out = sys.stdout
    print(f"config: {loaded.path or '<defaults>'}: ok", file=out)
    print(f"calendar: {calendar.source}: {len(calendar.weddings)} weddings, {len(calendar.errors)} skipped", file=out)
    print("phases: " + ", ".join(f"{p.value}={phases.get(p, 0)}" for p in Phase), file=out)
    print(f"tracked: {tracked} of at most {config.schedule.max_tracked_weddings}", file=out)
    print("operations: " + ", ".join(config.operations.enabled()), file=out)
    print(f"store: {redact_url(config.store.url)}", file=out)
    features = config.features
    off = [name for name, on in features.model_dump().items() if not on]
    if off:
        print("disabled: " + ", ".join(off), file=out)
    for error in calendar.errors:
        print(f"{calendar.source}: {error}", file=sys.stderr)
    return 1 if calendar.errors else 0
