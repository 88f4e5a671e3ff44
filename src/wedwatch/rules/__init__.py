"""Prometheus recording and alerting rules generated from the configured thresholds.

Pure functions from `Config` to rule-group dicts (one module per concept) plus deterministic
YAML rendering; `wedwatch rules` writes the result to rules/, where it is checked in.
"""

from wedwatch.rules.burnrate import BURN_WINDOWS, BurnWindow
from wedwatch.rules.generate import ALERTING_FILE, RECORDING_FILE, alert_names, alerting_rules, rule_files
from wedwatch.rules.render import render, stale_files, write_rule_files
from wedwatch.rules.shapes import DEFAULT_RUNBOOK_BASE_URL, SEVERITIES, AlertingRule, RecordingRule, RuleFile, RuleGroup

__all__ = [
    "ALERTING_FILE",
    "BURN_WINDOWS",
    "BurnWindow",
    "DEFAULT_RUNBOOK_BASE_URL",
    "RECORDING_FILE",
    "SEVERITIES",
    "AlertingRule",
    "RecordingRule",
    "RuleFile",
    "RuleGroup",
    "alert_names",
    "alerting_rules",
    "render",
    "rule_files",
    "stale_files",
    "write_rule_files",
]
