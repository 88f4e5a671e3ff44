"""Every Kubernetes object under deploy/kubernetes/ against its schema, offline.

Core kinds go through kubernetes-validate's bundled (strict) schemas for the oldest Kubernetes the
manifests support (1.28: the StatefulSet pod-index label), the first with the HPA's `tolerance`
(1.33) and the first where it is on by default (1.35). Custom resources (the Prometheus
Operator's and KEDA's kinds, which those schemas do not know: the test checks kubernetes-validate
says so, rather than passing them silently) are checked against the operators' real CRDs,
vendored in tests/deploy/schemas/, by crd_schemas.py, which refuses every field a schema does not
list. Objects are taken as written in each manifest file, as each buildable kustomization renders
them, and as the platform stand-ins of testdata/ render the autoscaling components.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

import crd_schemas
import kubernetes_validate
import pytest
from deploy_support import KUBERNETES_DIR, PLATFORM_DIRS, REPO, kustomization_dirs
from kustomize_lite import KUSTOMIZATION_NAMES, build, load_documents, read_kustomization

KUBERNETES_VERSIONS = ("1.28.0", "1.33.0", "1.35.0")
# The first Kubernetes whose HorizontalPodAutoscaler has spec.behavior.*.tolerance (alpha in 1.33
# behind the HPAConfigurableTolerance gate, beta and on by default in 1.35, GA in 1.37).
HPA_TOLERANCE_SINCE = "1.33.0"
# The vendored CRDs, as copied (tests/deploy/schemas/README.md): a hand edit fails here.
SCHEMA_SHA256 = {
    "keda.sh_scaledobjects.yaml": "207afc4ca44fd9e3f4bbfb1c8fae08f3a365e098a52714fe8eb672bbd239cbcd",
    "monitoring.coreos.com_alertmanagerconfigs.yaml": "fed47c462483a47a4d1912bf8a7a3767618644cfdee86dc73d7624c55d6a8b9d",
    "monitoring.coreos.com_prometheusrules.yaml": "78be98554b9c8506ab2b4f4feb91c5f3a56e536a0a510f3a8e876a459970d56d",
    "monitoring.coreos.com_servicemonitors.yaml": "a99047972c9dd7679ce2050b9968e8a08773492e671b3e17abd476d42aa78a32",
}


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
    for directory in PLATFORM_DIRS:
        found += [(f"build {directory.relative_to(REPO)}", obj) for obj in build(directory)]
    return found


OBJECTS = _objects()
CUSTOM = [(s, o) for s, o in OBJECTS if crd_schemas.known(o)]
CORE = [(s, o) for s, o in OBJECTS if not crd_schemas.known(o)]


def _id(item: tuple[str, dict[str, Any]]) -> str:
    source, obj = item
    return f"{source}:{obj['kind']}/{obj['metadata']['name']}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _tolerance_paths(obj: dict[str, Any]) -> list[tuple[str, ...]]:
    """Where an HPA sets `tolerance` (spec.behavior.scaleUp / scaleDown)."""
    if obj["kind"] != "HorizontalPodAutoscaler":
        return []
    behavior = obj["spec"].get("behavior", {})
    return [("spec", "behavior", rules, "tolerance") for rules in sorted(behavior) if "tolerance" in behavior[rules]]


def _core_error(obj: dict[str, Any], version: str) -> str | None:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'.'.join(str(p) for p in exc.path)}: {exc.message}"
    return None


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
        "ScaledObject",
        "HorizontalPodAutoscaler",
    } <= kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("item", CORE, ids=_id)
def test_core_objects_validate_strictly(item: tuple[str, dict[str, Any]], version: str) -> None:
    source, obj = item
    tolerance = _tolerance_paths(obj)
    if tolerance and _version(version) < _version(HPA_TOLERANCE_SINCE):
        # Before 1.33 the HPA has no tolerance, and that is all it lacks (docs/kubernetes.md has the
        # patch removing it; testdata/platform-hpa-before-1.33 applies it and validates here).
        error = _core_error(obj, version)
        assert error is not None and "tolerance" in error, f"{_id(item)} against Kubernetes {version}: {error}"
        stripped = copy.deepcopy(obj)
        for *_, rules, field in tolerance:
            del stripped["spec"]["behavior"][rules][field]
        obj = stripped
    error = _core_error(obj, version)
    if error is not None:
        pytest.fail(f"{_id(item)} against Kubernetes {version}: {error}", pytrace=False)


@pytest.mark.parametrize("item", CUSTOM, ids=_id)
def test_custom_resources_match_the_real_crds(item: tuple[str, dict[str, Any]]) -> None:
    source, obj = item
    # The core schemas must not know the kind; if a future kubernetes-validate bundles it, use that.
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(obj, KUBERNETES_VERSIONS[-1], strict=True)
    errors = crd_schemas.errors(obj)
    assert not errors, "\n".join(f"{_id(item)}: {e}" for e in errors)
    # The CRDs leave metadata to the API server, which validates it as ObjectMeta: so do we, with
    # Kubernetes' own schema, carried by an object whose kind the core schemas know.
    carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]}
    for version in (KUBERNETES_VERSIONS[0], KUBERNETES_VERSIONS[-1]):
        error = _core_error(carrier, version)
        assert error is None, f"{_id(item)}: metadata against Kubernetes {version}: {error}"


def test_every_custom_resource_has_a_vendored_crd() -> None:
    # A kind from an API group that is not Kubernetes' own must have its CRD in schemas/.
    for item in OBJECTS:
        _, obj = item
        group = obj["apiVersion"].rpartition("/")[0]
        if "." in group and not group.endswith(".k8s.io"):
            assert crd_schemas.known(obj), f"{_id(item)}: no CRD for {group} in {crd_schemas.SCHEMAS_DIR}"


def test_the_vendored_crds_are_unchanged_copies() -> None:
    present = {p.name for p in crd_schemas.SCHEMAS_DIR.glob("*.yaml")}
    assert present == set(SCHEMA_SHA256)
    for name, digest in SCHEMA_SHA256.items():
        actual = hashlib.sha256((crd_schemas.SCHEMAS_DIR / name).read_bytes()).hexdigest()
        assert actual == digest, f"schemas/{name} differs from the upstream copy named in schemas/README.md"
    readme = (crd_schemas.SCHEMAS_DIR / "README.md").read_text(encoding="utf-8")
    for name, digest in SCHEMA_SHA256.items():
        assert name in readme and digest in readme, f"schemas/README.md does not record {name}"
    assert (crd_schemas.SCHEMAS_DIR / "NOTICE").is_file() and (crd_schemas.SCHEMAS_DIR / "LICENSE-Apache-2.0").is_file()


def test_every_cel_rule_of_the_vendored_crds_is_translated() -> None:
    for crd in crd_schemas.crds().values():
        for _served, schema in crd.versions.values():
            untranslated = set(crd_schemas.cel_rules(schema)) - set(crd_schemas.CEL_RULES)
            assert not untranslated, f"{crd.path.name}: {sorted(untranslated)}"


def test_prometheus_rule_group_names_are_unique() -> None:
    # The CRD's groups are a list-map keyed by name: the API server refuses duplicates.
    for item in CUSTOM:
        source, obj = item
        if obj["kind"] == "PrometheusRule":
            names = [g["name"] for g in obj["spec"]["groups"]]
            assert len(names) == len(set(names)), f"{_id(item)}: duplicate group names"


MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "m"},
    "spec": {"selector": {"matchLabels": {"a": "b"}}, "endpoints": [{"port": "http", "interval": "15s"}]},
}


def _with(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of obj with the field at a dotted path (list indexes as numbers) set; None deletes it."""
    changed = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return changed


