"""Grafana in the compose stack: the provisioned datasources are the dashboards' own, mounted where the provider reads."""

from __future__ import annotations

import re
from typing import Any

from stack_support import DASHBOARD_DIR, PROVISIONING_DIR, compose, load_yaml, stack_config

from wedwatch.dashboards import POSTGRES, PROMETHEUS, dashboard_files


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model["panels"] if p["type"] != "row"]


def test_datasources_are_the_provisioned_ones() -> None:
    provisioned = load_yaml(PROVISIONING_DIR / "datasources" / "wedwatch.yml")["datasources"]
    by_uid = {d["uid"]: d for d in provisioned}
    for source in (PROMETHEUS, POSTGRES):
        assert (by_uid[source.uid]["type"], by_uid[source.uid]["name"]) == (source.type, source.name)
    used = {
        (p["datasource"]["uid"], p["datasource"]["type"])
        for model in dashboard_files(stack_config()).values()
        for p in _panels(model)
    }
    assert used == {(PROMETHEUS.uid, PROMETHEUS.type), (POSTGRES.uid, POSTGRES.type)}


def test_provider_reads_the_directory_compose_mounts_the_dashboards_at() -> None:
    provider = load_yaml(PROVISIONING_DIR / "dashboards" / "wedwatch.yml")["providers"][0]
    grafana = compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    assert (DASHBOARD_DIR / home.rsplit("/", 1)[1]).is_file()


def test_the_password_grafana_provisioning_reads_is_in_its_environment() -> None:
    lines = (PROVISIONING_DIR / "datasources" / "wedwatch.yml").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    referenced = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", text))
    assert referenced == {"GRAFANA_DB_PASSWORD"}
    assert referenced <= set(compose()["services"]["grafana"]["environment"])
