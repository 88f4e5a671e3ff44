"""What the page and the API show, computed from rows at a given instant (no store, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wedwatch.calendar import parse_calendar, plan
from wedwatch.config.actions import ActionsConfig
from wedwatch.config.model import FeaturesConfig, ScheduleConfig
from wedwatch.receiver.oncall import automation, live_weddings

NOW = datetime(2027, 6, 12, 13, 30, tzinfo=UTC)  # w-ldn's ceremony window
CALENDAR = parse_calendar(
    [
        {"id": "w-ldn", "ceremony_at": "2027-06-12T14:00", "timezone": "Europe/London", "guests": 180},
        {"id": "w-nyc", "ceremony_at": "2027-06-13T16:00", "timezone": "America/New_York", "guests": 90},  # in 30.5 h
        {"id": "w-far", "ceremony_at": "2027-06-20T14:00", "timezone": "Europe/London", "guests": 60},
    ],
    source="test",
).weddings
STATUSES = plan(CALENDAR, NOW, ScheduleConfig(), FeaturesConfig())


def incident(wedding_id: str | None, alertname: str, severity: str, escalated: str | None) -> dict[str, Any]:
    return {"wedding_id": wedding_id, "alertname": alertname, "severity": severity, "escalated_severity": escalated,
            "strategy": "urgent", "operation": "guest_list", "starts_at": NOW}  # fmt: skip


def test_live_weddings_sorts_firing_incidents_by_wedding() -> None:
    firing = [incident("w-ldn", "Slow", "high", "critical"), incident(None, "PlatformDown", "medium", None),
              incident("w-nyc", "Errors", "low", None)]  # fmt: skip
    emergency = {"entered_at": NOW, "reason": "r"}
    data = live_weddings(NOW, STATUSES, firing, emergency)
    assert data["now"] == NOW and data["emergency"] is emergency
    (live,) = data["live"]
    assert (live["wedding_id"], live["phase"], live["guests"]) == ("w-ldn", "ceremony", 180)
    assert [(a["alertname"], a["severity"]) for a in live["firing"]] == [("Slow", "critical")]
    assert [(w["wedding_id"], [a["alertname"] for a in w["firing"]]) for w in data["next"]] == [("w-nyc", ["Errors"])]
    assert data["platform_alerts"] == [{"alertname": "PlatformDown", "severity": "medium", "strategy": "urgent"}]


def test_automation_runs_only_when_both_switches_are_on() -> None:
    on, off = ActionsConfig(), ActionsConfig(enabled=False, dry_run=True)
    assert automation(on, None) == {"enabled": True, "configured": True, "api": None, "dry_run": False}
    switched = {"enabled": False, "reason": "maintenance"}
    assert automation(on, switched)["enabled"] is False
    assert automation(off, {"enabled": True})["enabled"] is False
    assert automation(off, None) == {"enabled": False, "configured": False, "api": None, "dry_run": True}
