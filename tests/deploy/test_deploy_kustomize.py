"""The kustomizations under deploy/kubernetes/ render, and what refers to what matches.

Rendered by tests/deploy/kustomize_lite.py (no binary needed); when `kustomize`
or `kubectl` is installed the real one renders too and must agree with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from deploy_support import BASE_DIR, KUBERNETES_DIR, REPO, SECRET_EXAMPLE, env_value, kustomization_dirs, selects
from kustomize_lite import (
    build,
    containers,
    key,
    kustomize_command,
    kustomize_render,
    load_documents,
    pod_templates,
    read_kustomization,
)

from wedwatch.commands import exporter as exporter_command
from wedwatch.commands import receiver as receiver_command

BUILDABLE = [d for d in kustomization_dirs() if read_kustomization(d).get("kind", "Kustomization") == "Kustomization"]
EXPORTER = "wedwatch-exporter"
RECEIVER = "wedwatch-receiver"
SECRET_NAME = "wedwatch-secrets"


def _rel(directory: Any) -> str:
    return str(directory.relative_to(KUBERNETES_DIR))


@pytest.fixture(scope="module", params=BUILDABLE, ids=_rel)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Each buildable kustomization (the base and every overlay), rendered."""
    return build(request.param)


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def _pod_labels(workload: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def _secret_data() -> dict[str, str]:
    (secret,) = load_documents(SECRET_EXAMPLE)
    data: dict[str, str] = secret["stringData"]
    return data


def test_there_is_a_base_and_an_example_overlay() -> None:
    assert {_rel(d) for d in BUILDABLE} >= {"base", "overlays/example"}


def test_every_manifest_in_the_base_is_used() -> None:
    kustomization = read_kustomization(BASE_DIR)
    used = set(kustomization["resources"]) | {f for g in kustomization["configMapGenerator"] for f in g["files"]}
    present = {p.name for p in BASE_DIR.iterdir() if p.suffix in (".yaml", ".yml") and p.name != "kustomization.yaml"}
    # The Secret example stays out on purpose: `kubectl apply -k` must never overwrite real tokens.
    assert present - used == {SECRET_EXAMPLE.name}
    assert SECRET_EXAMPLE.name not in used


@pytest.mark.parametrize("directory", BUILDABLE, ids=_rel)
def test_the_real_kustomize_renders_the_same(directory: Any) -> None:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed; kustomize_lite.build() rendered it alone")
    ours = {key(o): o for o in build(directory)}
    theirs = {key(o): o for o in kustomize_render(command, directory)}
    assert sorted(theirs) == sorted(ours)
    for k, obj in ours.items():
        assert theirs[k] == obj, f"{_rel(directory)}: {k} differs between kustomize and kustomize_lite.build()"


def test_every_object_carries_the_common_labels(rendered: list[dict[str, Any]]) -> None:
    for obj in rendered:
        assert obj["metadata"]["labels"].get("app.kubernetes.io/part-of") == "wedwatch", key(obj)
        assert obj["metadata"].get("namespace"), f"{key(obj)} has no namespace"
    for workload in pod_templates(rendered):
        assert _pod_labels(workload).get("app.kubernetes.io/part-of") == "wedwatch", key(workload)


def test_workload_selectors_match_their_own_pods_only(rendered: list[dict[str, Any]]) -> None:
    workloads = list(pod_templates(rendered))
    assert {w["metadata"]["name"] for w in workloads} == {EXPORTER, RECEIVER}
    for workload in workloads:
        chosen = [w["metadata"]["name"] for w in workloads if selects(workload["spec"]["selector"], _pod_labels(w))]
        assert chosen == [workload["metadata"]["name"]], f"{key(workload)} selects the pods of {chosen}"


def test_services_select_one_workload_and_name_its_ports(rendered: list[dict[str, Any]]) -> None:
    workloads = list(pod_templates(rendered))
    services = [o for o in rendered if o["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} == {EXPORTER, RECEIVER}
    for service in services:
        (workload,) = [w for w in workloads if selects(service["spec"]["selector"], _pod_labels(w))]
        assert workload["metadata"]["name"] == service["metadata"]["name"]
        container_ports = {
            p["name"]: p["containerPort"]
            for c in workload["spec"]["template"]["spec"]["containers"]
            for p in c["ports"]
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, (
                f"{key(service)}: no container port named {port['targetPort']}"
            )
            assert container_ports[port["targetPort"]] == port["port"]


def test_the_exporter_is_a_statefulset_behind_a_headless_service(rendered: list[dict[str, Any]]) -> None:
    statefulset = _one(rendered, "StatefulSet", EXPORTER)
    service = _one(rendered, "Service", statefulset["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"


def test_every_shard_knows_its_index_and_the_shard_count(rendered: list[dict[str, Any]]) -> None:
    statefulset = _one(rendered, "StatefulSet", EXPORTER)
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    names = [e["name"] for e in container["env"]]
    # Kubernetes expands $(POD_INDEX) only when POD_INDEX is defined earlier in the list.
    assert names.index("POD_INDEX") < names.index("WEDWATCH_SHARD")
    pod_index = env_value(container, "POD_INDEX")["valueFrom"]["fieldRef"]["fieldPath"]
    assert pod_index == "metadata.labels['apps.kubernetes.io/pod-index']"
    replicas = statefulset["spec"]["replicas"]
    assert env_value(container, "WEDWATCH_SHARD")["value"] == f"$(POD_INDEX)/{replicas}"


def test_an_overlay_that_changes_the_shard_count_carries_the_replacement() -> None:
    # kustomize applies a base's replacements before an overlay's `replicas`, so an overlay that
    # changes the count without repeating the replacement would tell four shards n=2.
    for directory in BUILDABLE:
        kustomization = read_kustomization(directory)
        if any(r["name"] == EXPORTER for r in kustomization.get("replicas", [])):
            sources = [r["source"] for r in kustomization.get("replacements", [])]
            assert {"kind": "StatefulSet", "name": EXPORTER, "fieldPath": "spec.replicas"} in sources, _rel(directory)


def test_the_receiver_runs_replicas_that_survive_disruption(rendered: list[dict[str, Any]]) -> None:
    deployment = _one(rendered, "Deployment", RECEIVER)
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pdb = _one(rendered, "PodDisruptionBudget", RECEIVER)
    assert pdb["spec"]["minAvailable"] == 1
    pod = spec["template"]["spec"]
    hostname = [t for t in pod["topologySpreadConstraints"] if t["topologyKey"] == "kubernetes.io/hostname"]
    assert hostname and hostname[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert selects(hostname[0]["labelSelector"], _pod_labels(deployment))
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/-/healthy"


def test_each_disruption_budget_covers_one_workload(rendered: list[dict[str, Any]]) -> None:
    workloads = list(pod_templates(rendered))
    budgets = [o for o in rendered if o["kind"] == "PodDisruptionBudget"]
    assert {b["metadata"]["name"] for b in budgets} == {EXPORTER, RECEIVER}
    for budget in budgets:
        chosen = [w["metadata"]["name"] for w in workloads if selects(budget["spec"]["selector"], _pod_labels(w))]
        assert chosen == [budget["metadata"]["name"]]


def test_service_monitors_scrape_each_service_on_its_port(rendered: list[dict[str, Any]]) -> None:
    services = [o for o in rendered if o["kind"] == "Service"]
    monitors = [o for o in rendered if o["kind"] == "ServiceMonitor"]
    expected = {
        EXPORTER: int(exporter_command.DEFAULT_ADDRESS.lstrip(":")),
        RECEIVER: int(receiver_command.DEFAULT_ADDRESS.lstrip(":")),
    }
    assert {m["metadata"]["name"] for m in monitors} == set(expected)
    for monitor in monitors:
        (service,) = [s for s in services if selects(monitor["spec"]["selector"], s["metadata"]["labels"])]
        ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert ports[endpoint["port"]] == expected[monitor["metadata"]["name"]]
            assert endpoint["path"] == "/metrics"
            # docs/rules.md: scrape every 15 s, 30 s at most; the exporter at most every ceremony probe
            # interval (10 s), so that the fast-path alerts see every probe of a live wedding.
            wanted = ("10s",) if "exporter" in monitor["metadata"]["name"] else ("15s", "30s")
            assert endpoint["interval"] in wanted


def test_containers_listen_where_services_send(rendered: list[dict[str, Any]]) -> None:
    for workload in pod_templates(rendered):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        (port,) = container["ports"]
        assert f"--web.listen-address=:{port['containerPort']}" in container["args"]


def test_config_and_secret_references_resolve(rendered: list[dict[str, Any]]) -> None:
    config_maps = {o["metadata"]["name"]: o for o in rendered if o["kind"] == "ConfigMap"}
    secret = _secret_data()
    for workload in pod_templates(rendered):
        pod = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        for volume in volumes.values():
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, f"{key(workload)}: {volume['configMap']['name']}"
        for container in pod["containers"]:
            for mount in container["volumeMounts"]:
                assert mount["name"] in volumes, f"{key(workload)}: mount {mount['name']} has no volume"
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert ref["name"] == SECRET_NAME and ref["key"] in secret, f"{key(workload)}: {entry['name']}"
                    assert not ref.get("optional", False), f"{entry['name']}: a missing secret must stop the pod"
            assert (
                pod["serviceAccountName"]
                == _one(rendered, "ServiceAccount", pod["serviceAccountName"])["metadata"]["name"]
            )
    for obj in rendered:
        if obj["kind"] == "AlertmanagerConfig":
            for receiver in obj["spec"]["receivers"]:
                for webhook in receiver["webhookConfigs"]:
                    credentials = webhook["httpConfig"]["authorization"]["credentials"]
                    assert credentials == {"name": SECRET_NAME, "key": "receiver-token"}


def _dockerfile_uid() -> int:
    match = re.search(r"useradd .*--uid (\d+)", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    assert match, "the Dockerfile no longer creates its user with a fixed --uid"
    return int(match.group(1))


def test_pods_run_locked_down_as_the_images_user(rendered: list[dict[str, Any]]) -> None:
    uid = _dockerfile_uid()
    for workload in pod_templates(rendered):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
    for container in containers(rendered):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        # The root filesystem is read-only: anything that writes temporary files gets /tmp.
        assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


def test_the_platform_stand_in_is_not_deployed(rendered: list[dict[str, Any]]) -> None:
    commands = {c["args"][0] for c in containers(rendered)}
    assert commands == {"exporter", "receiver"}


def test_the_alertmanager_webhook_reaches_the_receiver_service(rendered: list[dict[str, Any]]) -> None:
    service = _one(rendered, "Service", RECEIVER)
    (port,) = service["spec"]["ports"]
    expected = f"http://{RECEIVER}.{service['metadata']['namespace']}.svc:{port['port']}/alerts"
    for obj in rendered:
        if obj["kind"] == "AlertmanagerConfig":
            urls = [w["url"] for r in obj["spec"]["receivers"] for w in r["webhookConfigs"]]
            assert urls == [expected]
