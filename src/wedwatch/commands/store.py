"""`wedwatch store prune | stats`: one retention pass by hand, and the size of every table (docs/store.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from datetime import datetime

from wedwatch.commands._inputs import add_config_flag, config_from_args, parse_instant
from wedwatch.config import LoadedConfig
from wedwatch.store import open_store_ctx
from wedwatch.store.pruning import PruneReport, prune
from wedwatch.store.retention import KINDS
from wedwatch.store.stats import TableStats
from wedwatch.urls import redact_url

HELP = "prune old rows by the retention config, or print rows and bytes per table"

_EXIT_USAGE = 2  # cli.EXIT_USAGE (cli imports this package)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of `wedwatch store`, each with its own flags."""
    commands = parser.add_subparsers(dest="store_command", metavar="SUBCOMMAND", parser_class=type(parser))
    pruning = commands.add_parser(
        "prune",
        help="run one retention pass now (the receiver runs one every store.retention.interval_seconds)",
        description="Remove what store.retention allows, in small batches; skipped when another process is pruning.",
    )
    add_config_flag(pruning)
    pruning.add_argument(
        "--at", metavar="TIME", help="prune as if it were this ISO 8601 instant (default now; without an offset, UTC)"
    )
    pruning.add_argument("--dry-run", action="store_true", help="count what would be removed, remove nothing")
    pruning.add_argument("--json", action="store_true", help="print the report as JSON")
    stats = commands.add_parser("stats", help="print rows and bytes per table", description="Rows and bytes per table.")
    add_config_flag(stats)
    stats.add_argument("--json", action="store_true", help='print {"tables": {name: {"rows": n, "bytes": n}}}')
    for sub in (pruning, stats):
        # Accepted here too, as everywhere else (wedwatch.cli adds it to each command).
        sub.add_argument(
            "--log.level", dest="log_level", choices=["debug", "info", "warn", "error"], default=argparse.SUPPRESS
        )


def run(args: argparse.Namespace) -> int:
    """Dispatch to `prune` or `stats`."""
    if args.store_command == "prune":
        return _prune(args)
    if args.store_command == "stats":
        return _stats(args)
    print("wedwatch store: a subcommand is required: prune or stats", file=sys.stderr)
    return _EXIT_USAGE


def _prune(args: argparse.Namespace) -> int:
    loaded = config_from_args(args)
    at = parse_instant(args.at)
    report = asyncio.run(_prune_once(loaded, at, dry_run=args.dry_run))
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_report(loaded, report)
    if report.skipped:
        print(f"wedwatch store prune: skipped: {report.holder or 'another process'} is pruning", file=sys.stderr)
    if report.lease_lost:
        print("wedwatch store prune: stopped: another process took the prune lease over", file=sys.stderr)
        return 1
    return 0


async def _prune_once(loaded: LoadedConfig, at: datetime, *, dry_run: bool) -> PruneReport:
    store_config = loaded.config.store
    retention = store_config.retention
    async with open_store_ctx(store_config.url, pool_max_size=2, timeout=store_config.timeout_seconds) as store:
        return await prune(
            store,
            retention.windows(),
            holder=f"wedwatch store prune {socket.gethostname()}:{os.getpid()}",
            at=at,
            batch_size=retention.batch_size,
            pause_seconds=retention.pause_seconds,
            dry_run=dry_run,
        )


def _print_report(loaded: LoadedConfig, report: PruneReport) -> None:
    data = report.to_dict()
    mode = "dry run: counting, nothing removed" if report.dry_run else "removed"
    print(f"store: {redact_url(loaded.config.store.url)} at {data['at']} ({mode})")
    if report.skipped:
        return
    table = [["kind", "kept", "cutoff", "rows"]]
    for kind in KINDS:
        entry = data["kinds"][kind.name]
        days = entry["retention_days"]
        kept = "forever" if days is None else f"{days:g}d"
        table.append([kind.name, kept, entry["cutoff"] or "-", str(entry["rows"])])
    _print_table(table, numeric={3})
    print()
    _print_table([["table", "rows"]] + [[name, str(n["rows"])] for name, n in data["tables"].items()], numeric={1})
    if report.dry_run:
        print(f"total: {report.rows} rows would be removed")
        return
    tail = f"; {report.reclaimed_pages} free pages handed back to the file system" if report.reclaimed_pages else ""
    print(f"total: {report.rows} rows in {report.batches} batches, {report.seconds:.1f} s{tail}")


def _stats(args: argparse.Namespace) -> int:
    loaded = config_from_args(args)
    stats, total = asyncio.run(_read_stats(loaded))
    if args.json:
        document = {"tables": {name: {"rows": s.rows, "bytes": s.bytes} for name, s in stats.items()}}
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        rows = [["table", "rows", "bytes", "size"]]
        for name, s in stats.items():
            rows.append([name, str(s.rows), "-" if s.bytes is None else str(s.bytes), _size(s.bytes)])
        _print_table(rows, numeric={1, 2, 3})
        print(f"database: {redact_url(loaded.config.store.url)}, {_size(total)} on disk")
    if any(s.bytes is None for s in stats.values()):
        print(
            "wedwatch store stats: this SQLite has no dbstat table: bytes per table unknown (null);"
            f" the whole file is {total} bytes",
            file=sys.stderr,
        )
    return 0


async def _read_stats(loaded: LoadedConfig) -> tuple[dict[str, TableStats], int]:
    store_config = loaded.config.store
    async with open_store_ctx(store_config.url, pool_max_size=2, timeout=store_config.timeout_seconds) as store:
        return await store.table_stats(), await store.database_bytes()


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    value, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _print_table(rows: list[list[str]], *, numeric: set[int]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        print("  ".join(cells).rstrip())
