"""The autoscaling components: KEDA or an HPA scale the platform to wedwatch's capacity target.

deploy/kubernetes/components/keda-scaler (a KEDA ScaledObject with a prometheus trigger) and
components/hpa-prometheus-adapter (an autoscaling/v2 HPA on an External metric, plus the
prometheus-adapter rule serving it) are added to the platform's kustomization, not wedwatch's;
testdata/platform-* are stand-ins for it. Checked here: they render (with kustomize_lite, and the
real kustomize when installed), their bounds are wedwatch's, both read the same PromQL, the HPA
arithmetic gives replicas = target, and misspelt fields are refused by the real KEDA CRD.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from pathlib import Path
from typing import Any

import crd_schemas
import jsonschema
import pytest
import yaml
from deploy_support import COMPONENTS_DIR, KUBERNETES_DIR, PLATFORM_DIRS, REPO
from kustomize_lite import build, key, kustomize_command, kustomize_render, load_documents, read_kustomization

from wedwatch.config.actions import CapacityConfig

KEDA_DIR = COMPONENTS_DIR / "keda-scaler"
HPA_DIR = COMPONENTS_DIR / "hpa-prometheus-adapter"
ADAPTER_VALUES = HPA_DIR / "prometheus-adapter-values.yml"
PLACEHOLDER = "wedding-platform"
QUERY = 'max(wedwatch_capacity_target{resource="instances"})'
DOCS = REPO / "docs" / "kubernetes.md"
INSTANCES = CapacityConfig().instances
# The trigger metadata KEDA's prometheus scaler parses (pkg/scalers/prometheus_scaler.go and
# pkg/scalers/authentication/authentication_types.go, at the commit of schemas/README.md). The CRD
# types trigger metadata as a free string map and KEDA ignores keys it does not parse (unless
# KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS is set), so a misspelt `ignoreNullValue` would silently
# fall back to the default; this list catches it.
PROMETHEUS_TRIGGER_PARAMETERS = frozenset(
    {
        "serverAddress",
        "query",
        "queryParameters",
        "threshold",
        "activationThreshold",
        "namespace",
        "customHeaders",
        "ignoreNullValues",
        "unsafeSsl",
        "awsRegion",
        "timeout",
        "identityOwner",
        "authModes",
        "authMode",
        "apiKey",
        "method",
        "keyParamName",
    }
)
# prometheus-adapter's DiscoveryRule (pkg/config/config.go), which it reads with
# yaml.UnmarshalStrict: an unknown field stops the adapter. Hand-written: it is a Go type, not a CRD.
_RESOURCE_MAPPING = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "template": {"type": "string"},
        "overrides": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["resource"],
                "properties": {"group": {"type": "string"}, "resource": {"type": "string"}},
            },
        },
        "namespaced": {"type": "boolean"},
    },
}
ADAPTER_RULE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["seriesQuery", "metricsQuery"],
    "properties": {
        "seriesQuery": {"type": "string", "minLength": 1},
        "seriesFilters": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "maxProperties": 1,
                "properties": {"is": {"type": "string"}, "isNot": {"type": "string"}},
            },
        },
        "resources": _RESOURCE_MAPPING,
        "name": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"matches": {"type": "string"}, "as": {"type": "string"}},
        },
        "metricsQuery": {"type": "string", "minLength": 1},
    },
}


def _rel(directory: Path) -> str:
    return str(directory.relative_to(REPO))


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def _component_object(directory: Path, kind: str) -> dict[str, Any]:
    """The object of `kind` as the component's manifest writes it."""
    kustomization = read_kustomization(directory)
    objects = [doc for entry in kustomization["resources"] for doc in load_documents(directory / entry)]
    return _one(objects, kind)


def _scaled_object() -> dict[str, Any]:
    return _component_object(KEDA_DIR, "ScaledObject")


def _hpa() -> dict[str, Any]:
    return _component_object(HPA_DIR, "HorizontalPodAutoscaler")


def _trigger() -> dict[str, Any]:
    (trigger,) = _scaled_object()["spec"]["triggers"]
    return dict(trigger)


def _adapter_rule() -> dict[str, Any]:
    values = yaml.safe_load(ADAPTER_VALUES.read_text(encoding="utf-8"))
    assert set(values) == {"rules"} and set(values["rules"]) == {"external"}, "only the external rule is set"
    (rule,) = values["rules"]["external"]
    return dict(rule)


# --- rendering --------------------------------------------------------------------------------------


