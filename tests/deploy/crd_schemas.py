"""Validate custom resources against the real CRDs in tests/deploy/schemas/, strictly, offline.

A CRD's `openAPIV3Schema` is what the API server validates a custom resource with, but the server
then *prunes* fields the schema does not list instead of refusing them: a misspelt field vanishes
silently. `kubectl apply --validate=strict` refuses them. `validator()` does what the strict
client does, with `jsonschema`:

- the structural schema is converted to JSON Schema (draft 2020-12): `nullable` becomes a `null`
  type, `x-kubernetes-list-type: set` becomes `uniqueItems`, list-map keys must be unique;
- **unknown fields are refused**: every object schema that does not say otherwise (an
  `additionalProperties` of its own, or `x-kubernetes-preserve-unknown-fields: true`) gets
  `additionalProperties: false`, including object schemas with no `properties` at all, whose
  every field the API server would prune;
- `apiVersion` and `kind` must name the CRD and one of its served versions; `metadata` (a bare
  `type: object` in every CRD: the server validates it as ObjectMeta) is checked by the caller
  against Kubernetes' own ObjectMeta schema (see test_deploy_manifests.py);
- CEL rules (`x-kubernetes-validations`) cannot be evaluated here: each rule the vendored schemas
  contain is translated by hand in `CEL_RULES`, and loading a schema with a rule that is not
  translated fails, so a schema update cannot bring an unchecked rule in silently.

Any schema keyword this module does not know fails the conversion for the same reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMAS_DIR = Path(__file__).parent / "schemas"

# Keywords copied as they are (their meaning is the same in OpenAPI v3.0 and JSON Schema 2020-12).
_KEPT = frozenset(
    {"enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "required", "format"}
)
# Documentation, defaulting (the server's job, not validation) and hints to server-side apply.
_IGNORED = frozenset({"description", "default", "example", "title", "x-kubernetes-map-type"})
# Handled one by one below.
_HANDLED = frozenset(
    {
        "type",
        "nullable",
        "properties",
        "additionalProperties",
        "items",
        "anyOf",
        "allOf",
        "oneOf",
        "not",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-validations",
    }
)


def _object(value: Any) -> bool:
    return isinstance(value, dict)


# --- CEL rules, translated by hand ---------------------------------------------------------------
# Each entry: the rule exactly as the CRD writes it -> a Python predicate over the object it is
# attached to. Only these may appear in the vendored schemas (`check_cel_rules_are_translated`).
CEL_RULES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    # keda.sh ScaledObject spec: KEDA's default maxReplicaCount is 100.
    "!has(self.minReplicaCount) || self.minReplicaCount <= (has(self.maxReplicaCount) ? self.maxReplicaCount : 100)": (
        lambda spec: "minReplicaCount" not in spec or spec["minReplicaCount"] <= spec.get("maxReplicaCount", 100)
    ),
    # monitoring.coreos.com AlertmanagerConfig, receivers[].snsConfigs[].sigv4.
    "!has(self.externalId) || has(self.roleArn)": lambda sigv4: "externalId" not in sigv4 or "roleArn" in sigv4,
}


def _list_map_keys(
    validator: jsonschema.protocols.Validator, keys: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """`x-kubernetes-list-map-keys`: the API server refuses two items with the same keys."""
    if not isinstance(instance, list):
        return
    seen: set[tuple[str, ...]] = set()
    for item in instance:
        if _object(item):
            identity = tuple(repr(item.get(k)) for k in keys)
            if identity in seen:
                yield jsonschema.ValidationError(f"duplicate entries for list-map keys {keys}: {identity}")
            seen.add(identity)


def _cel(
    validator: jsonschema.protocols.Validator, rules: list[dict[str, Any]], instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """`x-kubernetes-validations`, through the hand translations of `CEL_RULES`."""
    if not _object(instance):
        return
    for rule in rules:
        if not CEL_RULES[rule["rule"]](instance):
            yield jsonschema.ValidationError(rule.get("message") or f"failed rule: {rule['rule']}")


_StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {"x-kubernetes-list-map-keys": _list_map_keys, "x-kubernetes-validations": _cel},
)


_FLAGS = re.compile(r"\(\?([a-zA-Z]+)\)")


def _group_end(pattern: str, start: int) -> int:
    """Where the group enclosing `start` closes (or the pattern's length), skipping escapes and classes."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(pattern)


def go_pattern(pattern: str) -> str:
    """A CRD pattern (Go's RE2 syntax) for Python's `re`, which takes global flags only at the start.

    In RE2 an inline flag such as `(?i)` holds until its enclosing group closes; Python's scoped
    `(?i:...)` around the same stretch means the same thing.
    """
    while (match := _FLAGS.search(pattern)) and match.start() > 0:
        end = _group_end(pattern, match.end())
        pattern = f"{pattern[: match.start()]}(?{match[1]}:{pattern[match.end() : end]}){pattern[end:]}"
    return pattern


def to_json_schema(node: Mapping[str, Any], *, structural: bool = True) -> dict[str, Any]:
    """One node of a CRD's structural schema as strict JSON Schema (see the module doc).

    `structural` is false inside `anyOf`/`allOf`/`oneOf`/`not`: those branches only add value
    validations to the node that holds them and never declare its fields, so they are not closed.
    """
    unknown = set(node) - _KEPT - _IGNORED - _HANDLED
    assert not unknown, f"CRD schema keywords {sorted(unknown)} are not understood by tests/deploy/crd_schemas.py"
    out: dict[str, Any] = {k: v for k, v in node.items() if k in _KEPT}
    if "pattern" in node:
        out["pattern"] = go_pattern(node["pattern"])
    if "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in node:
        out["properties"] = {name: to_json_schema(sub) for name, sub in node["properties"].items()}
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        out["additionalProperties"] = to_json_schema(extra) if _object(extra) else extra
    elif structural and not preserve and (node.get("type") == "object" or "properties" in node):
        # The API server would prune any field not listed: refuse it instead.
        out["additionalProperties"] = False
    if "items" in node:
        out["items"] = to_json_schema(node["items"])
    for keyword in ("anyOf", "allOf", "oneOf"):
        if keyword in node:
            out[keyword] = [to_json_schema(branch, structural=False) for branch in node[keyword]]
    if "not" in node:
        out["not"] = to_json_schema(node["not"], structural=False)
    list_type = node.get("x-kubernetes-list-type")
    assert list_type in (None, "atomic", "set", "map"), f"x-kubernetes-list-type {list_type}"
    if list_type == "set":
        out["uniqueItems"] = True
    if list_type == "map":
        out["x-kubernetes-list-map-keys"] = list(node["x-kubernetes-list-map-keys"])
    if "x-kubernetes-validations" in node:
        out["x-kubernetes-validations"] = node["x-kubernetes-validations"]
    # x-kubernetes-int-or-string comes with its own `anyOf: [integer, string]` in every CRD here.
    if node.get("x-kubernetes-int-or-string"):
        assert "anyOf" in node, "x-kubernetes-int-or-string without anyOf"
    return out


class _CrdLoader(yaml.SafeLoader):
    """The Operator's CRDs write the enum value `=` unquoted, which PyYAML reads as YAML 1.1's `value` tag."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Crd:
    path: Path
    group: str
    kind: str
    # version name -> (served, openAPIV3Schema)
    versions: Mapping[str, tuple[bool, Mapping[str, Any]]]


@functools.cache
def crds() -> dict[tuple[str, str], Crd]:
    """Every vendored CRD, by (group, kind)."""
    found: dict[tuple[str, str], Crd] = {}
    for path in sorted(SCHEMAS_DIR.glob("*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_CrdLoader)
        assert doc["kind"] == "CustomResourceDefinition", path
        spec = doc["spec"]
        versions = {v["name"]: (bool(v["served"]), v["schema"]["openAPIV3Schema"]) for v in spec["versions"]}
        crd = Crd(path, spec["group"], spec["names"]["kind"], versions)
        found[(crd.group, crd.kind)] = crd
    return found


def cel_rules(node: Any) -> Iterator[str]:
    """Every CEL rule anywhere in a schema."""
    if isinstance(node, dict):
        for rule in node.get("x-kubernetes-validations", []):
            yield rule["rule"]
        for key, value in node.items():
            if key not in ("x-kubernetes-validations", "enum", "default", "example"):
                yield from cel_rules(value)
    elif isinstance(node, list):
        for item in node:
            yield from cel_rules(item)


def _alertmanager_routes(schema: dict[str, Any]) -> None:
    """Child routes as routes.

    The CRD cannot describe the recursion, so `spec.route.routes[]` preserves unknown fields; the
    Operator then decodes each child as a Route and refuses what a Route does not have. Checked
    here the same way, by pointing the children at the route's own schema.
    """
    route = schema["properties"]["spec"]["properties"]["route"]
    assert route["properties"]["routes"]["items"] == {}, "the AlertmanagerConfig CRD now types child routes"
    schema.setdefault("$defs", {})["route"] = route
    route["properties"]["routes"]["items"] = {"$ref": "#/$defs/route"}


_PATCHES: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
    ("monitoring.coreos.com", "AlertmanagerConfig"): _alertmanager_routes,
}


@functools.cache
def _validator(group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    crd = crds()[(group, kind)]
    served, source = crd.versions[version]
    assert served, f"{group}/{version} {kind} is not served by {crd.path.name}"
    bad_rules = set(cel_rules(source)) - set(CEL_RULES)
    assert not bad_rules, f"{crd.path.name}: CEL rules without a translation in CEL_RULES: {sorted(bad_rules)}"
    schema = to_json_schema(source)
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    schema["properties"]["kind"] = {"const": kind}
    # Every CRD has `metadata: {type: object}`; the server validates it as ObjectMeta, and so do the
    # tests (test_deploy_manifests.py, against Kubernetes' own schema).
    assert source["properties"]["metadata"] == {"type": "object"}, f"{crd.path.name}: metadata"
    schema["properties"]["metadata"] = {"type": "object"}
    schema["required"] = sorted({"apiVersion", "kind", "metadata", *schema.get("required", [])})
    if (group, kind) in _PATCHES:
        _PATCHES[(group, kind)](schema)
    _StrictValidator.check_schema(schema)
    validator: jsonschema.protocols.Validator = _StrictValidator(schema)
    return validator


def known(obj: Mapping[str, Any]) -> bool:
    """Whether a vendored CRD defines the object's kind."""
    group, _, _version = str(obj.get("apiVersion", "")).rpartition("/")
    return (group, obj.get("kind")) in crds()


def validator(obj: Mapping[str, Any]) -> jsonschema.protocols.Validator:
    """The strict validator for an object's apiVersion and kind (the CRD must be vendored)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    assert (group, obj["kind"]) in crds(), f"no CRD in {SCHEMAS_DIR} for {obj['apiVersion']} {obj['kind']}"
    return _validator(group, obj["kind"], version)


def errors(obj: Mapping[str, Any]) -> list[str]:
    """Every schema error of a custom resource, as `path: message` lines (empty when valid)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    crd = crds()[(group, obj["kind"])]
    if not crd.versions.get(version, (False, None))[0]:
        served = sorted(v for v, (on, _schema) in crd.versions.items() if on)
        return [f"apiVersion: {crd.kind} is served as {[f'{group}/{v}' for v in served]}, not {obj['apiVersion']}"]
    found = sorted(validator(obj).iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in found]
