"""Shared shapes and formatting for generated rules: rule dicts, numbers, durations, runbook links."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from wedwatch.severity import SEVERITIES

__all__ = [
    "RecordingRule",
    "AlertingRule",
    "Rule",
    "RuleGroup",
    "RuleFile",
    "DEFAULT_RUNBOOK_BASE_URL",
    "SEVERITIES",
    "num",
    "human_seconds",
    "percent",
    "alert_rule",
    "runbook_anchor",
]

# Where runbook_url points unless `wedwatch rules --runbook.base-url` says otherwise.
DEFAULT_RUNBOOK_BASE_URL = "https://github.com/wedwatch/wedwatch/blob/main/docs/runbooks.md"


class RecordingRule(TypedDict):
    """One Prometheus recording rule."""

    record: str
    expr: str


# `for` is a Python keyword, hence the functional form.
AlertingRule = TypedDict(
    "AlertingRule",
    {"alert": str, "expr": str, "for": str, "labels": dict[str, str], "annotations": dict[str, str]},
)

Rule = RecordingRule | AlertingRule


class RuleGroup(TypedDict):
    """One rule group as Prometheus reads it (`interval` only where it differs from the global one)."""

    name: str
    interval: NotRequired[str]
    rules: list[Rule]


class RuleFile(TypedDict):
    """The top level of a Prometheus rule file."""

    groups: list[RuleGroup]


def num(value: float) -> str:
    """A PromQL number literal without float noise (1 - 0.999 is written 0.001, 5.0 is written 5)."""
    return f"{value:.10g}"


def human_seconds(seconds: float) -> str:
    """Seconds as people write them in a threshold: 0.1 -> 100ms, 5 -> 5s, 900 -> 15m, 6000 -> 1h40m."""
    if seconds < 1:
        return f"{num(seconds * 1000)}ms"
    if seconds >= 60 and seconds % 60 == 0:
        hours, minutes = divmod(int(seconds) // 60, 60)
        if not hours:
            return f"{minutes}m"
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{num(seconds)}s"


def percent(ratio: float) -> str:
    """A 0-1 ratio as a percentage: 0.001 -> 0.1%, 0.999 -> 99.9%."""
    return f"{num(ratio * 100)}%"


def runbook_anchor(alertname: str) -> str:
    """The GitHub heading anchor of the alert's runbook section (`## AlertName` -> `alertname`)."""
    return alertname.lower()


def alert_rule(
    *,
    name: str,
    expr: str,
    for_: str,
    severity: str,
    summary: str,
    description: str,
    runbook_base_url: str,
    labels: dict[str, str] | None = None,
) -> AlertingRule:
    """An alerting rule with the labels and annotations every wedwatch alert carries."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, **(labels or {})},
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"{runbook_base_url}#{runbook_anchor(name)}",
        },
    }
