"""examples/alertmanager.yml: valid for amtool, routes to the receiver, inhibits lower tiers (per operation or per resource)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rules_support import REPO, load_yaml, run_tool

EXAMPLE = REPO / "examples" / "alertmanager.yml"


def test_amtool_check_config(amtool: str, tmp_path: Path) -> None:
    # The credentials file holds the receiver's token and is never committed: point a temp copy
    # at a file created here, so the check passes whether or not amtool opens it.
    token = tmp_path / "wedwatch-receiver.token"
    token.write_text("test-token\n")
    config = tmp_path / "alertmanager.yml"
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "credentials_file: /etc/alertmanager/wedwatch-receiver.token" in text
    config.write_text(text.replace("/etc/alertmanager/wedwatch-receiver.token", str(token)))
    done = run_tool([amtool, "check-config", str(config)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_amtool_check_config_on_the_example_as_committed(amtool: str) -> None:
    done = run_tool([amtool, "check-config", str(EXAMPLE)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_routes_to_the_receiver_with_bearer_auth_from_a_file() -> None:
    config = load_yaml(EXAMPLE)
    route = config["route"]
    assert route["group_by"] == ["alertname", "wedding_id"]
    (receiver,) = config["receivers"]
    (webhook,) = receiver["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:9840/alerts"
    auth = webhook["http_config"]["authorization"]
    assert auth["type"] == "Bearer"
    assert "credentials" not in auth, "no secret in the example: use credentials_file"
    assert auth["credentials_file"]


def test_critical_alerts_have_short_waits() -> None:
    config = load_yaml(EXAMPLE)
    (critical,) = [r for r in config["route"]["routes"] if r["matchers"] == ['severity="critical"']]

    def seconds(d: str) -> int:
        return int(d[:-1]) * {"s": 1, "m": 60, "h": 3600}[d[-1]]

    assert seconds(critical["group_wait"]) < seconds(config["route"]["group_wait"])
    assert seconds(critical["group_interval"]) < seconds(config["route"]["group_interval"])


def test_critical_inhibits_high_and_medium_of_the_same_operation_and_wedding() -> None:
    config = load_yaml(EXAMPLE)
    (rule,) = [r for r in config["inhibit_rules"] if r["source_matchers"] == ['severity="critical"']]
    assert {"operation", "wedding_id"} <= set(rule["equal"])
    target = rule["target_matchers"][0]
    assert "high" in target and "medium" in target


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    name, op, value = re.fullmatch(r'(\w+)(=~|!~|!=|=)"(.*)"', matcher).groups()  # type: ignore[union-attr]
    have = labels.get(name, "")
    return {
        "=": have == value,
        "!=": have != value,
        "=~": re.fullmatch(value, have) is not None,
        "!~": re.fullmatch(value, have) is None,
    }[op]


def _inhibited(target: dict[str, str], firing: list[dict[str, str]], rules: list[dict[str, Any]]) -> bool:
    """Alertmanager's inhibition: a source and target matching the rule, equal on `equal` (missing == missing)."""
    for rule in rules:
        if not all(_matches(m, target) for m in rule["target_matchers"]):
            continue
        for source in firing:
            if source is target or not all(_matches(m, source) for m in rule["source_matchers"]):
                continue
            if all(source.get(label, "") == target.get(label, "") for label in rule["equal"]):
                return True
    return False


def _alert(name: str, severity: str, **labels: str) -> dict[str, str]:
    return {"alertname": name, "severity": severity, **labels}


def _db(severity: str, instance: str = "db1:9187") -> dict[str, str]:
    return _alert("WedwatchDatabaseConnectionsHigh", severity, resource="database", signal="saturation",
                  job="postgres", instance=instance, server="db1:5432")  # fmt: skip


def _disk(severity: str, mountpoint: str, instance: str = "n1:9100") -> dict[str, str]:
    return _alert("WedwatchDiskSpaceLow", severity, resource="disk", signal="saturation", job="node",
                  instance=instance, device="/dev/sda1", fstype="ext4", mountpoint=mountpoint)  # fmt: skip


@pytest.mark.parametrize(
    ("source", "target", "inhibited"),
    [
        # The worst tier of one resource on one instance hides the lower ones...
        (_db("critical"), _db("high"), True),
        (_db("high"), _db("medium"), True),
        (_alert("WedwatchCacheMemoryHigh", "critical", resource="cache", signal="saturation", job="redis", instance="r1:9121"),
         _alert("WedwatchCacheEvicting", "high", resource="cache", signal="evictions", job="redis", instance="r1:9121"), True),
        (_disk("critical", "/"), _disk("high", "/"), True),
        # ... never another resource, another instance or another filesystem (resource alerts have
        # no operation, wedding_id or tier: those compare equal, missing on both sides)...
        (_db("critical"), _alert("WedwatchCacheMemoryHigh", "high", resource="cache", signal="saturation", job="redis",
                                 instance="r1:9121"), False),
        (_db("critical"), _db("high", instance="db2:9187"), False),
        (_alert("WedwatchCpuHigh", "critical", resource="cpu", signal="saturation", job="node", instance="n1:9100"),
         _alert("WedwatchMemoryHigh", "high", resource="memory", signal="saturation", job="node", instance="n1:9100"), False),
        (_disk("critical", "/"), _disk("high", "/var/lib/postgresql"), False),
        (_alert("WedwatchDatabaseDown", "critical", resource="database", signal="down", job="postgres", instance="db1:9187"),
         _alert("WedwatchCacheHitRatioLow", "medium", resource="cache", signal="hit_ratio", job="redis", instance="r1:9121"),
         False),
        # ... nor an operation's alerts, nor the other way round...
        (_db("critical"), _alert("WedwatchOperationSlow", "high", operation="guest_list", tier="standard"), False),
        (_alert("WedwatchOperationSlow", "critical", operation="guest_list", tier="standard"), _db("high"), False),
        (_alert("WedwatchLiveWeddingDown", "high", operation="mobile", wedding_id="w1", live="true"),
         _alert("WedwatchOfflineCapabilityLost", "medium", resource="offline", signal="offline", operation="mobile",
                wedding_id="w1"), False),
        # ... and the operation alerts inhibit as they always did.
        (_alert("WedwatchOperationSlow", "critical", operation="guest_list", tier="standard"),
         _alert("WedwatchOperationErrors", "high", operation="guest_list", tier="standard"), True),
        (_alert("WedwatchOperationSlow", "critical", operation="guest_list", tier="standard"),
         _alert("WedwatchOperationSlow", "high", operation="guest_list", tier="wedding_day"), False),
    ],
)  # fmt: skip
def test_inhibition_keeps_the_worst_per_operation_or_per_resource_and_instance(
    source: dict[str, str], target: dict[str, str], inhibited: bool
) -> None:
    rules = load_yaml(EXAMPLE)["inhibit_rules"]
    assert _inhibited(target, [source, target], rules) is inhibited


def test_every_alertmanager_config_inhibits_alike() -> None:
    # The example, the demo's packaged copy, the compose stack and the Kubernetes component.
    expected = load_yaml(EXAMPLE)["inhibit_rules"]
    assert load_yaml(REPO / "src" / "wedwatch" / "demo" / "alertmanager.yml")["inhibit_rules"] == expected
    assert load_yaml(REPO / "deploy" / "compose" / "alertmanager.yml")["inhibit_rules"] == expected
    component = REPO / "deploy" / "kubernetes" / "components" / "alertmanager-config" / "alertmanagerconfig.yaml"
    assert [r["equal"] for r in load_yaml(component)["spec"]["inhibitRules"]] == [r["equal"] for r in expected]
