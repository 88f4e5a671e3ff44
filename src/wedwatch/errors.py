"""The exceptions wedwatch raises; each also inherits the nearest builtin."""

from __future__ import annotations

__all__ = [
    "WedwatchError",
    "ConfigError",
    "CalendarError",
    "StoreError",
    "StoreUnavailable",
]


class WedwatchError(Exception):
    """Base class of every error wedwatch raises on purpose."""


class ConfigError(WedwatchError, ValueError):
    """A configuration file (or override) is unusable; the message names file, field and reason."""

    def __init__(self, reason: str, *, source: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.source = source
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        return ": ".join([*parts, self.reason])


class CalendarError(WedwatchError, ValueError):
    """A calendar source as a whole cannot be read (single bad entries are reported, not raised)."""


class StoreError(WedwatchError, RuntimeError):
    """The store refused an operation."""


class StoreUnavailable(StoreError, ConnectionError):
    """The store cannot be reached right now; callers answer 503 and retry later."""
