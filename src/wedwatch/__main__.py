"""`python -m wedwatch`."""

from wedwatch.cli import run

run()