def test_the_components_are_components_of_one_manifest_each() -> None:
    for directory in (KEDA_DIR, HPA_DIR):
        kustomization = read_kustomization(directory)
        assert kustomization["kind"] == "Component"
        # No namespace of their own: they join the platform's kustomization and its namespace.
        assert "namespace" not in kustomization
        for entry in kustomization["resources"]:
            for doc in load_documents(directory / entry):
                assert "namespace" not in doc["metadata"], f"{directory.name}/{entry}"
        used = set(kustomization["resources"])
        present = {p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml"}
        assert present == used, f"{directory.name}: manifests not in resources: {present - used}"


def test_there_is_a_platform_stand_in_for_each_component() -> None:
    included = {
        (directory / entry).resolve()
        for directory in PLATFORM_DIRS
        for entry in read_kustomization(directory).get("components", [])
    }
    assert included == {KEDA_DIR.resolve(), HPA_DIR.resolve()}


@pytest.fixture(scope="module", params=PLATFORM_DIRS, ids=lambda d: d.name)
def platform(request: pytest.FixtureRequest) -> tuple[Path, list[dict[str, Any]]]:
    """Each platform stand-in with a component, rendered by kustomize_lite."""
    directory: Path = request.param
    return directory, build(directory)


@pytest.mark.parametrize("directory", PLATFORM_DIRS, ids=lambda d: d.name)
def test_the_real_kustomize_renders_the_components_the_same(directory: Path) -> None:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed; kustomize_lite.build() rendered it alone")
    ours = {key(o): o for o in build(directory)}
    theirs = {key(o): o for o in kustomize_render(command, directory)}
    assert sorted(theirs) == sorted(ours)
    for k, obj in ours.items():
        assert theirs[k] == obj, f"{_rel(directory)}: {k} differs between kustomize and kustomize_lite.build()"


def test_the_scaler_targets_the_platforms_deployment_in_its_namespace(
    platform: tuple[Path, list[dict[str, Any]]],
) -> None:
    directory, objects = platform
    deployment = _one(objects, "Deployment")
    scalers = [o for o in objects if o["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")]
    assert len(scalers) == 1, f"{directory.name}: one scaler per platform Deployment"
    (scaler,) = scalers
    ref = scaler["spec"]["scaleTargetRef"]
    assert (ref["apiVersion"], ref["kind"], ref["name"]) == ("apps/v1", "Deployment", deployment["metadata"]["name"])
    assert scaler["metadata"]["namespace"] == deployment["metadata"]["namespace"]


def test_as_shipped_the_target_is_the_documented_placeholder() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for scaler in (_scaled_object(), _hpa()):
        assert scaler["spec"]["scaleTargetRef"]["name"] == PLACEHOLDER
    assert PLACEHOLDER in docs
    assert _trigger()["metadata"]["serverAddress"] in docs


def test_the_patches_for_kubernetes_before_1_33_are_the_documented_ones() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for directory in PLATFORM_DIRS:
        if directory.name.endswith("before-1.33"):
            for patch in read_kustomization(directory)["patches"]:
                for op in yaml.safe_load(patch["patch"]):
                    assert op["op"] == "remove" and op["path"].endswith("/tolerance")
                    assert op["path"] in docs, f"docs/kubernetes.md does not show {op['path']}"
            objects = build(directory)
            assert "tolerance" not in yaml.safe_dump(objects)


# --- bounds and query -----------------------------------------------------------------------------------


def test_wedwatchs_default_instance_bounds_are_whole_numbers() -> None:
    assert INSTANCES.min == int(INSTANCES.min) and INSTANCES.max == int(INSTANCES.max)


def test_the_scaled_object_runs_within_wedwatchs_instance_bounds() -> None:
    spec = _scaled_object()["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (INSTANCES.min, INSTANCES.max)


def test_the_hpa_runs_within_wedwatchs_instance_bounds() -> None:
    spec = _hpa()["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (INSTANCES.min, INSTANCES.max)


def test_the_shipped_wedwatch_config_keeps_the_default_instance_bounds() -> None:
    # The components copy the defaults; a base config that changed them would leave them behind.
    config = yaml.safe_load((KUBERNETES_DIR / "base" / "wedwatch.yml").read_text(encoding="utf-8"))
    instances = (config.get("actions") or {}).get("capacity", {}).get("instances")
    assert instances is None or (instances["min"], instances["max"]) == (INSTANCES.min, INSTANCES.max)


def test_the_trigger_reads_wedwatchs_instance_target_from_prometheus() -> None:
    trigger = _trigger()
    assert trigger["type"] == "prometheus"
    metadata = trigger["metadata"]
    assert "wedwatch_capacity_target" in metadata["query"]
    # One value however many receiver replicas export it (KEDA refuses a multi-element result).
    assert metadata["query"] == QUERY
    assert re.fullmatch(r"https?://[^\s/]+(:\d+)?(/\S*)?", metadata["serverAddress"])
    assert set(metadata) <= PROMETHEUS_TRIGGER_PARAMETERS, set(metadata) - PROMETHEUS_TRIGGER_PARAMETERS
    # A lost target is an error (then the fallback), not a zero that scales to the minimum.
    assert metadata["ignoreNullValues"] == "false"


def test_the_adapter_rule_is_what_prometheus_adapter_accepts() -> None:
    rule = _adapter_rule()
    jsonschema.validate(rule, ADAPTER_RULE_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**rule, "metricQuery": rule["metricsQuery"]}, ADAPTER_RULE_SCHEMA)
    assert rule["resources"]["namespaced"] is False
    assert "wedwatch_capacity_target" in rule["seriesQuery"]


def _adapter_query(rule: dict[str, Any], selector: dict[str, Any]) -> str:
    """The PromQL prometheus-adapter runs for an External metric (pkg/naming/metrics_query.go, BuildExternal).

    The selector's requirements become `label="value"` matchers in the order of their keys, and
    with `namespaced: false` no namespace matcher is added. Only what the rule uses is implemented.
    """
    assert set(selector) == {"matchLabels"}, "matchExpressions are not used here"
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(selector["matchLabels"].items()))
    assert rule["resources"].get("namespaced") is False, "a namespaced rule would add namespace=<the HPA's>"
    template = rule["metricsQuery"]
    assert set(re.findall(r"<<(.*?)>>", template)) <= {".Series", ".LabelMatchers"}, template
    series = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{.*\}", rule["seriesQuery"].strip("'\""))
    assert series, rule["seriesQuery"]
    return template.replace("<<.Series>>", series[1]).replace("<<.LabelMatchers>>", matchers)


def test_the_hpa_reads_the_same_query_as_keda() -> None:
    rule = _adapter_rule()
    (metric,) = _hpa()["spec"]["metrics"]
    assert metric["type"] == "External"
    name = metric["external"]["metric"]["name"]
    # The adapter names the metric `as`, from series names that `matches`.
    assert name == rule["name"]["as"] and re.search(rule["name"]["matches"], "wedwatch_capacity_target")
    assert _adapter_query(rule, metric["external"]["metric"]["selector"]) == _trigger()["metadata"]["query"] == QUERY


# --- the arithmetic: replicas = target ---------------------------------------------------------------


def _hpa_desired(
    current: int, values: list[float], average_value: float, tolerance: float, spec: dict[str, int]
) -> int:
    """The HPA's replicas for one External metric with an AverageValue target.

    ReplicaCalculator.GetExternalPerPodMetricReplicas (kubernetes pkg/controller/podautoscaler):
    the values are summed as milli-quantities; when the ratio to what runs lies within the
    tolerance the replicas stay, otherwise they become ceil(sum / averageValue). Then the HPA
    clamps to [min, max]. Stabilization and rate policies only delay this value.
    """
    usage = sum(round(v * 1000) for v in values)
    target_per_pod = round(average_value * 1000)
    ratio = usage / (target_per_pod * current)
    desired = current if (1.0 - tolerance) <= ratio <= (1.0 + tolerance) else math.ceil(usage / target_per_pod)
    return max(spec["min"], min(spec["max"], desired))


def _scaling(behavior: dict[str, Any]) -> tuple[float, float]:
    return float(behavior["scaleUp"]["tolerance"]), float(behavior["scaleDown"]["tolerance"])


def _keda_as_hpa() -> tuple[float, float, dict[str, int]]:
    """The threshold, the tolerance and the bounds of the HPA KEDA makes of the ScaledObject."""
    spec = _scaled_object()["spec"]
    trigger = _trigger()
    # KEDA's default metricType is AverageValue; written out, and required for the fallback.
    assert trigger["metricType"] == "AverageValue"
    up, down = _scaling(spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"])
    assert up == down
    bounds = {"min": spec["minReplicaCount"], "max": spec["maxReplicaCount"]}
    return float(trigger["metadata"]["threshold"]), up, bounds


def _hpa_as_shipped() -> tuple[float, float, dict[str, int]]:
    spec = _hpa()["spec"]
    (metric,) = spec["metrics"]
    assert metric["external"]["target"]["type"] == "AverageValue"
    up, down = _scaling(spec["behavior"])
    assert up == down
    return (
        float(metric["external"]["target"]["averageValue"]),
        up,
        {"min": spec["minReplicas"], "max": spec["maxReplicas"]},
    )


BOUNDS = range(int(INSTANCES.min), int(INSTANCES.max) + 1)


@pytest.mark.parametrize("shipped", [_keda_as_hpa, _hpa_as_shipped], ids=["keda", "hpa"])
def test_replicas_equal_the_target_from_any_replica_count(shipped: Any) -> None:
    average_value, tolerance, bounds = shipped()
    for current, target in itertools.product(BOUNDS, BOUNDS):
        # Several receiver replicas export the same target; the query's `max` returns one value.
        assert _hpa_desired(current, [target], average_value, tolerance, bounds) == target, (current, target)


def test_without_the_tolerance_the_hpa_would_miss_the_target_once_within_the_default_bounds() -> None:
    # Why the components set `tolerance: "0"`, and what docs/kubernetes.md says happens without it:
    # the default 10 % leaves exactly one case within 2-10 instances, 10 running for a target of 9.
    average_value, _, bounds = _keda_as_hpa()
    missed = {
        (current, target)
        for current, target in itertools.product(BOUNDS, BOUNDS)
        if _hpa_desired(current, [target], average_value, 0.1, bounds) != target
    }
    assert missed == {(10, 9)}


def test_summed_values_would_multiply_the_target() -> None:
    # Why the query is `max(...)`: the HPA adds up every value the metric returns.
    average_value, tolerance, bounds = _hpa_as_shipped()
    assert _hpa_desired(2, [3, 3], average_value, tolerance, bounds) == 6


def test_the_fallback_keeps_what_runs() -> None:
    spec = _scaled_object()["spec"]
    fallback = spec["fallback"]
    assert fallback["behavior"] == "currentReplicasIfHigher"
    assert fallback["replicas"] == spec["minReplicaCount"]
    # KEDA's fallback reports threshold × replicas (pkg/fallback/fallback.go): the HPA then computes
    # exactly those replicas.
    average_value, tolerance, bounds = _keda_as_hpa()
    for current in BOUNDS:
        replicas = max(current, fallback["replicas"])
        assert _hpa_desired(current, [average_value * replicas], average_value, tolerance, bounds) == current


def test_scaling_up_reaches_the_target_in_one_step() -> None:
    for behavior in (
        _scaled_object()["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"],
        _hpa()["spec"]["behavior"],
    ):
        up = behavior["scaleUp"]
        assert up["stabilizationWindowSeconds"] == 0
        (policy,) = up["policies"]
        # From the minimum to the maximum within one period.
        assert policy["type"] == "Percent" and INSTANCES.min * (1 + policy["value"] / 100) >= INSTANCES.max


# --- the real KEDA CRD -------------------------------------------------------------------------------


def test_the_scaled_object_validates_against_the_real_keda_crd() -> None:
    assert crd_schemas.errors(_scaled_object()) == []


def _misspelt(path: str, field: str) -> dict[str, Any]:
    """The ScaledObject with `field` added at a dotted path (list indexes as numbers)."""
    changed = copy.deepcopy(_scaled_object())
    node: Any = changed
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[field] = "2"
    return changed


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("spec", "minReplicaCont"),
        ("spec", "maxReplicas"),  # the HPA's name for it, not KEDA's
        ("spec.triggers.0", "metdata"),
        ("spec.triggers.0", "metrictype"),
        ("spec.scaleTargetRef", "namespace"),
        ("spec.fallback", "behaviour"),
        ("spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp", "tolerence"),
    ],
)
def test_a_misspelt_scaled_object_field_is_rejected(path: str, field: str) -> None:
    errors = crd_schemas.errors(_misspelt(path, field))
    assert any(f"'{field}' was unexpected" in e for e in errors), errors


