"""Assemble the rule files: which groups go into which file under rules/."""

from __future__ import annotations

from typing import cast

from wedwatch.config.model import Config
from wedwatch.rules.critical_path import critical_path_groups
from wedwatch.rules.live import live_groups
from wedwatch.rules.recording import recording_groups
from wedwatch.rules.resources import resource_groups
from wedwatch.rules.severity import severity_groups
from wedwatch.rules.shapes import DEFAULT_RUNBOOK_BASE_URL, AlertingRule, RuleFile
from wedwatch.rules.wedding_day import wedding_day_groups

__all__ = ["RECORDING_FILE", "ALERTING_FILE", "rule_files", "alerting_rules", "alert_names"]

RECORDING_FILE = "wedwatch-recording.yml"
ALERTING_FILE = "wedwatch-alerts.yml"


def rule_files(config: Config, *, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL) -> dict[str, RuleFile]:
    """File name -> rule file content, for every file `wedwatch rules` writes."""
    base = runbook_base_url.rstrip("#")
    return {
        RECORDING_FILE: {"groups": recording_groups(config)},
        ALERTING_FILE: {
            "groups": [
                *live_groups(config, base),
                *severity_groups(config, base),
                *wedding_day_groups(config, base),
                *critical_path_groups(config, base),
                *resource_groups(config, base),
            ]
        },
    }


def alerting_rules(files: dict[str, RuleFile]) -> list[AlertingRule]:
    """Every alerting rule in `files`, in file and group order."""
    found: list[AlertingRule] = []
    for content in files.values():
        for group in content["groups"]:
            for rule in group["rules"]:
                # TypedDicts are open, so `in` cannot narrow the union for mypy.
                if "alert" in rule:
                    found.append(cast(AlertingRule, rule))
    return found


def alert_names(files: dict[str, RuleFile]) -> list[str]:
    """Distinct alert names in `files`, in first-seen order."""
    return list(dict.fromkeys(rule["alert"] for rule in alerting_rules(files)))
