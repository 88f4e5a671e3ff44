"""`wedwatch probe`: run one probe from the shell, as `/probe?debug=true` does, and say what each step did.

The tool to reach for while writing an operation's steps: `--verbose` prints each step's request,
status, time, captures and assertions (every ${ENV} value and token redacted). Exit 0 when the
probe succeeds, 1 when it fails, 2 for a config error or an unknown wedding or operation.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from wedwatch.commands._inputs import add_config_flag, config_from_args, read_calendar
from wedwatch.config import LoadedConfig
from wedwatch.errors import ConfigError
from wedwatch.exporter.probes import ProbeResult, probe_context, probe_session, run_probe
from wedwatch.exporter.probes.base import redact
from wedwatch.oauth2 import TokenSource

__all__ = ["HELP", "add_arguments", "run"]

HELP = "run one probe of one wedding now and print what each step did"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch probe`."""
    add_config_flag(parser)
    parser.add_argument("--wedding", required=True, metavar="ID", help="the wedding's id in the calendar")
    parser.add_argument("--operation", required=True, metavar="OP", help="an enabled operation (built in or configured)")
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="print each step: request, status, time, captures, assertions"
    )


def run(args: argparse.Namespace) -> int:
    """0 when the probe succeeds, 1 when it fails."""
    loaded = config_from_args(args)
    result, lines = asyncio.run(probe_once(loaded, args.wedding, args.operation, verbose=args.verbose))
    report(result, lines, operation=args.operation, wedding=args.wedding, out=sys.stdout)
    return 0 if result.success else 1


async def probe_once(loaded: LoadedConfig, wedding_id: str, operation: str, *, verbose: bool) -> tuple[ProbeResult, list[str]]:
    """Run one probe; ConfigError for an unknown wedding or operation."""
    config = loaded.config
    if operation not in config.operations.names():
        raise ConfigError(f"unknown operation {operation!r} (configured: {', '.join(config.operations.names())})", field="--operation")
    calendar = await read_calendar(loaded)
    wedding = next((w for w in calendar.weddings if w.id == wedding_id), None)
    if wedding is None:
        raise ConfigError(f"no wedding {wedding_id!r} in the calendar ({calendar.source})", field="--wedding")
    async with probe_session(limit=8, connect_timeout=config.platform.timeout_seconds) as session:
        oauth2 = config.platform.auth.oauth2
        tokens = TokenSource(oauth2, session) if oauth2 is not None else None
        try:
            authorization = tokens.authorization if tokens else None
            ctx = probe_context(session, config, wedding, operation, debug=verbose, authorization=authorization, redact=loaded.secrets)
            result = await run_probe(ctx)
            if tokens is not None:  # the token fetched during the run is redacted too
                ctx.redact = (*tokens.secrets(), *loaded.secrets)
                lines = [redact(line, ctx.redact) for line in ctx.log_lines]
            else:
                lines = ctx.log_lines
        finally:
            if tokens is not None:
                await tokens.aclose()
    return result, lines


def report(result: ProbeResult, lines: list[str], *, operation: str, wedding: str, out: TextIO) -> None:
    """The step log (when verbose), then one line with the verdict, the steps' times and the readings."""
    for line in lines:
        print(line, file=out)
    steps = ", ".join(f"{name}={seconds * 1000:.1f}ms" for name, seconds in result.steps.items())
    verdict = "succeeded" if result.success else f"failed ({result.reason}): {result.message}"
    print(f"{operation} of {wedding}: {verdict} in {result.duration_seconds * 1000:.1f}ms" + (f" [{steps}]" if steps else ""), file=out)
    for name, value in result.readings.items():
        print(f"  {name} = {value:g}", file=out)
