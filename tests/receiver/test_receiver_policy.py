"""The decision at instants before, during and after a wedding's day, with and without wedding_id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wedwatch.calendar import parse_calendar, plan
from wedwatch.config.actions import ActionsConfig
from wedwatch.config.model import FeaturesConfig, ScheduleConfig
from wedwatch.receiver.policy import decide, escalate, strategy_for

# Saturday 2027-06-12, 14:00 in London (13:00Z): its day runs 2027-06-11T23:00Z .. 2027-06-12T23:00Z.
CALENDAR = parse_calendar(
    [
        {"id": "w-ldn", "ceremony_at": "2027-06-12T14:00", "timezone": "Europe/London", "guests": 180, "vendors": 12},
        {"id": "w-akl", "ceremony_at": "2027-09-04T16:00", "timezone": "Pacific/Auckland", "guests": 120},
    ],
    source="test",
).weddings
ACTIONS = ActionsConfig()


def statuses_at(instant: str) -> list:  # type: ignore[type-arg]
    now = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    return plan(CALENDAR, now, ScheduleConfig(), FeaturesConfig())


@pytest.mark.parametrize(
    ("instant", "severity", "escalated", "strategy", "live"),
    [
        # Two days before: the eve has not begun; nothing is live.
        ("2027-06-10T12:00:00", "critical", "critical", "urgent", False),
        ("2027-06-10T12:00:00", "high", "high", "urgent", False),
        ("2027-06-10T12:00:00", "medium", "medium", "standard", False),
        ("2027-06-10T12:00:00", "low", "low", "log", False),
        # The eve (local 2027-06-11): still not live.
        ("2027-06-11T20:00:00", "medium", "medium", "standard", False),
        # The morning of the day (wedding_day phase): live, one level up.
        ("2027-06-12T08:00:00", "low", "medium", "standard", True),
        ("2027-06-12T08:00:00", "medium", "high", "urgent", True),
        ("2027-06-12T08:00:00", "high", "critical", "emergency", True),
        ("2027-06-12T08:00:00", "critical", "critical", "emergency", True),
        # During the ceremony window.
        ("2027-06-12T13:30:00", "high", "critical", "emergency", True),
        # The day after: `after` phase, not live.
        ("2027-06-13T09:00:00", "high", "high", "urgent", False),
        ("2027-06-13T09:00:00", "critical", "critical", "urgent", False),
    ],
)
def test_alert_about_one_wedding(instant: str, severity: str, escalated: str, strategy: str, live: bool) -> None:
    labels = {"alertname": "WedwatchWeddingSlow", "severity": severity, "wedding_id": "w-ldn", "operation": "guest_list"}
    d = decide(labels, statuses_at(instant), ACTIONS)
    assert (d.escalated_severity, d.strategy, d.live, d.wedding_id) == (escalated, strategy, live, "w-ldn")
    assert d.actions == tuple(ACTIONS.strategies[strategy])  # type: ignore[index]
    assert d.guests == 180


@pytest.mark.parametrize(
    ("instant", "live"),
    [("2027-06-10T12:00:00", False), ("2027-06-12T13:30:00", True), ("2027-09-03T18:00:00", True), ("2027-06-14T12:00:00", False)],
)
def test_platform_wide_alert_uses_any_wedding_live(instant: str, live: bool) -> None:
    # 2027-09-03T18:00Z is already the 4th in Auckland: w-akl is on its day.
    labels = {"alertname": "WedwatchOperationErrors", "severity": "high", "operation": "mobile"}
    d = decide(labels, statuses_at(instant), ACTIONS)
    assert d.live is live
    assert d.strategy == ("emergency" if live else "urgent")
    assert d.wedding_id is None


def test_alert_for_one_wedding_ignores_another_live_wedding() -> None:
    # w-akl is live, but the alert names w-ldn, months away.
    labels = {"alertname": "X", "severity": "high", "wedding_id": "w-ldn"}
    d = decide(labels, statuses_at("2027-09-03T18:00:00"), ACTIONS)
    assert (d.live, d.strategy) == (False, "urgent")


def test_unknown_wedding_and_unknown_severity() -> None:
    d = decide({"alertname": "X", "severity": "page-me", "wedding_id": "w-nope"}, statuses_at("2027-06-12T13:30:00"), ACTIONS)
    assert (d.severity, d.escalated_severity, d.strategy, d.live) == ("low", "low", "log", False)
    assert any("not in the calendar" in r for r in d.reasons)


def test_flapping_notifies_instead_of_acting() -> None:
    actions = ActionsConfig.model_validate(
        {"definitions": {"log": {"type": "log"}, "page": {"type": "notify", "url": "http://127.0.0.1:9/p"}}}
    )
    d = decide({"alertname": "X", "severity": "critical", "wedding_id": "w-ldn"}, statuses_at("2027-06-12T13:30:00"),
               actions, flapping=True)  # fmt: skip
    assert d.strategy == "emergency" and d.actions == ("page",)


@pytest.mark.parametrize(("severity", "live", "up"), [("low", True, "medium"), ("critical", True, "critical"), ("high", False, "high")])
def test_escalate(severity: str, live: bool, up: str) -> None:
    assert escalate(severity, live) == up


def test_strategy_table_is_the_seeds() -> None:
    assert [strategy_for(s, True) for s in ("critical", "high", "medium", "low")] == ["emergency", "urgent", "standard", "log"]
    assert [strategy_for(s, False) for s in ("critical", "high", "medium", "low")] == ["urgent", "urgent", "standard", "log"]
