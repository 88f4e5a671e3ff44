"""Every Kubernetes object under deploy/kubernetes/ against its schema, offline.

Core kinds go through kubernetes-validate's bundled (strict) schemas for the oldest Kubernetes the
manifests support (1.28: the StatefulSet pod-index label) and a current one. The Prometheus
Operator's kinds are not in those schemas (the test checks kubernetes-validate says so, rather than
passing them silently); they are checked against testdata/prometheus-operator-schemas.yml, taken
from the Operator's CRDs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_support import KUBERNETES_DIR, kustomization_dirs
from kustomize_lite import KUSTOMIZATION_NAMES, build, load_documents, read_kustomization

KUBERNETES_VERSIONS = ("1.28.0", "1.33.0")
OPERATOR_SCHEMAS = Path(__file__).parent / "testdata" / "prometheus-operator-schemas.yml"
OPERATOR_GROUP = "monitoring.coreos.com/"


def _objects() -> list[tuple[str, dict[str, Any]]]:
    """Every object as written in each manifest file, and as each buildable kustomization renders it."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(KUBERNETES_DIR.rglob("*.yaml")):
        if path.name in KUSTOMIZATION_NAMES:
            continue
        rel = path.relative_to(KUBERNETES_DIR)
        docs = load_documents(path)
        assert all("apiVersion" in d for d in docs), f"{rel}: a .yaml file here holds Kubernetes objects only"
        found += [(str(rel), doc) for doc in docs]
    for directory in kustomization_dirs():
        if read_kustomization(directory).get("kind") == "Component":
            continue
        rel = directory.relative_to(KUBERNETES_DIR)
        found += [(f"build {rel}", obj) for obj in build(directory)]
    return found


OBJECTS = _objects()
CORE = [(s, o) for s, o in OBJECTS if not o["apiVersion"].startswith(OPERATOR_GROUP)]
OPERATOR = [(s, o) for s, o in OBJECTS if o["apiVersion"].startswith(OPERATOR_GROUP)]


def _id(item: tuple[str, dict[str, Any]]) -> str:
    source, obj = item
    return f"{source}:{obj['kind']}/{obj['metadata']['name']}"


def test_the_manifests_hold_every_kind_the_issue_asks_for() -> None:
    kinds = {o["kind"] for _, o in OBJECTS}
    assert {
        "StatefulSet",
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceMonitor",
        "PrometheusRule",
        "AlertmanagerConfig",
    } <= kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("item", CORE, ids=_id)
def test_core_objects_validate_strictly(item: tuple[str, dict[str, Any]], version: str) -> None:
    source, obj = item
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{_id(item)} against Kubernetes {version}: {where}: {exc.message}", pytrace=False)


@pytest.fixture(scope="module")
def operator_schemas() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPERATOR_SCHEMAS.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("item", OPERATOR, ids=_id)
def test_operator_objects_match_the_operators_crds(
    item: tuple[str, dict[str, Any]], operator_schemas: dict[str, Any]
) -> None:
    source, obj = item
    # The core schemas must not know the kind; if a future kubernetes-validate bundles it, use that.
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(obj, KUBERNETES_VERSIONS[-1], strict=True)
    schema = operator_schemas["kinds"].get(f"{obj['apiVersion']}/{obj['kind']}")
    assert schema is not None, (
        f"{_id(item)}: no schema for {obj['apiVersion']} {obj['kind']} in {OPERATOR_SCHEMAS.name}"
    )
    validator = jsonschema.Draft202012Validator({"$defs": operator_schemas["$defs"], **schema})
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{_id(item)}: {'.'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_prometheus_rule_group_names_are_unique(operator_schemas: dict[str, Any]) -> None:
    # The CRD's groups are a list-map keyed by name: the API server refuses duplicates.
    for item in OPERATOR:
        source, obj = item
        if obj["kind"] == "PrometheusRule":
            names = [g["name"] for g in obj["spec"]["groups"]]
            assert len(names) == len(set(names)), f"{_id(item)}: duplicate group names"


def test_the_operator_schema_rejects_what_the_crd_rejects(operator_schemas: dict[str, Any]) -> None:
    # The structural check is not vacuous: a misspelt field, a bad duration and a missing
    # selector each fail it.
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "endpoints": [{"port": "http", "interval": "15s"}]},
    }
    schema = {
        "$defs": operator_schemas["$defs"],
        **operator_schemas["kinds"]["monitoring.coreos.com/v1/ServiceMonitor"],
    }
    jsonschema.validate(monitor, schema)
    bad_field = {**monitor, "spec": {**monitor["spec"], "endpoints": [{"prot": "http"}]}}
    bad_duration = {**monitor, "spec": {**monitor["spec"], "endpoints": [{"port": "http", "interval": "15 seconds"}]}}
    no_selector = {**monitor, "spec": {"endpoints": [{"port": "http"}]}}
    for bad in (bad_field, bad_duration, no_selector):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
