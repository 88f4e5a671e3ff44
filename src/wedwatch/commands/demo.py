"""`wedwatch demo`: the platform stand-in, exporter and receiver in one process on a generated calendar,
plus Prometheus and Alertmanager when they are installed (the wiring is `wedwatch.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from wedwatch.demo import DemoOptions, run_demo

HELP = "run platform, exporter and receiver (and Prometheus and Alertmanager if installed) on a generated calendar"
_DEFAULTS = DemoOptions()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `wedwatch demo`."""
    d = _DEFAULTS
    parser.add_argument(
        "--dir", type=Path, default=d.directory, help=f"where the demo's files go (default {d.directory})"
    )
    parser.add_argument("--platform.listen-address", dest="platform_address", default=d.platform_address)
    parser.add_argument("--exporter.listen-address", dest="exporter_address", default=d.exporter_address)
    parser.add_argument("--receiver.listen-address", dest="receiver_address", default=d.receiver_address)
    parser.add_argument("--prometheus.port", dest="prometheus_port", type=int, default=d.prometheus_port)
    parser.add_argument("--alertmanager.port", dest="alertmanager_port", type=int, default=d.alertmanager_port)
    parser.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus and Alertmanager")
    parser.add_argument(
        "--time-compression",
        type=int,
        default=d.time_compression,
        metavar="N",
        help=f"divide the rules' windows and `for:` by N so alerts fire within a minute (default {d.time_compression})",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    run_demo(
        DemoOptions(
            directory=args.dir,
            platform_address=args.platform_address,
            exporter_address=args.exporter_address,
            receiver_address=args.receiver_address,
            prometheus_port=args.prometheus_port,
            alertmanager_port=args.alertmanager_port,
            prometheus=not args.no_prometheus,
            time_compression=args.time_compression,
        )
    )
    return 0
