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


# System and resource alerts (issue 17): platform-wide, with `resource` and `signal` labels.
QUIET, LIVE = "2027-06-10T12:00:00", "2027-06-12T13:30:00"  # nothing live; w-ldn (180 guests) in its ceremony
# A pager defined: `notify` in a resource response names it; urgent keeps it, standard has none.
PAGED = ActionsConfig.model_validate(
    {
        "definitions": {"log": {"type": "log"}, "page": {"type": "notify", "url": "http://127.0.0.1:9/p"}},
        "strategies": {"emergency": ["scale", "cache_warm", "page", "log"], "urgent": ["scale", "page", "log"],
                       "standard": ["cache_warm", "log"], "log": ["log"]},
    }
)  # fmt: skip
EMERGENCY, EMERGENCY_PAGED = ("scale", "cache_warm", "log"), ("scale", "cache_warm", "page", "log")
DB, CACHE, INSTANCES = ("db_connections",), ("cache_mb",), ("instances",)


@pytest.mark.parametrize(
    ("resource", "signal", "severity", "instant", "paged", "strategy", "actions", "capacity"),
    [
        # Database connections: scale db_connections only, whatever the non-log strategy.
        ("database", "saturation", "medium", QUIET, False, "standard", ("scale", "log"), DB),
        ("database", "saturation", "medium", LIVE, False, "standard", ("scale", "log"), DB),  # not raised while live
        ("database", "saturation", "high", QUIET, False, "urgent", ("scale", "log"), DB),
        ("database", "saturation", "high", LIVE, False, "urgent", ("scale", "log"), DB),
        ("database", "saturation", "high", LIVE, True, "urgent", ("scale", "page", "log"), DB),  # urgent's pager kept
        ("database", "saturation", "critical", QUIET, False, "urgent", ("scale", "log"), DB),
        ("database", "saturation", "critical", LIVE, False, "emergency", EMERGENCY, ()),  # all to the upper bounds
        ("database", "saturation", "low", LIVE, False, "log", ("log",), ()),
        # A dependency down: notify (log when no notify action is defined); critical while live is an emergency.
        ("database", "down", "critical", QUIET, False, "urgent", ("log",), ()),
        ("database", "down", "critical", QUIET, True, "urgent", ("page", "log"), ()),
        ("database", "down", "critical", LIVE, True, "emergency", EMERGENCY_PAGED, ()),
        ("cache", "down", "critical", QUIET, True, "urgent", ("page", "log"), ()),
        ("cache", "down", "critical", LIVE, False, "emergency", EMERGENCY, ()),
        # Cache memory, evictions, hit ratio: scale cache_mb and warm.
        ("cache", "saturation", "medium", QUIET, False, "standard", ("scale", "cache_warm", "log"), CACHE),
        ("cache", "saturation", "high", LIVE, True, "urgent", ("scale", "cache_warm", "page", "log"), CACHE),
        ("cache", "evictions", "medium", LIVE, False, "standard", ("scale", "cache_warm", "log"), CACHE),
        ("cache", "evictions", "high", QUIET, False, "urgent", ("scale", "cache_warm", "log"), CACHE),
        ("cache", "hit_ratio", "medium", QUIET, False, "standard", ("scale", "cache_warm", "log"), CACHE),
        ("cache", "evictions", "critical", LIVE, False, "emergency", EMERGENCY, ()),
        ("cache", "evictions", "low", QUIET, False, "log", ("log",), ()),
        # CPU and memory: scale instances.
        ("cpu", "saturation", "medium", QUIET, False, "standard", ("scale", "log"), INSTANCES),
        ("cpu", "saturation", "high", LIVE, False, "urgent", ("scale", "log"), INSTANCES),
        ("cpu", "saturation", "critical", LIVE, True, "emergency", EMERGENCY_PAGED, ()),
        ("memory", "saturation", "medium", LIVE, False, "standard", ("scale", "log"), INSTANCES),
        ("memory", "saturation", "critical", QUIET, True, "urgent", ("scale", "page", "log"), INSTANCES),
        # Disk and offline capability: notify only, no automatic remedy.
        ("disk", "saturation", "medium", QUIET, False, "standard", ("log",), ()),
        ("disk", "saturation", "medium", QUIET, True, "standard", ("page", "log"), ()),
        ("disk", "saturation", "high", LIVE, True, "urgent", ("page", "log"), ()),
        ("disk", "saturation", "critical", LIVE, True, "emergency", EMERGENCY_PAGED, ()),
        ("offline", "offline", "high", QUIET, True, "urgent", ("page", "log"), ()),
        ("offline", "offline", "medium", LIVE, False, "standard", ("log",), ()),
        ("offline", "offline", "low", LIVE, True, "log", ("log",), ()),
    ],
)
def test_resource_alert(
    resource: str, signal: str, severity: str, instant: str, paged: bool,
    strategy: str, actions: tuple[str, ...], capacity: tuple[str, ...],
) -> None:  # fmt: skip
    labels = {"alertname": "WedwatchResource", "resource": resource, "signal": signal, "severity": severity}
    d = decide(labels, statuses_at(instant), PAGED if paged else ACTIONS)
    live = instant == LIVE
    # Never raised while live: the rule's thresholds already are 10 points lower on the day.
    assert (d.escalated_severity, d.live, d.strategy) == (severity, live, strategy)
    assert (d.actions, d.capacity, d.resource, d.wedding_id) == (actions, capacity, resource, None)
    assert d.guests == (180 if live else 0)
    assert d.details()["capacity"] == list(capacity)


