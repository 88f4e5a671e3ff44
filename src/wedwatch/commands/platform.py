"""`wedwatch platform`: serve the stand-in wedding platform until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from pydantic import SecretStr

from wedwatch.calendar import CalendarLoad, load_calendar_file
from wedwatch.commands._inputs import add_config_flag, config_from_args, read_calendar
from wedwatch.errors import ConfigError
from wedwatch.platform import DEFAULT_API_KEY, DIALECTS, PlatformSettings, create_app
from wedwatch.web import parse_listen_address, serve

__all__ = ["HELP", "add_arguments", "run", "DEFAULT_ADDRESS", "TOKEN_ENV", "API_KEY_ENV"]

HELP = "serve a stand-in of the wedding platform's API, with fault injection"

DEFAULT_ADDRESS = "127.0.0.1:8085"
TOKEN_ENV = "WEDWATCH_PLATFORM_ADMIN_TOKEN"
# The supabase dialect's `apikey` (and bearer token); unset, the documented local key.
API_KEY_ENV = "WEDWATCH_PLATFORM_API_KEY"

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
    parser.add_argument(
        "--platform.dialect",
        "--dialect",
        dest="dialect",
        choices=DIALECTS,
        default=DIALECTS[0],
        help=(
            f"API to speak: wedwatch (its own /api/...) or supabase (/rest/v1, /storage/v1, /realtime/v1; "
            f"key from env {API_KEY_ENV}, default {DEFAULT_API_KEY!r}) (default {DIALECTS[0]})"
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Load the calendar and serve it; 0 after a clean shutdown. The admin token and API key come from the environment."""
    parse_listen_address(args.listen_address)  # a typo fails before the calendar is read
    calendar = _calendar(args)
    for error in calendar.errors:
        log.warning("%s: skipped %s", calendar.source, error)
    token = os.environ.get(TOKEN_ENV) or None
    api_key = os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY
    settings = PlatformSettings(
        seed=args.seed,
        admin_token=SecretStr(token) if token else None,
        dialect=args.dialect,
        api_key=SecretStr(api_key),
    )
    app = create_app(calendar.weddings, settings=settings)
    log.info("platform serving %d weddings from %s", len(calendar.weddings), calendar.source)
    if args.dialect == "supabase" and api_key == DEFAULT_API_KEY:
        log.warning("supabase dialect with the documented local API key; set %s to choose one", API_KEY_ENV)
    asyncio.run(serve(app, args.listen_address, name="platform"))
    return 0


def _calendar(args: argparse.Namespace) -> CalendarLoad:
    if args.calendar_file:
        return load_calendar_file(args.calendar_file)
    loaded = config_from_args(args)
    if loaded.config.calendar.source == "none":
        raise ConfigError("no weddings to serve: pass --calendar.file or set calendar in the config", field="calendar")
    return asyncio.run(read_calendar(loaded))
