"""`wedwatch rules`: write the Prometheus recording and alerting rules from the configured thresholds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wedwatch.commands._common import add_config_flag, config_from_args
from wedwatch.rules import DEFAULT_RUNBOOK_BASE_URL, rule_files, stale_files, write_rule_files

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
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files in --output-dir differ from what would be written",
    )


def run(args: argparse.Namespace) -> int:
    """Generate the rule files, then write them (or, with --check, compare them)."""
    config = config_from_args(args).config
    files = rule_files(config, runbook_base_url=args.runbook_base_url)
    out_dir = Path(args.output_dir)
    if args.check:
        stale = stale_files(files, out_dir)
        for path in stale:
            print(f"wedwatch rules: {path} is not what the generator writes; run wedwatch rules", file=sys.stderr)
        return 1 if stale else 0
    for path in write_rule_files(files, out_dir):
        print(path)
    return 0
