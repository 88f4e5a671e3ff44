"""The offline-capability alert (src/wedwatch/rules/offline.py): windows sized from the probe intervals."""

from __future__ import annotations

import re

from wedwatch.config.model import Config, FeaturesConfig, Phase, ScheduleConfig
from wedwatch.rules.offline import offline_alerts


def _windows(config: Config) -> dict[tuple[str, str], tuple[str, str]]:
    """(severity, phase) -> (all-failed window, probe-count window)."""
    out = {}
    for rule in offline_alerts(config, "https://example.org/runbooks"):
        for block in rule["expr"].split("\nor\n"):
            failed = re.search(r"max_over_time\(.*\[(\w+)\]\)\) == 0", block)
            probes = re.search(r"changes\(.*\[(\w+)\]\) >= 2", block)
            phase = re.search(r'wedwatch_wedding_info\{phase="(\w+)"\}', block)
            assert failed and probes and phase, block
            out[(rule["labels"]["severity"], phase[1])] = (failed[1], probes[1])
    return out


def test_high_on_the_wedding_day_medium_for_the_other_tracked_phases() -> None:
    windows = _windows(Config())
    assert windows == {
        ("high", "ceremony"): ("25s", "45s"),
        ("high", "wedding_day"): ("38s", "68s"),
        ("medium", "eve"): ("75s", "135s"),
        ("medium", "after"): ("750s", "1350s"),
        ("medium", "week"): ("150s", "270s"),
    }


def test_windows_follow_the_configured_intervals_and_the_enhanced_monitoring_switch() -> None:
    slower = Config(schedule=ScheduleConfig(intervals={Phase.CEREMONY: 20}))
    assert _windows(slower)[("high", "ceremony")] == ("50s", "90s")
    # Without wedding-day enhanced monitoring live weddings are probed at the week interval.
    plain = Config(features=FeaturesConfig(wedding_day_enhanced_monitoring=False))
    assert _windows(plain)[("high", "ceremony")] == _windows(plain)[("medium", "week")] == ("150s", "270s")


def test_every_offline_alert_names_the_wedding_and_its_resource() -> None:
    for rule in offline_alerts(Config(), "https://example.org/runbooks"):
        assert rule["labels"] | {"severity": "x"} == {"severity": "x", "resource": "offline", "signal": "offline"}
        assert "max by (wedding_id, operation)" in rule["expr"]
        assert rule["for"] == "0s"
