"""`wedwatch platform`: serve the stand-in wedding platform until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from pydantic import SecretStr

from wedwatch.calendar import CalendarLoad, load_calendar_file
from wedwatch.commands._common import add_config_flag, config_from_args, read_calendar
from wedwatch.errors import ConfigError
from wedwatch.platform import PlatformSettings, create_app
from wedwatch.web import parse_listen_address, serve

__all__ = ["HELP", "add_arguments", "run", "DEFAULT_ADDRESS", "TOKEN_ENV"]

HELP = "serve a stand-in of the wedding platform's API, with fault injection"

DEFAULT_ADDRESS = "127.0.0.1:8085"
TOKEN_ENV = "WEDWATCH_PLATFORM_ADMIN_TOKEN"

log = logging.getLogger("wedwatch.platform")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch platform`."""
    add_config_flag(parser, required=False)
    parser.add_argument(
        "--calendar.file",
        dest="calendar_file",
        metavar="PATH",
        help="weddings to serve (YAML or JSON); replaces the config's calendar",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        metavar="HOST:PORT",
        default=os.environ.get("WEDWATCH_PLATFORM_LISTEN_ADDRESS", DEFAULT_ADDRESS),
        help=f"address to serve on (default {DEFAULT_ADDRESS}; env WEDWATCH_PLATFORM_LISTEN_ADDRESS)",
    )
    parser.add_argument(
        "--platform.seed",
        dest="seed",
        type=int,
        default=0,
        help="seed of the fake guest lists and of the injected-error dice (default 0)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the calendar and serve it; 0 after a clean shutdown. The admin token comes from the environment."""
    parse_listen_address(args.listen_address)  # a typo fails before the calendar is read
    calendar = _calendar(args)
    for error in calendar.errors:
        log.warning("%s: skipped %s", calendar.source, error)
    token = os.environ.get(TOKEN_ENV) or None
    settings = PlatformSettings(seed=args.seed, admin_token=SecretStr(token) if token else None)
    app = create_app(calendar.weddings, settings=settings)
    log.info("platform serving %d weddings from %s", len(calendar.weddings), calendar.source)
    asyncio.run(serve(app, args.listen_address, name="platform"))
    return 0


def _calendar(args: argparse.Namespace) -> CalendarLoad:
    if args.calendar_file:
        return load_calendar_file(args.calendar_file)
    loaded = config_from_args(args)
    if loaded.config.calendar.source == "none":
        raise ConfigError("no weddings to serve: pass --calendar.file or set calendar in the config", field="calendar")
    return asyncio.run(read_calendar(loaded))
