"""The on-call API: alerts, responses, live weddings, forecasts, emergency mode, the kill switch."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wedwatch.receiver.capacity_target import read_capacity_target
from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.receiver.oncall import read_automation, read_live, read_responses
from wedwatch.store import Store

__all__ = ["add_routes"]


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _respond(document: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(document, default=_json_default), status=status, content_type="application/json"
    )


def _limit(request: web.Request, default: int = 100, most: int = 1000) -> int:
    text = request.query.get("limit", str(default))
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise web.HTTPBadRequest(text=json.dumps({"status": "error", "error": f"limit must be 1..{most}"}),
                                 content_type="application/json")  # fmt: skip
    return int(text)


def _store(request: web.Request) -> Store:
    # StoreUnavailable (not opened yet, or lost mid-request) is the app middleware's 503.
    return request.app[RECEIVER_KEY].require_store()


async def alerts(request: web.Request) -> web.Response:
    """GET /api/v1/alerts?status=firing|resolved&limit=N: incidents, newest first."""
    status = request.query.get("status")
    if status not in (None, "firing", "resolved"):
        return _respond({"status": "error", "error": "status must be firing or resolved"}, 400)
    rows = await _store(request).list_incidents(status=status, limit=_limit(request))
    return _respond({"status": "success", "data": rows})


async def responses(request: web.Request) -> web.Response:
    """GET /api/v1/responses: decisions with their actions and effectiveness."""
    rows = await read_responses(_store(request), _limit(request, 50, 500))
    return _respond({"status": "success", "data": rows})


async def weddings_live(request: web.Request) -> web.Response:
    """GET /api/v1/weddings/live."""
    receiver = request.app[RECEIVER_KEY]
    data = await read_live(_store(request), receiver.now(), receiver.statuses())
    return _respond({"status": "success", "data": data})


async def forecasts(request: web.Request) -> web.Response:
    """GET /api/v1/forecasts/latest: the newest prediction set of each series."""
    return _respond({"status": "success", "data": await _store(request).latest_prediction_sets()})


async def emergency(request: web.Request) -> web.Response:
    """GET /api/v1/emergency: emergency periods, newest first."""
    return _respond({"status": "success", "data": await _store(request).list_emergency_events(_limit(request, 20, 200))})


async def capacity(request: web.Request) -> web.Response:
    """GET /api/v1/capacity: each resource's target, winning reason and bounds (KEDA's metrics-api)."""
    receiver = request.app[RECEIVER_KEY]
    targets = await read_capacity_target(_store(request), receiver.config, receiver.calendar.weddings.values(), receiver.now())
    return _respond({"status": "success", "data": targets.to_dict()})


class _AutomationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reason: str | None = Field(default=None, max_length=500)
    by: str | None = Field(default=None, max_length=100)


async def automation_get(request: web.Request) -> web.Response:
    """GET /api/v1/automation: whether actions run, and why not."""
    data = await read_automation(_store(request), request.app[RECEIVER_KEY].config.actions)
    return _respond({"status": "success", "data": data})


async def automation_post(request: web.Request) -> web.Response:
    """POST /api/v1/automation {"enabled": bool, "reason"?, "by"?}: the kill switch (authenticated)."""
    try:
        body = _AutomationRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return _respond({"status": "error", "error": f"{where}: {first['msg']}"}, 400)
    state = await _store(request).set_automation(enabled=body.enabled, reason=body.reason, updated_by=body.by)
    return _respond({"status": "success", "data": state})


def add_routes(app: web.Application) -> None:
    """Mount the API on the receiver app."""
    app.router.add_get("/api/v1/alerts", alerts)
    app.router.add_get("/api/v1/responses", responses)
    app.router.add_get("/api/v1/weddings/live", weddings_live)
    app.router.add_get("/api/v1/forecasts/latest", forecasts)
    app.router.add_get("/api/v1/emergency", emergency)
    app.router.add_get("/api/v1/capacity", capacity)
    app.router.add_get("/api/v1/automation", automation_get)
    app.router.add_post("/api/v1/automation", automation_post)
