"""Vendor notifications: accepted now, `sent` and then `delivered` after configured delays."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from wedwatch.calendar import Wedding
from wedwatch.platform.faults import operation
from wedwatch.platform.http import ApiError, read_json
from wedwatch.platform.state import CLOCK, iso

__all__ = ["Notification", "Outbox", "OUTBOX", "routes"]


@dataclass(frozen=True, slots=True)
class Notification:
    """A notification to a wedding's vendor; its status is a function of its age."""

    id: str
    vendor: str
    message: str
    created_at: datetime


class Outbox:
    """Recent notifications per wedding; the oldest are forgotten past the cap, as a real outbox expires them."""

    def __init__(self, *, sent_seconds: float, delivery_seconds: float, max_per_wedding: int) -> None:
        self._sent = timedelta(seconds=sent_seconds)
        self._delivered = timedelta(seconds=delivery_seconds)
        self._max = max_per_wedding
        self._by_wedding: dict[str, OrderedDict[str, Notification]] = {}

    def send(self, wedding_id: str, vendor: str, message: str, now: datetime) -> Notification:
        """Queue a notification."""
        notification = Notification(id=secrets.token_hex(8), vendor=vendor, message=message, created_at=now)
        queue = self._by_wedding.setdefault(wedding_id, OrderedDict())
        queue[notification.id] = notification
        while len(queue) > self._max:
            queue.popitem(last=False)
        return notification

    def get(self, wedding_id: str, notification_id: str) -> Notification | None:
        """A notification of this wedding, if it is still remembered."""
        queue = self._by_wedding.get(wedding_id)
        return queue.get(notification_id) if queue is not None else None

    def describe(self, wedding_id: str, notification: Notification, now: datetime) -> dict[str, Any]:
        """The notification's JSON shape with its status at `now`."""
        sent_at = notification.created_at + self._sent
        delivered_at = notification.created_at + self._delivered
        status = "delivered" if now >= delivered_at else "sent" if now >= sent_at else "queued"
        return {
            "notification_id": notification.id,
            "wedding_id": wedding_id,
            "vendor": notification.vendor,
            "status": status,
            "created_at": iso(notification.created_at),
            "sent_at": iso(sent_at) if status != "queued" else None,
            "delivered_at": iso(delivered_at) if status == "delivered" else None,
        }


OUTBOX = web.AppKey("outbox", Outbox)


class _NotificationIn(BaseModel):
    # Lenient like any public API; an empty body sends the default test notification.
    model_config = ConfigDict(extra="ignore")

    vendor: str = Field(default="all", min_length=1, max_length=128)
    message: str = Field(default="test notification", max_length=4096)


routes = web.RouteTableDef()


@routes.post("/api/weddings/{wedding_id}/notifications")
@operation("vendor_notification")
async def send_notification(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """Queue a vendor notification (202 with its id)."""
    body = await read_json(request, _NotificationIn, optional=True)
    outbox = request.config_dict[OUTBOX]
    now = request.config_dict[CLOCK]()
    notification = outbox.send(wedding.id, body.vendor, body.message, now)
    return web.json_response(outbox.describe(wedding.id, notification, now), status=202)


@routes.get("/api/weddings/{wedding_id}/notifications/{notification_id}")
@operation("vendor_notification")
async def get_notification(request: web.Request, wedding: Wedding) -> web.StreamResponse:
    """A notification's delivery status: queued, sent or delivered."""
    outbox = request.config_dict[OUTBOX]
    notification_id = request.match_info["notification_id"]
    notification = outbox.get(wedding.id, notification_id)
    if notification is None:
        raise ApiError(404, f"wedding {wedding.id!r} has no notification {notification_id!r}", field="notification_id")
    return web.json_response(outbox.describe(wedding.id, notification, request.config_dict[CLOCK]()))
