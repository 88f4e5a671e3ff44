"""The on-call API: alerts, responses, live weddings, forecasts, emergency mode, the kill switch."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wedwatch.calendar.phases import is_live
from wedwatch.errors import StoreUnavailable
from wedwatch.store import Store
from wedwatch.store.transaction import Row

if TYPE_CHECKING:
    from wedwatch.receiver.service import Receiver

__all__ = ["add_routes", "live_weddings", "UPCOMING_HOURS"]

UPCOMING_HOURS = 48


def _receiver(request: web.Request) -> Receiver:
    from wedwatch.receiver.app import RECEIVER_KEY

    return request.app[RECEIVER_KEY]


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
    try:
        return _receiver(request).require_store()
    except StoreUnavailable:
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"status": "error", "error": "the store is unavailable"}), content_type="application/json"
        ) from None


async def alerts(request: web.Request) -> web.Response:
    """GET /api/v1/alerts?status=firing|resolved&limit=N: incidents, newest first."""
    status = request.query.get("status")
    if status not in (None, "firing", "resolved"):
        return _respond({"status": "error", "error": "status must be firing or resolved"}, 400)
    rows = await _store(request).list_incidents(status=status, limit=_limit(request))
    return _respond({"status": "success", "data": rows})


async def responses(request: web.Request) -> web.Response:
    """GET /api/v1/responses: decisions with their actions and effectiveness."""
    store = _store(request)
    rows = await store.list_responses(limit=_limit(request, 50, 500))
    for row in rows:
        row["actions"] = [
            {k: a[k] for k in ("action", "status", "attempts", "started_at", "finished_at", "error", "result")}
            for a in await store.list_actions(row["incident_id"])
        ]
    return _respond({"status": "success", "data": rows})


async def live_weddings(receiver: Receiver, firing: list[Row]) -> dict[str, Any]:
    """Weddings live now and those whose ceremony is within the next 48 hours, with their firing alerts."""
    now = receiver.now()
    by_wedding: dict[str | None, list[Row]] = {}
    for incident in firing:
        by_wedding.setdefault(incident["wedding_id"], []).append(incident)

    def entry(status: Any) -> dict[str, Any]:
        w = status.wedding
        return {
            "wedding_id": w.id,
            "name": w.name,
            "venue": w.venue,
            "phase": status.phase.value,
            "ceremony_at": w.ceremony_utc,
            "timezone": w.timezone,
            "guests": w.guests,
            "firing": [
                {"alertname": i["alertname"], "severity": i["escalated_severity"] or i["severity"],
                 "strategy": i["strategy"], "operation": i["operation"], "starts_at": i["starts_at"]}
                for i in by_wedding.get(w.id, [])
            ],
        }  # fmt: skip

    statuses = receiver.statuses()
    live = [entry(s) for s in statuses if is_live(s.phase)]
    horizon = now + timedelta(hours=UPCOMING_HOURS)
    upcoming = [entry(s) for s in statuses if not is_live(s.phase) and now < s.wedding.ceremony_utc <= horizon]
    platform = [
        {"alertname": i["alertname"], "severity": i["escalated_severity"] or i["severity"], "strategy": i["strategy"]}
        for i in by_wedding.get(None, [])
    ]
    emergency = await receiver.require_store().active_emergency() if receiver.store else None
    return {"now": now, "live": live, "next": upcoming, "platform_alerts": platform, "emergency": emergency}


async def weddings_live(request: web.Request) -> web.Response:
    """GET /api/v1/weddings/live."""
    receiver = _receiver(request)
    store = _store(request)
    firing = await store.list_firing_incidents(receiver.now() - timedelta(hours=6))
    return _respond({"status": "success", "data": await live_weddings(receiver, firing)})


async def forecasts(request: web.Request) -> web.Response:
    """GET /api/v1/forecasts/latest: the newest prediction set of each series."""
    return _respond({"status": "success", "data": await _store(request).latest_prediction_sets()})


async def emergency(request: web.Request) -> web.Response:
    """GET /api/v1/emergency: emergency periods, newest first."""
    return _respond({"status": "success", "data": await _store(request).list_emergency_events(_limit(request, 20, 200))})


class _AutomationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reason: str | None = Field(default=None, max_length=500)
    by: str | None = Field(default=None, max_length=100)


async def automation_get(request: web.Request) -> web.Response:
    """GET /api/v1/automation: whether actions run, and why not."""
    receiver = _receiver(request)
    state = await _store(request).get_automation()
    configured = receiver.config.actions.enabled
    api_enabled = bool(state["enabled"]) if state else True
    return _respond(
        {
            "status": "success",
            "data": {
                "enabled": configured and api_enabled,
                "configured": configured,
                "api": state,
                "dry_run": receiver.config.actions.dry_run,
            },
        }
    )


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
    app.router.add_get("/api/v1/automation", automation_get)
    app.router.add_post("/api/v1/automation", automation_post)
