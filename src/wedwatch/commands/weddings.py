"""`wedwatch weddings`: each wedding's phase, tier and probe interval at an instant."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from wedwatch.calendar import plan
from wedwatch.commands._inputs import add_config_flag, config_from_args, parse_instant, read_calendar

HELP = "print each wedding's phase, tier and probe interval"

_COLUMNS = ("wedding_id", "phase", "tier", "tracked", "probe_interval_seconds", "ceremony_at")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch weddings`."""
    add_config_flag(parser)
    parser.add_argument("--at", metavar="TIME", help="ISO 8601 instant (default now; without an offset, UTC)")
    parser.add_argument("--json", action="store_true", help="print a JSON array instead of a table")


def run(args: argparse.Namespace) -> int:
    """Print the weddings sorted by ceremony; skipped entries go to stderr."""
    loaded = config_from_args(args)
    config = loaded.config
    calendar = asyncio.run(read_calendar(loaded))
    rows = [s.to_dict() for s in plan(calendar.weddings, parse_instant(args.at), config.schedule, config.features)]
    for error in calendar.errors:
        print(f"{calendar.source}: skipped {error}", file=sys.stderr)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    table = [list(_COLUMNS)] + [[_cell(row[c]) for c in _COLUMNS] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(_COLUMNS))]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
