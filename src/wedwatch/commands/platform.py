"""`wedwatch platform`: serve the stand-in wedding platform until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re

from pydantic import SecretStr

from wedwatch.calendar import CalendarLoad, load_calendar_file
from wedwatch.commands._inputs import add_config_flag, config_from_args, read_calendar
from wedwatch.errors import ConfigError
from wedwatch.platform import DEFAULT_API_KEY, DIALECTS, PlatformSettings, create_app
from wedwatch.web import parse_listen_address, serve

__all__ = [
    "HELP",
    "add_arguments",
    "run",
    "parse_duration",
    "DEFAULT_ADDRESS",
    "TOKEN_ENV",
    "API_KEY_ENV",
    "CACHE_URL_ENV",
]

HELP = "serve a stand-in of the wedding platform's API, with fault injection"

DEFAULT_ADDRESS = "127.0.0.1:8085"
TOKEN_ENV = "WEDWATCH_PLATFORM_ADMIN_TOKEN"
# The supabase dialect's `apikey` (and bearer token); unset, the documented local key.
API_KEY_ENV = "WEDWATCH_PLATFORM_API_KEY"
# The cache's Redis URL (it may carry a password, so the environment is the place for it).
CACHE_URL_ENV = "WEDWATCH_PLATFORM_CACHE_URL"
_DEFAULT_TTL = "5m"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")

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
    parser.add_argument(
        "--cache.url",
        dest="cache_url",
        metavar="URL",
        default=os.environ.get(CACHE_URL_ENV) or None,
        help=(
            "keep guest lists and mobile summaries in this Redis (redis://HOST:PORT/DB); a cold read pays the "
            f"simulated database cost, a hit does not; a Redis that fails makes reads uncached (env {CACHE_URL_ENV}; "
            "default: no cache)"
        ),
    )
    parser.add_argument(
        "--cache.ttl",
        dest="cache_ttl",
        metavar="DURATION",
        type=parse_duration,
        default=parse_duration(_DEFAULT_TTL),
        help=f"how long a cached entry lives, e.g. 300s, 5m, 1h (default {_DEFAULT_TTL})",
    )


def parse_duration(text: str) -> float:
    """Seconds of a Prometheus-style duration (`300s`, `5m`, `1h30m`) or of a plain number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds <= 0:
            raise argparse.ArgumentTypeError(f"duration {text!r} must be positive")
        return seconds
    if not text or _DURATION.sub("", text):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (expected e.g. 300s, 5m, 1h30m)")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"duration {text!r} must be positive")
    return seconds


def run(args: argparse.Namespace) -> int:
    """Load the calendar and serve it; 0 after a clean shutdown. The admin token and API key come from the environment."""
    parse_listen_address(args.listen_address)  # a typo fails before the calendar is read
    if args.cache_url and not args.cache_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("expected redis://HOST:PORT/DB, rediss://… or unix://…", field="--cache.url")
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
        cache_url=SecretStr(args.cache_url) if args.cache_url else None,
        cache_ttl_seconds=args.cache_ttl,
    )
    app = create_app(calendar.weddings, settings=settings)
    log.info("platform serving %d weddings from %s", len(calendar.weddings), calendar.source)
    if args.cache_url:
        log.info("platform caching guest lists and mobile summaries for %gs", args.cache_ttl)
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
