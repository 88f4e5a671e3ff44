"""Subcommands of `wedwatch`: one module each, registered here by name."""

from __future__ import annotations

import argparse
from typing import Protocol

from wedwatch.commands import (
    backtest,
    check,
    dashboards,
    demo,
    exporter,
    forecast,
    platform,
    probe,
    receiver,
    rules,
    store,
    weddings,
)

__all__ = ["COMMANDS", "Command"]


class Command(Protocol):
    """What a subcommand module provides."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


COMMANDS: dict[str, Command] = {
    "backtest": backtest,
    "check": check,
    "dashboards": dashboards,
    "demo": demo,
    "exporter": exporter,
    "forecast": forecast,
    "platform": platform,
    "probe": probe,
    "receiver": receiver,
    "rules": rules,
    "store": store,
    "weddings": weddings,
}
