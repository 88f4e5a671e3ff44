"""The tables the supabase dialect serves, each a view of the stand-in's shared state.

Nothing here keeps its own copy of a wedding's data: guests come from `fake_guests`, timeline
events from the shared `Timeline`, notifications from the shared `Outbox`, live status from
`live_status`. The only state of its own is the serial ids PostgREST would show for rows that
the shared state keeps without one.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from wedwatch.calendar import Wedding
from wedwatch.platform.faults import FAULTS
from wedwatch.platform.guests import fake_guests
from wedwatch.platform.settings import PlatformSettings
from wedwatch.platform.state import CLOCK, SETTINGS, WEDDINGS, iso
from wedwatch.platform.status import live_status
from wedwatch.platform.supabase.postgrest import Query, Row, Schema
from wedwatch.platform.supabase.realtime import REALTIME
from wedwatch.platform.timeline import TIMELINE, Marker
from wedwatch.platform.vendors import OUTBOX, Notification

__all__ = ["Column", "Table", "TABLES", "TIMELINE_EVENTS", "RowIds", "ROW_IDS"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column an insert may set: text, NOT NULL unless it has a default."""

    max_length: int
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A table: its columns, the operation whose faults apply to it, how to read and insert rows."""

    schema: Schema
    # The rows a query may select (narrowed by its `eq` filters when that is cheap; the query filters again).
    rows: Callable[[web.Request, Query], Iterable[Row]]
    operation: str | None = None
    # Simulated cost of the rows a read returns, as the built-in handler sleeps it.
    cost_seconds: Callable[[PlatformSettings, int], float] | None = None
    writable: Mapping[str, Column] = field(default_factory=dict)
    insert: Callable[[web.Request, Wedding, Mapping[str, str]], Row] | None = None


class RowIds:
    """Serial ids of timeline markers and notifications, forgotten as the shared state forgets them."""

    def __init__(self, *, max_markers: int, max_notifications: int) -> None:
        self._max_markers = max_markers
        self._max_notifications = max_notifications
        # Keyed by the marker object itself (by identity): two markers may be equal, their rows are not.
        self._markers: dict[str, OrderedDict[int, tuple[Marker, int]]] = {}
        self._notifications: OrderedDict[int, tuple[str, Notification]] = OrderedDict()
        self._serial = 0

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def add_marker(self, wedding_id: str, marker: Marker) -> int:
        """Give a freshly written marker its id; the oldest id goes when the timeline drops its marker."""
        ids = self._markers.setdefault(wedding_id, OrderedDict())
        ids[id(marker)] = (marker, serial := self._next())
        while len(ids) > self._max_markers:
            ids.popitem(last=False)
        return serial

    def marker_id(self, wedding_id: str, marker: Marker) -> int | None:
        """The id of a marker the timeline still holds."""
        ids = self._markers.get(wedding_id)
        entry = None if ids is None else ids.get(id(marker))
        return entry[1] if entry is not None and entry[0] is marker else None

    def add_notification(self, wedding_id: str, notification: Notification) -> int:
        """Give a freshly queued notification its id."""
        self._notifications[serial := self._next()] = (wedding_id, notification)
        while len(self._notifications) > self._max_notifications:
            self._notifications.popitem(last=False)
        return serial

    def notifications(self, serial: int | None = None) -> list[tuple[int, str, Notification]]:
        """Every remembered notification, or the one with id `serial`."""
        if serial is not None:
            entry = self._notifications.get(serial)
            return [] if entry is None else [(serial, *entry)]
        return [(serial, *entry) for serial, entry in self._notifications.items()]


ROW_IDS = web.AppKey("supabase_row_ids", RowIds)


def _weddings(request: web.Request, wedding_id: str | None) -> list[Wedding]:
    weddings = request.config_dict[WEDDINGS]
    if wedding_id is None:
        return list(weddings.values())
    wedding = weddings.get(wedding_id)
    return [] if wedding is None else [wedding]


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return -1  # a number, but no serial: selects nothing


# --- weddings: the calendar -------------------------------------------------------------------


def _wedding_rows(request: web.Request, query: Query) -> Iterable[Row]:
    for w in _weddings(request, query.eq("id")):
        yield {
            "id": w.id,
            "name": w.name,
            "venue": w.venue,
            "ceremony_at": w.ceremony_utc.isoformat(),  # an instant with its offset, as timestamptz is sent
            "timezone": w.timezone,
            "guests": w.guests,
            "vendors": w.vendors,
        }


# --- guests: the guest list -------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _guests(wedding: Wedding, seed: int) -> tuple[Row, ...]:
    return tuple({"wedding_id": wedding.id, **guest} for guest in fake_guests(wedding, seed))


def _guest_rows(request: web.Request, query: Query) -> Iterable[Row]:
    seed = request.config_dict[SETTINGS].seed
    for wedding in _weddings(request, query.eq("wedding_id")):
        yield from _guests(wedding, seed)


def _guest_cost(settings: PlatformSettings, rows: int) -> float:
    return settings.guest_list_base_seconds + settings.guest_list_per_guest_seconds * rows


# --- timeline_events: the timeline, readable after the propagation delay -----------------------


def _timeline_rows(request: web.Request, query: Query) -> Iterable[Row]:
    timeline, ids = request.config_dict[TIMELINE], request.config_dict[ROW_IDS]
    now, limit = request.config_dict[CLOCK](), request.config_dict[SETTINGS].timeline_max_markers
    for wedding in _weddings(request, query.eq("wedding_id")):
        for marker in reversed(timeline.recent(wedding.id, now, limit)):  # oldest first, as rows are stored
            serial = ids.marker_id(wedding.id, marker)
            if serial is not None:  # markers of the other dialect have no row
                yield _timeline_row(serial, wedding.id, marker)


def _timeline_row(serial: int, wedding_id: str, marker: Marker) -> Row:
    return {"id": serial, "wedding_id": wedding_id, "marker": marker.marker, "created_at": iso(marker.written_at)}


def _insert_timeline_event(request: web.Request, wedding: Wedding, values: Mapping[str, str]) -> Row:
    app = request.config_dict
    entry = app[TIMELINE].write(wedding.id, values["marker"], app[CLOCK]())
    row = _timeline_row(app[ROW_IDS].add_marker(wedding.id, entry), wedding.id, entry)
    # The change reaches subscribers after the propagation delay, plus the latency of any
    # timeline_sync fault: a slow replica delays the stream as much as it delays reads.
    latency = sum(f.spec.latency_seconds for f in app[FAULTS].matching("timeline_sync", wedding.id))
    delay = app[SETTINGS].timeline_propagation_seconds + latency
    app[REALTIME].publish(TIMELINE_EVENTS.schema.name, row, commit_timestamp=row["created_at"], delay_seconds=delay)
    return row


# --- notifications: vendor notifications and their delivery status ----------------------------


def _notification_rows(request: web.Request, query: Query) -> Iterable[Row]:
    app = request.config_dict
    outbox, now = app[OUTBOX], app[CLOCK]()
    for serial, wedding_id, notification in app[ROW_IDS].notifications(_int(query.eq("id"))):
        if outbox.get(wedding_id, notification.id) is not None:  # the outbox forgets the oldest
            yield _notification_row(request, serial, wedding_id, notification, now=now)


def _notification_row(
    request: web.Request, serial: int, wedding_id: str, notification: Notification, *, now: datetime
) -> Row:
    described = request.config_dict[OUTBOX].describe(wedding_id, notification, now)
    return {
        "id": serial,
        "wedding_id": wedding_id,
        "vendor": notification.vendor,
        "message": notification.message,
        "status": described["status"],
        "created_at": described["created_at"],
        "sent_at": described["sent_at"],
        "delivered_at": described["delivered_at"],
    }


def _insert_notification(request: web.Request, wedding: Wedding, values: Mapping[str, str]) -> Row:
    app = request.config_dict
    now = app[CLOCK]()
    notification = app[OUTBOX].send(wedding.id, values["vendor"], values["message"], now)
    serial = app[ROW_IDS].add_notification(wedding.id, notification)
    return _notification_row(request, serial, wedding.id, notification, now=now)


# --- wedding_status: a view of each wedding's critical path ------------------------------------


def _status_rows(request: web.Request, query: Query) -> Iterable[Row]:
    app = request.config_dict
    now, seed = app[CLOCK](), app[SETTINGS].seed
    for wedding in _weddings(request, query.eq("wedding_id")):
        # The same injected trouble as the built-in status endpoint reports.
        faults = app[FAULTS].matching("critical_path", wedding.id)
        status = live_status(
            wedding,
            now,
            seed=seed,
            extra_delay_seconds=sum(f.spec.milestone_delay_seconds for f in faults),
            incidents_opened_at=[f.created_at for f in faults for _ in range(f.spec.open_incidents)],
        )
        milestone = status.next_milestone
        yield {
            "wedding_id": status.wedding_id,
            "phase": status.phase,
            "at": iso(status.at),
            "guests_checked_in": status.guests_checked_in,
            "guests_expected": status.guests_expected,
            "next_milestone": None if milestone is None else milestone.name,
            "next_milestone_at": None if milestone is None else iso(milestone.scheduled_at),
            "timeline_delay_seconds": None if milestone is None else milestone.delay_seconds,
            "vendors_confirmed": status.vendors_confirmed,
            "vendors_booked": status.vendors_booked,
            "open_incidents": status.open_incidents,
            "incident_response_seconds": status.incident_response_seconds,
        }


def _schema(name: str, columns: str) -> Schema:
    # Columns in order, numeric ones marked `#`, as the package docstring lists them.
    names = columns.split()
    return Schema(name, tuple(c.rstrip("#") for c in names), frozenset(c.rstrip("#") for c in names if c[-1] == "#"))


_WEDDING_ID = Column(max_length=128)

TIMELINE_EVENTS = Table(
    _schema("timeline_events", "id# wedding_id marker created_at"),
    _timeline_rows,
    operation="timeline_sync",
    writable={"wedding_id": _WEDDING_ID, "marker": Column(max_length=256)},
    insert=_insert_timeline_event,
)

TABLES: Mapping[str, Table] = {
    table.schema.name: table
    for table in (
        Table(_schema("weddings", "id name venue ceremony_at timezone guests# vendors#"), _wedding_rows),
        Table(
            _schema("guests", "id wedding_id name email rsvp table# dietary"),
            _guest_rows,
            operation="guest_list",
            cost_seconds=_guest_cost,
        ),
        TIMELINE_EVENTS,
        Table(
            _schema("notifications", "id# wedding_id vendor message status created_at sent_at delivered_at"),
            _notification_rows,
            operation="vendor_notification",
            writable={
                "wedding_id": _WEDDING_ID,
                "vendor": Column(max_length=128, default="all"),
                "message": Column(max_length=4096, default="test notification"),
            },
            insert=_insert_notification,
        ),
        Table(
            _schema(
                "wedding_status",
                "wedding_id phase at guests_checked_in# guests_expected# next_milestone next_milestone_at"
                " timeline_delay_seconds# vendors_confirmed# vendors_booked# open_incidents#"
                " incident_response_seconds#",
            ),
            _status_rows,
            operation="critical_path",
        ),
    )
}
