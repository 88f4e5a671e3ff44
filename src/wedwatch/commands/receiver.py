"""`wedwatch receiver`: take Alertmanager webhooks, decide wedding-aware responses, run them."""

from __future__ import annotations

import argparse
import asyncio
import os

from wedwatch.commands._inputs import add_config_flag, config_from_args
from wedwatch.errors import ConfigError
from wedwatch.web import Served, add_web_config_flag, open_web_config, parse_listen_address, serve_all, tune_gc

HELP = "receive Alertmanager webhooks and respond to them, wedding-aware"
DEFAULT_ADDRESS = ":9840"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch receiver`."""
    add_config_flag(parser)
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=os.environ.get("WEDWATCH_RECEIVER_LISTEN_ADDRESS", DEFAULT_ADDRESS),
        metavar="HOST:PORT",
        help=f"address to serve on (default {DEFAULT_ADDRESS}; env WEDWATCH_RECEIVER_LISTEN_ADDRESS)",
    )
    add_web_config_flag(parser, "WEDWATCH_RECEIVER_WEB_CONFIG_FILE")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; in-flight requests finish and the outbox resumes at the next start."""
    from wedwatch.receiver.app import create_app, protect, ssl_context

    loaded = config_from_args(args)
    parse_listen_address(args.listen_address)
    web_config = open_web_config(args.web_config_file, "receiver")
    tls = loaded.config.receiver.tls
    context = web_config.listening_context() if web_config is not None else None
    if tls is not None and context is not None:
        raise ConfigError(
            f"{args.web_config_file} has a tls_server_config and the config has receiver.tls: keep one of the two",
            field="--web.config.file",
        )
    if tls is not None:
        try:
            context = ssl_context(tls.cert_file, tls.key_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load TLS files: {exc}", field="receiver.tls") from exc
    app = create_app(loaded)
    if web_config is not None:
        protect(app, web_config)

    async def started() -> None:
        tune_gc()

    asyncio.run(serve_all([Served(app, args.listen_address, "receiver", context)], on_started=started))
    return 0
