"""`wedwatch exporter`: probe the platform on a wedding-aware schedule and serve /metrics."""

from __future__ import annotations

import argparse
import asyncio
import os

from wedwatch.calendar.shard import parse_shard
from wedwatch.commands._inputs import add_config_flag, config_from_args
from wedwatch.web import add_web_config_flag, open_web_config, parse_listen_address, serve
from wedwatch.webconfig import install

HELP = "probe the wedding platform and serve Prometheus metrics"
DEFAULT_ADDRESS = ":9839"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch exporter`."""
    add_config_flag(parser)
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=os.environ.get("WEDWATCH_EXPORTER_LISTEN_ADDRESS", DEFAULT_ADDRESS),
        metavar="HOST:PORT",
        help=f"address to serve on (default {DEFAULT_ADDRESS}; env WEDWATCH_EXPORTER_LISTEN_ADDRESS)",
    )
    add_web_config_flag(parser, "WEDWATCH_EXPORTER_WEB_CONFIG_FILE")
    parser.add_argument("--no-record", action="store_true", help="do not write probe results to the store")
    parser.add_argument(
        "--web.enable-lifecycle",
        dest="enable_lifecycle",
        action="store_true",
        help="allow reloading the configuration with POST /-/reload (SIGHUP always reloads); off, it answers 403",
    )
    parser.add_argument(
        "--shard",
        default=os.environ.get("WEDWATCH_SHARD"),
        metavar="I/N",
        help="probe only the weddings of shard I of N (0-based; env WEDWATCH_SHARD); every wedding has exactly one shard",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; SIGHUP reloads the configuration."""
    from wedwatch.exporter.app import EXPORTER_KEY, create_app

    loaded = config_from_args(args)
    parse_listen_address(args.listen_address)
    shard = parse_shard(args.shard) if args.shard else None
    web_config = open_web_config(args.web_config_file, "exporter")
    app = create_app(loaded, record=not args.no_record, shard=shard, enable_lifecycle=args.enable_lifecycle)
    if web_config is not None:
        install(app, web_config)

    def reload() -> None:
        asyncio.get_running_loop().create_task(app[EXPORTER_KEY].reload())

    context = web_config.listening_context() if web_config is not None else None
    asyncio.run(serve(app, args.listen_address, name="exporter", on_reload=reload, ssl_context=context))
    return 0
