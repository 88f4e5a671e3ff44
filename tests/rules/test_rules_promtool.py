"""promtool on the rules: `check rules` is clean, `test rules` passes and covers every alert."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from rules_support import RULES_DIR, load_yaml, rule_test_files, run_tool

from wedwatch.config.model import Config, SeverityThresholds, ThresholdsConfig
from wedwatch.rules import alerting_rules, rule_files, write_rule_files


def _check(promtool: str, paths: list[Path]) -> None:
    done = run_tool([promtool, "check", "rules", *map(str, paths)])
    # promtool 2.42: exit 0 or 1; problems (including lint) on stderr and stdout.
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" not in done.stdout + done.stderr


def test_promtool_check_rules_is_clean_on_the_generated_files(promtool: str, tmp_path: Path) -> None:
    _check(promtool, write_rule_files(rule_files(Config()), tmp_path))


def test_promtool_check_rules_is_clean_on_the_checked_in_files(promtool: str) -> None:
    _check(promtool, sorted(RULES_DIR.glob("*.yml")))


def test_promtool_check_rules_is_clean_with_other_thresholds(promtool: str, tmp_path: Path) -> None:
    thresholds = ThresholdsConfig(
        critical=SeverityThresholds(p95_seconds=8, error_ratio=0.3, availability=0.8),
        stall_intervals=2.5,
    )
    _check(promtool, write_rule_files(rule_files(Config(thresholds=thresholds)), tmp_path))


def test_promtool_unit_tests_pass(promtool: str) -> None:
    files = rule_test_files()
    assert files, "no promtool unit tests in rules/tests/"
    done = run_tool([promtool, "test", "rules", *(str(f.relative_to(RULES_DIR.parent)) for f in files)], cwd=RULES_DIR.parent)
    assert done.returncode == 0, done.stderr + done.stdout


def _alert_cases() -> dict[str, dict[str, Any]]:
    """alertname -> {"fires": set of severities seen firing, "silent": bool, "groups": [test group]}."""
    cases: dict[str, dict[str, Any]] = defaultdict(lambda: {"fires": set(), "silent": False, "groups": []})
    for path in rule_test_files():
        for group in load_yaml(path)["tests"]:
            for case in group.get("alert_rule_test", []):
                entry = cases[case["alertname"]]
                entry["groups"].append(group)
                expected = case.get("exp_alerts") or []
                entry["fires"].update(a["exp_labels"]["severity"] for a in expected)
                entry["silent"] = entry["silent"] or not expected
    return cases


def test_every_alert_and_severity_has_a_firing_and_a_silent_unit_test() -> None:
    cases = _alert_cases()
    for rule in alerting_rules(rule_files(Config())):
        name, severity = rule["alert"], rule["labels"]["severity"]
        assert name in cases, f"{name} appears in no alert_rule_test in rules/tests/"
        assert severity in cases[name]["fires"], f"no unit test sees {name} fire with severity {severity}"
        assert cases[name]["silent"], f"no unit test checks that {name} stays silent"


def _wedding_day_only(rule: dict[str, Any]) -> bool:
    return 'tier="wedding_day"' in rule["expr"] or 'phase="ceremony"' in rule["expr"]


def test_wedding_day_alerts_are_tested_against_a_wedding_not_on_its_day() -> None:
    cases = _alert_cases()
    for rule in alerting_rules(rule_files(Config())):
        if not _wedding_day_only(dict(rule)):
            continue
        series = [s["series"] for g in cases[rule["alert"]]["groups"] for s in g["input_series"]]
        # For the milestone alert (ceremony window) a wedding in phase wedding_day is "not on it".
        other_day = [
            s
            for s in series
            if 'tier="standard"' in s or re.search(r'phase="(week|eve|after|month|planning|wedding_day)"', s)
        ]
        assert other_day, f"{rule['alert']}: no unit test feeds a wedding or tier outside its day"


def test_every_unit_test_alert_carries_severity_and_operation_or_resource() -> None:
    # The system and resource alerts are about a dependency, not an operation: they carry
    # `resource` and `signal` instead (docs/rules.md); the offline-capability one carries both.
    for path in rule_test_files():
        for group in load_yaml(path)["tests"]:
            for case in group.get("alert_rule_test", []):
                for alert in case.get("exp_alerts") or []:
                    labels = alert["exp_labels"]
                    about = {"operation"} <= set(labels) or {"resource", "signal"} <= set(labels)
                    assert "severity" in labels and about, f"{path.name}: {case['alertname']} {labels}"
                    assert set(alert["exp_annotations"]) == {"summary", "description", "runbook_url"}


def test_every_unit_test_file_orders_all_groups_recording_first() -> None:
    # promtool 2.42 evaluates groups in map order unless group_eval_order lists them; an alert
    # would then read its recording rule from this evaluation or the previous one by chance.
    files = rule_files(Config())
    expected = [g["name"] for content in files.values() for g in content["groups"]]
    recording = [g["name"] for content in files.values() for g in content["groups"] if "record" in g["rules"][0]]
    for path in rule_test_files():
        test = load_yaml(path)
        order = test.get("group_eval_order", [])
        assert sorted(order) == sorted(expected), f"{path.name}: group_eval_order must list every group"
        assert order[: len(recording)] == recording, f"{path.name}: recording groups must come first"
        assert sorted(Path(f).name for f in test["rule_files"]) == sorted(files)
