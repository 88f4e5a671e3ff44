"""Flags and helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from wedwatch.calendar import CalendarLoad, load_calendar
from wedwatch.config import LoadedConfig, load_config
from wedwatch.errors import ConfigError

__all__ = ["add_config_flag", "config_from_args", "parse_instant", "read_calendar"]


def add_config_flag(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """Add --config.file, defaulting to $WEDWATCH_CONFIG."""
    parser.add_argument(
        "--config.file",
        dest="config_file",
        metavar="PATH",
        default=os.environ.get("WEDWATCH_CONFIG"),
        help="configuration file (env WEDWATCH_CONFIG)" + ("" if required else "; defaults apply without one"),
    )
    parser.set_defaults(config_required=required)


def config_from_args(args: argparse.Namespace) -> LoadedConfig:
    """Load the config named by --config.file, or the defaults when the command allows it."""
    if not args.config_file:
        if getattr(args, "config_required", True):
            raise ConfigError("no configuration file: pass --config.file or set WEDWATCH_CONFIG")
        from wedwatch.config import parse_config

        return parse_config("", source="<defaults>")
    return load_config(args.config_file)


def parse_instant(text: str | None) -> datetime:
    """An ISO 8601 instant (naive means UTC), or now when text is None."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not an ISO 8601 time: {text!r}", field="--at") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def read_calendar(loaded: LoadedConfig) -> CalendarLoad:
    """Load the configured calendar, opening the store only when the calendar lives there."""
    config = loaded.config
    oauth2 = config.platform.auth.oauth2
    if config.calendar.url and oauth2 is not None:
        import aiohttp

        from wedwatch.oauth2 import TokenSource

        async with aiohttp.ClientSession() as session:
            tokens = TokenSource(oauth2, session)
            try:
                return await load_calendar(config.calendar, session=session, authorization=tokens.authorization)
            finally:
                await tokens.aclose()
    if not config.calendar.store:
        return await load_calendar(config.calendar)
    from wedwatch.store import open_store

    store = await open_store(config.store.url, pool_max_size=2)
    try:
        return await load_calendar(config.calendar, store=store)
    finally:
        await store.close()
