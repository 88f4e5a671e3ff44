"""The `wedwatch` command: parse flags, dispatch to a subcommand, turn user mistakes into exit 2."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from wedwatch import __version__
from wedwatch.commands import COMMANDS
from wedwatch.errors import ConfigError, WedwatchError

__all__ = ["main", "run", "build_parser", "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns every exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-parser per registered command."""
    parser = _Parser(prog="wedwatch", description="Wedding-aware monitoring for a wedding platform.")
    parser.add_argument("--version", action="version", version=f"wedwatch {__version__}")
    _add_log_level(parser, os.environ.get("WEDWATCH_LOG_LEVEL", "info"))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        # Accepted after the command too, as Prometheus' own binaries take every flag anywhere.
        _add_log_level(sub, argparse.SUPPRESS)
    return parser


def _add_log_level(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log.level",
        dest="log_level",
        default=default,
        choices=["debug", "info", "warn", "error"],
        help="log level (env WEDWATCH_LOG_LEVEL)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run wedwatch with `argv` (default sys.argv[1:]) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("wedwatch: a command is required", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level={"warn": logging.WARNING}.get(args.log_level, getattr(logging, args.log_level.upper())),
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
        stream=sys.stderr,
    )
    try:
        return COMMANDS[args.command].run(args)
    except ConfigError as exc:
        print(f"wedwatch {args.command}: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except WedwatchError as exc:
        print(f"wedwatch {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