@pytest.mark.parametrize(
    ("severity", "instant", "strategy", "live"),
    [
        ("high", LIVE, "urgent", True),  # the rule's live severity; not raised to an emergency
        ("medium", QUIET, "standard", False),
        ("medium", "2027-09-03T18:00:00", "standard", False),  # w-akl is live, not the alert's wedding
    ],
)
def test_offline_capability_is_judged_by_its_own_wedding(severity: str, instant: str, strategy: str, live: bool) -> None:
    labels = {"alertname": "WedwatchOfflineCapabilityLost", "resource": "offline", "signal": "offline",
              "severity": severity, "wedding_id": "w-ldn", "operation": "mobile"}  # fmt: skip
    d = decide(labels, statuses_at(instant), PAGED)
    assert (d.escalated_severity, d.strategy, d.live, d.wedding_id) == (severity, strategy, live, "w-ldn")
    assert (d.actions, d.capacity) == (("page", "log"), ())


def test_resource_alert_reasons_say_why_it_was_not_raised() -> None:
    labels = {"alertname": "WedwatchDatabaseConnectionsHigh", "resource": "database", "signal": "saturation",
              "severity": "high"}  # fmt: skip
    d = decide(labels, statuses_at(LIVE), ACTIONS)
    assert "platform-wide alert; 1 wedding(s) live" in d.reasons
    assert any("not raised" in r for r in d.reasons)
    assert any("database alert (saturation)" in r and "db_connections" in r for r in d.reasons)


def test_resource_and_signal_labels_are_case_insensitive() -> None:
    labels = {"alertname": "X", "resource": "Cache", "signal": "DOWN", "severity": "critical"}
    d = decide(labels, statuses_at(QUIET), PAGED)
    assert (d.resource, d.strategy, d.actions, d.capacity) == ("cache", "urgent", ("page", "log"), ())


def test_unknown_resource_is_decided_as_any_other_alert() -> None:
    labels = {"alertname": "X", "resource": "gpu", "signal": "saturation", "severity": "high"}
    d = decide(labels, statuses_at(LIVE), ACTIONS)
    # Raised while live, strategy's own actions, all capacity.
    assert (d.resource, d.escalated_severity, d.strategy) == (None, "critical", "emergency")
    assert (d.actions, d.capacity) == (EMERGENCY, ())
    assert any("unknown resource 'gpu'" in r for r in d.reasons)


def test_flapping_resource_alert_only_notifies() -> None:
    labels = {"alertname": "X", "resource": "database", "signal": "saturation", "severity": "high"}
    d = decide(labels, statuses_at(QUIET), PAGED, flapping=True)
    assert (d.strategy, d.actions, d.capacity) == ("urgent", ("page",), ())


def test_resource_responses_are_configurable_and_merge_over_the_defaults() -> None:
    actions = ActionsConfig.model_validate(
        {
            "definitions": {"log": {"type": "log"}, "dba": {"type": "http", "url": "http://127.0.0.1:9/dba"},
                            "notify": {"type": "http", "url": "http://127.0.0.1:9/n"}},
            "resources": {"database": {"actions": ["dba", "scale"], "capacity": ["db_connections", "instances"],
                                       "down": ["dba"]},
                          "disk": {"actions": ["notify"]}},
        }
    )  # fmt: skip
    def labels(resource: str, signal: str = "saturation") -> dict[str, str]:
        return {"alertname": "X", "resource": resource, "signal": signal, "severity": "high"}

    quiet = statuses_at(QUIET)
    d = decide(labels("database"), quiet, actions)
    assert (d.actions, d.capacity) == (("dba", "scale", "log"), ("db_connections", "instances"))
    assert decide(labels("database", "down"), quiet, actions).actions == ("dba", "log")
    # A definition named `notify` is that action, not every notify action.
    assert decide(labels("disk"), quiet, actions).actions == ("notify", "log")
    # Resources left out keep their defaults.
    d = decide(labels("cache"), quiet, actions)
    assert (d.actions, d.capacity) == (("scale", "cache_warm", "log"), ("cache_mb",))


def test_default_resource_responses_are_the_issues() -> None:
    r = ActionsConfig().resources
    assert {name: (x.actions, x.capacity, x.down) for name, x in r.items()} == {
        "database": (["scale"], ["db_connections"], ["notify"]),
        "cache": (["scale", "cache_warm"], ["cache_mb"], ["notify"]),
        "cpu": (["scale"], ["instances"], ["notify"]),
        "memory": (["scale"], ["instances"], ["notify"]),
        "disk": (["notify"], [], ["notify"]),
        "offline": (["notify"], [], ["notify"]),
    }
