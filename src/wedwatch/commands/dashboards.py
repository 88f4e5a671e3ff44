"""`wedwatch dashboards`: write the Grafana dashboards generated from the configuration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wedwatch.commands._inputs import add_config_flag, config_from_args
from wedwatch.dashboards import dashboard_files, stale_files, write_dashboard_files

__all__ = ["HELP", "add_arguments", "run"]

HELP = "Write the Grafana dashboards generated from the configuration (thresholds, forecast series)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch dashboards`."""
    add_config_flag(parser, required=False)
    parser.add_argument(
        "--output-dir",
        dest="output_dir",
        default="grafana/dashboards",
        metavar="DIR",
        help="directory to write the dashboard JSON files to (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files in --output-dir differ from what would be written",
    )


def run(args: argparse.Namespace) -> int:
    """Generate the dashboards, then write them (or, with --check, compare them)."""
    files = dashboard_files(config_from_args(args).config)
    out_dir = Path(args.output_dir)
    if args.check:
        stale = stale_files(files, out_dir)
        for path in stale:
            print(f"wedwatch dashboards: {path} is not what the generator writes; run wedwatch dashboards", file=sys.stderr)
        return 1 if stale else 0
    for path in write_dashboard_files(files, out_dir):
        print(path)
    return 0