def test_the_keda_crd_rules_are_enforced() -> None:
    scaled = _scaled_object()
    too_high = copy.deepcopy(scaled)
    too_high["spec"]["minReplicaCount"] = too_high["spec"]["maxReplicaCount"] + 1
    assert any(
        "minReplicaCount must be less than or equal to maxReplicaCount" in e for e in crd_schemas.errors(too_high)
    )
    bad_enum = copy.deepcopy(scaled)
    bad_enum["spec"]["fallback"]["behavior"] = "keep"
    assert any("is not one of" in e for e in crd_schemas.errors(bad_enum))
    no_target = copy.deepcopy(scaled)
    del no_target["spec"]["scaleTargetRef"]
    assert any("'scaleTargetRef' is a required property" in e for e in crd_schemas.errors(no_target))
    not_a_quantity = copy.deepcopy(scaled)
    not_a_quantity["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleUp"]["tolerance"] = "none"
    assert any("does not match" in e for e in crd_schemas.errors(not_a_quantity))


def test_trigger_metadata_is_a_string_map_in_the_crd() -> None:
    # The CRD accepts any key in trigger metadata (so the list of the scaler's parameters above
    # does that job), but only strings: `threshold: 1` unquoted would be refused by the API server.
    scaled = _scaled_object()
    scaled["spec"]["triggers"][0]["metadata"]["threshold"] = 1
    assert any("is not of type 'string'" in e for e in crd_schemas.errors(scaled))
