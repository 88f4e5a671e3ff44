"""What the pods read: the wedwatch config in the ConfigMap, the Secret's keys, Alertmanager's routing.

The config is loaded by wedwatch's own loader with exactly the environment each workload gives
its container (Secret values from secret.example.yaml), so a `${VAR}` no pod provides, or a field
the schema refuses, fails here and not in a CrashLoopBackOff.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import BASE_DIR, REPO, SECRET_EXAMPLE
from kustomize_lite import build, containers, load_documents, pod_templates

from wedwatch.config import load_config
from wedwatch.errors import ConfigError

COMPONENT = REPO / "deploy" / "kubernetes" / "components" / "alertmanager-config" / "alertmanagerconfig.yaml"
COMPOSE_ALERTMANAGER = REPO / "deploy" / "compose" / "alertmanager.yml"
DOCS = REPO / "docs" / "kubernetes.md"
CONFIG_PATH = "/etc/wedwatch/wedwatch.yml"
_LITERAL = re.compile(r"--from-literal=([a-z0-9-]+)=")
# The command creating wedwatch-secrets: from its first line to the first without a continuation.
_CREATE = re.compile(r"create secret generic wedwatch-secrets(?:[^\n]*\\\n)*[^\n]*")


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return build(BASE_DIR)


def _secret() -> dict[str, str]:
    (secret,) = load_documents(SECRET_EXAMPLE)
    data: dict[str, str] = secret["stringData"]
    return data


def _environment(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet builds it (Secret values from the example)."""
    secret = _secret()
    env: dict[str, str] = {}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), entry["value"])
        elif "secretKeyRef" in entry["valueFrom"]:
            env[entry["name"]] = secret[entry["valueFrom"]["secretKeyRef"]["key"]]
        else:
            env[entry["name"]] = "0"  # the downward API: the pod index
    return env


def _mounted_config(objects: list[dict[str, Any]], tmp_path: Path) -> Path:
    (config_map,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "wedwatch-config"]
    path = tmp_path / "wedwatch.yml"
    path.write_text(config_map["data"]["wedwatch.yml"], encoding="utf-8")
    return path


def test_every_wedwatch_container_loads_the_config(base: list[dict[str, Any]], tmp_path: Path) -> None:
    path = _mounted_config(base, tmp_path)
    secret = _secret()
    for container in containers(base):
        env = _environment(container)
        assert env["WEDWATCH_CONFIG"] == CONFIG_PATH
        config = load_config(path, environ=env).config
        assert config.store.url == secret["database-url"]
        assert config.store.url.startswith("postgresql://")
        assert config.receiver.auth.bearer_token == secret["receiver-token"]
        # The real platform, its own calendar; the stand-in's address would be a demo leftover.
        assert config.calendar.source == "url"
        assert config.calendar.url is not None and config.calendar.url.startswith(config.platform.base_url)
        assert "127.0.0.1" not in config.platform.base_url and "//platform:" not in config.platform.base_url
        assert config.forecast.prometheus_url is not None


def test_config_mounts_where_wedwatch_config_points(base: list[dict[str, Any]]) -> None:
    for workload in pod_templates(base):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert f"{mounts['config']}/wedwatch.yml" == CONFIG_PATH


def test_the_receiver_cannot_start_without_its_token(base: list[dict[str, Any]], tmp_path: Path) -> None:
    # An empty default would leave /alerts open; the config must demand the variable.
    path = _mounted_config(base, tmp_path)
    (receiver,) = [c for c in containers(base) if c["args"][0] == "receiver"]
    env = _environment(receiver)
    del env["WEDWATCH_RECEIVER_TOKEN"]
    with pytest.raises(ConfigError, match="WEDWATCH_RECEIVER_TOKEN"):
        load_config(path, environ=env)


def test_no_environment_variable_is_an_accidental_override(base: list[dict[str, Any]]) -> None:
    # WEDWATCH_<SECTION>__<KEY> overrides the config; none is set by the manifests.
    for container in containers(base):
        assert not [e["name"] for e in container["env"] if e["name"].startswith("WEDWATCH_") and "__" in e["name"]]


def test_the_secret_example_holds_placeholders_only() -> None:
    for name, value in _secret().items():
        assert "CHANGE-ME" in value, f"{name} must be a placeholder"


def test_every_secret_key_is_used_and_documented(base: list[dict[str, Any]]) -> None:
    keys = set(_secret())
    used = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for c in containers(base)
        for e in c["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert used == keys
    # The `kubectl create secret generic` commands (the example's comment, the docs) name every key.
    for path in (SECRET_EXAMPLE, DOCS):
        commands = _CREATE.findall(path.read_text(encoding="utf-8"))
        assert commands, f"{path.name} does not say how to create the Secret"
        for command in commands:
            assert set(_LITERAL.findall(command)) == keys, f"{path.name}: {command}"


def _matcher(text: str) -> dict[str, str]:
    match = re.fullmatch(r'(\w+)(=~|!~|!=|=)"(.*)"', text)
    assert match, text
    return {"name": match[1], "matchType": match[2], "value": match[3]}


def _route(route: dict[str, Any]) -> dict[str, Any]:
    """An Alertmanager route in the AlertmanagerConfig's spelling."""
    out: dict[str, Any] = {"receiver": route["receiver"]}
    if "matchers" in route:
        out["matchers"] = [_matcher(m) for m in route["matchers"]]
    for field, name in (("group_by", "groupBy"), ("group_wait", "groupWait"), ("group_interval", "groupInterval"),
                        ("repeat_interval", "repeatInterval")):  # fmt: skip
        if field in route:
            out[name] = route[field]
    if "routes" in route:
        out["routes"] = [_route(r) for r in route["routes"]]
    return out


def test_the_alertmanager_config_routes_like_the_compose_stack() -> None:
    compose = yaml.safe_load(COMPOSE_ALERTMANAGER.read_text(encoding="utf-8"))
    (config,) = load_documents(COMPONENT)
    spec = config["spec"]
    assert spec["route"] == _route(compose["route"])
    expected_inhibit = [
        {
            "sourceMatch": [_matcher(m) for m in rule["source_matchers"]],
            "targetMatch": [_matcher(m) for m in rule["target_matchers"]],
            "equal": rule["equal"],
        }
        for rule in compose["inhibit_rules"]
    ]
    assert spec["inhibitRules"] == expected_inhibit
    (compose_receiver,) = compose["receivers"]
    (receiver,) = spec["receivers"]
    assert receiver["name"] == compose_receiver["name"]
    (webhook,) = receiver["webhookConfigs"]
    (compose_webhook,) = compose_receiver["webhook_configs"]
    assert webhook["sendResolved"] is compose_webhook["send_resolved"] is True
    assert webhook["httpConfig"]["authorization"]["type"] == compose_webhook["http_config"]["authorization"]["type"]
