"""`wedwatch rules`: write the Prometheus recording and alerting rules from the configured thresholds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wedwatch.commands._inputs import add_config_flag, config_from_args
from wedwatch.errors import ConfigError
from wedwatch.rules import DEFAULT_RUNBOOK_BASE_URL, rule_files, stale_files, write_rule_files
from wedwatch.rules.compress import COMPRESSED_HEADER, compress_time

__all__ = ["HELP", "add_arguments", "run"]

HELP = "Write Prometheus recording and alerting rules generated from the configured thresholds."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch rules`."""
    add_config_flag(parser, required=False)
    parser.add_argument(
        "--output-dir",
        dest="output_dir",
        default="rules",
        metavar="DIR",
        help="directory to write the rule files to (default: rules)",
    )
    parser.add_argument(
        "--runbook.base-url",
        dest="runbook_base_url",
        default=DEFAULT_RUNBOOK_BASE_URL,
        metavar="URL",
        help="URL of docs/runbooks.md that runbook_url annotations point into (default: %(default)s)",
    )
    parser.add_argument(
        "--time-compression",
        dest="time_compression",
        type=int,
        default=1,
        metavar="N",
        help="divide every window and `for:` by N (for demos and end-to-end tests only; default 1)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files in --output-dir differ from what would be written",
    )


def run(args: argparse.Namespace) -> int:
    """Generate the rule files, then write them (or, with --check, compare them)."""
    config = config_from_args(args).config
    files = rule_files(config, runbook_base_url=args.runbook_base_url)
    note = ""
    if args.time_compression != 1:
        if args.time_compression < 1:
            raise ConfigError("must be at least 1", field="--time-compression")
        files = compress_time(files, args.time_compression)
        note = COMPRESSED_HEADER.format(factor=args.time_compression)
    out_dir = Path(args.output_dir)
    if args.check:
        stale = stale_files(files, out_dir)
        for path in stale:
            print(f"wedwatch rules: {path} is not what the generator writes; run wedwatch rules", file=sys.stderr)
        return 1 if stale else 0
    for path in write_rule_files(files, out_dir, note=note):
        print(path)
    return 0
