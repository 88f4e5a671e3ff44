"""The wedding timeline: markers written now become readable after a propagation delay."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from wedwatch.calendar import Wedding
from wedwatch.platform.faults import operation
from wedwatch.platform.http import query_int, read_json
from wedwatch.platform.state import CLOCK, iso

__all__ = ["Marker", "Timeline", "TIMELINE", "routes"]


@dataclass(frozen=True, slots=True)
class Marker:
    """One timeline entry."""

    marker: str
    written_at: datetime


class Timeline:
    """Recent markers per wedding; reads see only those older than the propagation delay."""

    def __init__(self, propagation_seconds: float, max_markers: int) -> None:
        self._propagation = timedelta(seconds=propagation_seconds)
        self._max_markers = max_markers
        self._markers: dict[str, deque[Marker]] = {}

    def write(self, wedding_id: str, marker: str, now: datetime) -> Marker:
        """Append a marker; the oldest falls off when the wedding holds too many."""
        entry = Marker(marker, now)
        self._markers.setdefault(wedding_id, deque(maxlen=self._max_markers)).append(entry)
        return entry

    def recent(self, wedding_id: str, now: datetime, limit: int) -> list[Marker]:
        """The newest `limit` markers visible at `now`, newest first."""
        horizon = now - self._propagation
        visible = (m for m in reversed(self._markers.get(wedding_id, ())) if m.written_at <= horizon)
        return list(islice(visible, limit))

    def is_visible(self, wedding_id: str, marker: str, now: datetime) -> bool:
        """Whether a read at `now` sees `marker` (an unknown marker is simply not visible yet)."""
        horizon = now - self._propagation
        return any(m.marker == marker and m.written_at <= horizon for m in self._markers.get(wedding_id, ()))


TIMELINE = web.AppKey("timeline", Timeline)


class _MarkerIn(BaseModel):
    # Lenient like any public API: clients may send fields this version does not know.
    model_config = ConfigDict(extra="ignore")

    marker: str = Field(min_length=1, max_length=256)


routes = web.RouteTableDef()


@routes.post("/api/weddings/{wedding_id}/timeline/markers")
@operation("timeline_sync")
async def write_marker(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """Accept a marker (202: it is not readable yet)."""
    body = await read_json(request, _MarkerIn)
    entry = request.config_dict[TIMELINE].write(wedding.id, body.marker, request.config_dict[CLOCK]())
    return web.json_response(
        {"wedding_id": wedding.id, "marker": entry.marker, "written_at": iso(entry.written_at)}, status=202
    )


@routes.get("/api/weddings/{wedding_id}/timeline")
@operation("timeline_sync")
async def read_timeline(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """`?marker=X`: whether X is visible yet; otherwise the recent visible markers."""
    timeline = request.config_dict[TIMELINE]
    now = request.config_dict[CLOCK]()
    marker = request.query.get("marker")
    if marker is not None:
        visible = timeline.is_visible(wedding.id, marker, now)
        return web.json_response({"wedding_id": wedding.id, "marker": marker, "visible": visible})
    limit = query_int(request, "limit", 50, low=1, high=500)
    markers = [{"marker": m.marker, "written_at": iso(m.written_at)} for m in timeline.recent(wedding.id, now, limit)]
    return web.json_response({"wedding_id": wedding.id, "markers": markers})
