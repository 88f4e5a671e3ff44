"""What the on-call page and the API both show: the rows are read first, then the documents computed.

The live-weddings document (weddings live now and those whose ceremony is within 48 hours, each
with its firing alerts; platform-wide alerts; emergency mode), whether automation runs, and the
recent responses with their actions. `live_weddings` and `automation` are pure; the `read_*`
functions gather their rows from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from wedwatch.calendar.phases import WeddingStatus, is_live
from wedwatch.config.actions import ActionsConfig
from wedwatch.receiver.gate import switched_off
from wedwatch.store import Store
from wedwatch.store.transaction import Row

__all__ = [
    "FIRING_WINDOW",
    "UPCOMING_HOURS",
    "automation",
    "live_weddings",
    "read_automation",
    "read_live",
    "read_responses",
]

UPCOMING_HOURS = 48
# Alertmanager re-sends a firing alert at every repeat interval: an incident not re-sent for six
# hours is stale, no longer firing (for the page, the API and leaving emergency mode alike).
FIRING_WINDOW = timedelta(hours=6)
_ACTION_FIELDS = ("action", "status", "attempts", "started_at", "finished_at", "error", "result")


def _wedding(status: WeddingStatus, firing: Sequence[Row]) -> dict[str, Any]:
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
            for i in firing
        ],
    }  # fmt: skip


def live_weddings(
    now: datetime, statuses: Sequence[WeddingStatus], firing: Sequence[Row], emergency: Row | None
) -> dict[str, Any]:
    """Weddings live now and those whose ceremony is within the next 48 hours, with their firing incidents."""
    by_wedding: dict[str | None, list[Row]] = {}
    for incident in firing:
        by_wedding.setdefault(incident["wedding_id"], []).append(incident)
    horizon = now + timedelta(hours=UPCOMING_HOURS)
    live = [_wedding(s, by_wedding.get(s.wedding.id, [])) for s in statuses if is_live(s.phase)]
    upcoming = [
        _wedding(s, by_wedding.get(s.wedding.id, []))
        for s in statuses
        if not is_live(s.phase) and now < s.wedding.ceremony_utc <= horizon
    ]
    platform = [
        {"alertname": i["alertname"], "severity": i["escalated_severity"] or i["severity"], "strategy": i["strategy"]}
        for i in by_wedding.get(None, [])
    ]
    return {"now": now, "live": live, "next": upcoming, "platform_alerts": platform, "emergency": emergency}


def automation(actions: ActionsConfig, state: Row | None) -> dict[str, Any]:
    """Whether actions run (the configuration's and the API's kill switches), and the API's last word."""
    return {
        "enabled": switched_off(actions, state) is None,
        "configured": actions.enabled,
        "api": state,
        "dry_run": actions.dry_run,
    }


async def read_live(store: Store, now: datetime, statuses: Sequence[WeddingStatus]) -> dict[str, Any]:
    """The live-weddings document: the incidents firing within FIRING_WINDOW and emergency mode, read now."""
    firing = await store.list_firing_incidents(now - FIRING_WINDOW)
    return live_weddings(now, statuses, firing, await store.active_emergency())


async def read_responses(store: Store, limit: int) -> list[Row]:
    """The newest responses, each with its actions (`actions`: their status, attempts, times, error, result)."""
    rows = await store.list_responses(limit=limit)
    for row in rows:
        row["actions"] = [{k: a[k] for k in _ACTION_FIELDS} for a in await store.list_actions(row["incident_id"])]
    return rows


async def read_automation(store: Store, actions: ActionsConfig) -> dict[str, Any]:
    """`automation` over the kill switch's stored state."""
    return automation(actions, await store.get_automation())
