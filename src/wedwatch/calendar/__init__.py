"""Weddings, their phases and where the calendar comes from."""

from wedwatch.calendar.mapping import CalendarMapping
from wedwatch.calendar.model import EntryError, Wedding, parse_entry
from wedwatch.calendar.phases import (
    LIVE_PHASES,
    TRACKED_PHASES,
    Phase,
    WeddingStatus,
    is_live,
    phase_at,
    plan,
    probe_interval,
    tier_of,
)
from wedwatch.calendar.sources import (
    CalendarLoad,
    load_calendar,
    load_calendar_file,
    load_calendar_store,
    load_calendar_url,
    parse_calendar,
)

__all__ = [
    "CalendarLoad",
    "CalendarMapping",
    "EntryError",
    "LIVE_PHASES",
    "Phase",
    "TRACKED_PHASES",
    "Wedding",
    "WeddingStatus",
    "is_live",
    "load_calendar",
    "load_calendar_file",
    "load_calendar_store",
    "load_calendar_url",
    "parse_calendar",
    "parse_entry",
    "phase_at",
    "plan",
    "probe_interval",
    "tier_of",
]
