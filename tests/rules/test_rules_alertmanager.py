"""examples/alertmanager.yml: valid for amtool, routes to the receiver, inhibits lower tiers."""

from __future__ import annotations

from pathlib import Path

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