def test_the_real_operator_schema_accepts_a_good_object() -> None:
    assert crd_schemas.errors(MONITOR) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # A misspelt field: the API server would prune it; refused here.
        ("spec.endpoints.0.prot", "http", "'prot' was unexpected"),
        ("spec.selectr", {}, "'selectr' was unexpected"),
        ("metadata.name", "m", None),  # (a control: unchanged, valid)
        ("spec.endpoints.0.interval", "15 seconds", "does not match"),
        ("spec.selector", None, "'selector' is a required property"),
        ("apiVersion", "monitoring.coreos.com/v2", "is served as"),
        ("status", {"anything": 1}, "'anything' was unexpected"),
    ],
)
def test_the_real_operator_schema_rejects_what_the_crd_rejects(path: str, value: Any, expected: str | None) -> None:
    errors = crd_schemas.errors(_with(MONITOR, path, value))
    if expected is None:
        assert errors == []
    else:
        assert any(expected in e for e in errors), errors


def test_nested_alertmanager_routes_are_checked_as_routes() -> None:
    # The CRD preserves unknown fields in child routes (it cannot describe the recursion); the
    # Operator decodes them as Routes and refuses unknown fields, and so does crd_schemas.
    (config,) = [o for s, o in CUSTOM if o["kind"] == "AlertmanagerConfig" and "build" not in s]
    assert config["spec"]["route"]["routes"], "the test needs child routes"
    assert crd_schemas.errors(config) == []
    misspelt = _with(config, "spec.route.routes.0.recevier", "wedwatch")
    assert any("'recevier' was unexpected" in e for e in crd_schemas.errors(misspelt))
    grandchild = _with(config, "spec.route.routes.0.routes", [{"receiver": "wedwatch", "groupWait": "soon"}])
    assert any("does not match" in e for e in crd_schemas.errors(grandchild))


def test_a_schema_that_preserves_unknown_fields_still_accepts_them() -> None:
    # The strictness follows the schema: where it says x-kubernetes-preserve-unknown-fields, or
    # gives additionalProperties, anything goes (here: KEDA's trigger metadata, a string map).
    schema = crd_schemas.to_json_schema(
        {
            "type": "object",
            "properties": {
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "map": {"type": "object", "additionalProperties": {"type": "string"}},
                "closed": {"type": "object"},
            },
        }
    )
    assert schema["additionalProperties"] is False
    assert "additionalProperties" not in schema["properties"]["free"]
    assert schema["properties"]["map"]["additionalProperties"] == {"type": "string"}
    # An object schema listing no fields at all: the server would prune every field, so none is allowed.
    assert schema["properties"]["closed"]["additionalProperties"] is False


def test_go_patterns_keep_their_meaning() -> None:
    pattern = re.compile(crd_schemas.go_pattern("^(?i)(abort|warn)?$"))
    assert pattern.search("Abort") and pattern.search("") and not pattern.search("abortx")
    months = re.compile(crd_schemas.go_pattern("^((?i)january|february|1[0-2]|[1-9])$"))
    assert months.search("FEBRUARY") and months.search("7") and not months.search("13")
