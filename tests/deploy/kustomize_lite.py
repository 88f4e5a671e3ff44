"""A small kustomize: enough of `kustomize build` for deploy/kubernetes/, with no binary.

`build()` renders a kustomization with the features deploy/kubernetes/ uses (resources,
components, namespace, labels, configMapGenerator, images, replicas, replacements, JSON 6902
`add`/`replace`/`remove` patches), in kustomize's order, and refuses any other field so that a new feature
cannot slip past the tests. Generated ConfigMaps keep their plain name (kustomize appends a
content hash; `strip_hashes` removes it from the real kustomize's output when the tests compare
the two, which they do whenever `kustomize` or `kubectl` is installed).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_KNOWN_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "resources",
        "components",
        "namespace",
        "labels",
        "configMapGenerator",
        "images",
        "replicas",
        "replacements",
        "patches",
    }
)
_WORKLOADS_WITH_REPLICAS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
_POD_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})
_SEGMENT = re.compile(r"^\[(?P<key>[^=\]]+)=(?P<value>[^\]]*)\]$")


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a file, each required to be a mapping."""
    docs = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"{path}: a document is a {type(doc).__name__}, not a mapping"
    return docs


def kustomization_file(directory: Path) -> Path:
    """The kustomization file of a directory (kustomize accepts three names)."""
    found = [directory / name for name in KUSTOMIZATION_NAMES if (directory / name).is_file()]
    assert len(found) == 1, f"{directory}: expected one kustomization file, found {[p.name for p in found]}"
    return found[0]


def read_kustomization(directory: Path) -> dict[str, Any]:
    """A kustomization's fields, refusing those `build` does not implement."""
    path = kustomization_file(directory)
    (doc,) = load_documents(path)
    unknown = set(doc) - _KNOWN_FIELDS
    assert not unknown, f"{path}: fields {sorted(unknown)} are not understood by tests/deploy/kustomize_lite.py"
    return doc


def key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name): how a rendered object is looked up."""
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def build(directory: Path) -> list[dict[str, Any]]:
    """Render the kustomization in `directory` the way `kustomize build` would (see the module doc)."""
    kustomization = read_kustomization(directory)
    assert kustomization.get("kind", "Kustomization") == "Kustomization", f"{directory} is a Component, not buildable"
    return _apply(directory, kustomization, [])


def _apply(directory: Path, kustomization: Mapping[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    objects = [*objects]
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        assert path.exists(), f"{directory}: resource {entry} does not exist"
        objects += build(path) if path.is_dir() else _resource_file(path)
    for entry in kustomization.get("components", []):
        path = (directory / entry).resolve()
        assert path.is_dir(), f"{directory}: component {entry} is not a directory"
        component = read_kustomization(path)
        assert component.get("kind") == "Component", f"{path}: a component's kind must be Component"
        objects = _apply(path, component, objects)
    for generator in kustomization.get("configMapGenerator", []):
        objects.append(_config_map(directory, generator))
    # kustomize's built-in transformer order: patches, namespace, labels, replicas, images, replacements.
    for patch in kustomization.get("patches", []):
        _patch(objects, patch)
    if "namespace" in kustomization:
        for obj in objects:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    for labels in kustomization.get("labels", []):
        _label(objects, labels)
    for replica in kustomization.get("replicas", []):
        matched = [
            o for o in objects if o["kind"] in _WORKLOADS_WITH_REPLICAS and o["metadata"]["name"] == replica["name"]
        ]
        assert matched, f"{directory}: replicas names {replica['name']}, which no workload is"
        for obj in matched:
            obj["spec"]["replicas"] = replica["count"]
    for image in kustomization.get("images", []):
        _image(objects, image)
    for replacement in kustomization.get("replacements", []):
        _replace(objects, replacement)
    _check_unique(directory, objects)
    return objects


def _resource_file(path: Path) -> list[dict[str, Any]]:
    docs = load_documents(path)
    assert docs, f"{path}: no objects"
    for doc in docs:
        for field in ("apiVersion", "kind", "metadata"):
            assert field in doc, f"{path}: an object without {field}"
        assert doc["metadata"].get("name"), f"{path}: a {doc['kind']} without a name"
    return copy.deepcopy(docs)


def _config_map(directory: Path, generator: Mapping[str, Any]) -> dict[str, Any]:
    assert set(generator) <= {"name", "files"}, f"{directory}: configMapGenerator fields {sorted(generator)}"
    data: dict[str, str] = {}
    for entry in generator["files"]:
        name, _, file = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
        path = directory / file
        assert path.is_file(), f"{directory}: configMapGenerator file {file} does not exist"
        data[name] = path.read_text(encoding="utf-8")
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}


def _label(objects: list[dict[str, Any]], spec: Mapping[str, Any]) -> None:
    assert not spec.get("includeSelectors", False), "labels in selectors are not implemented (and immutable)"
    pairs = spec["pairs"]
    for obj in objects:
        obj["metadata"].setdefault("labels", {}).update(pairs)
        if spec.get("includeTemplates") and obj["kind"] in _POD_TEMPLATE_KINDS:
            obj["spec"]["template"]["metadata"].setdefault("labels", {}).update(pairs)


def _image(objects: list[dict[str, Any]], spec: Mapping[str, Any]) -> None:
    for container in containers(objects):
        name, suffix = _split_image(container["image"])
        if name == spec["name"]:
            tag = f":{spec['newTag']}" if "newTag" in spec else suffix
            container["image"] = spec.get("newName", name) + tag


def _split_image(image: str) -> tuple[str, str]:
    """`registry/name:tag` or `name@digest` -> (name with its registry, `:tag` or `@digest`)."""
    if "@" in image:
        name, _, digest = image.partition("@")
        return name, f"@{digest}"
    slash, colon = image.rfind("/"), image.rfind(":")
    return (image[:colon], image[colon:]) if colon > slash else (image, "")


def _patch(objects: list[dict[str, Any]], spec: Mapping[str, Any]) -> None:
    target = spec["target"]
    assert set(target) <= {"group", "version", "kind", "name"}, f"patch target {target}"
    operations = yaml.safe_load(spec["patch"])
    assert isinstance(operations, list), "only JSON 6902 patches (a list of operations) are implemented"
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        actual = {"group": group, "version": version, "kind": obj["kind"], "name": obj["metadata"]["name"]}
        if any(actual[field] != value for field, value in target.items()):
            continue
        for op in operations:
            assert op["op"] in ("add", "replace", "remove"), f"JSON 6902 op {op['op']} is not implemented"
            *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in op["path"].split("/")[1:]]
            node = obj
            for part in parents:
                if isinstance(node, list):
                    node = node[int(part)]
                else:
                    node = node.setdefault(part, {}) if op["op"] == "add" else node[part]
            if isinstance(node, list):
                assert last.isdigit(), f"JSON 6902 path {op['path']}: list index {last} is not implemented"
                index = int(last)
                if op["op"] == "remove":
                    del node[index]
                elif op["op"] == "add":
                    node.insert(index, copy.deepcopy(op["value"]))
                else:
                    node[index] = copy.deepcopy(op["value"])
            elif op["op"] == "remove":
                assert last in node, f"JSON 6902 remove: {op['path']} does not exist"
                del node[last]
            else:
                if op["op"] == "replace":
                    assert last in node, f"JSON 6902 replace: {op['path']} does not exist"
                node[last] = copy.deepcopy(op["value"])


def _walk(node: Any, path: str) -> tuple[Any, str | int]:
    """The container of the field at a kustomize field path (`a.b.[name=x].c`) and the field's key."""
    parts = path.split(".")
    for part in parts[:-1]:
        node = _step(node, part)
    return node, parts[-1]


def _step(node: Any, part: str) -> Any:
    match = _SEGMENT.match(part)
    if match is None:
        return node[part]
    found = [item for item in node if str(item.get(match["key"])) == match["value"]]
    assert len(found) == 1, f"field path segment {part} matched {len(found)} items"
    return found[0]


def _select(objects: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]


def _replace(objects: list[dict[str, Any]], spec: Mapping[str, Any]) -> None:
    source = spec["source"]
    (origin,) = _select(objects, source["kind"], source["name"])
    parent, field = _walk(origin, source["fieldPath"])
    value = parent[field]
    for target in spec["targets"]:
        selected = _select(objects, target["select"]["kind"], target["select"]["name"])
        assert selected, f"replacement target {target['select']} selects nothing"
        options = target.get("options", {})
        for obj in selected:
            for field_path in target["fieldPaths"]:
                parent, field = _walk(obj, field_path)
                if "delimiter" in options:
                    pieces = str(parent[field]).split(options["delimiter"])
                    pieces[options.get("index", 0)] = str(value)
                    parent[field] = options["delimiter"].join(pieces)
                else:
                    parent[field] = copy.deepcopy(value)


def _check_unique(directory: Path, objects: Sequence[Mapping[str, Any]]) -> None:
    seen = [key(o) for o in objects]
    duplicates = {k for k in seen if seen.count(k) > 1}
    assert not duplicates, f"{directory}: objects defined twice: {sorted(duplicates)}"


def containers(objects: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every container and init container of every pod template."""
    for obj in objects:
        if obj["kind"] in _POD_TEMPLATE_KINDS:
            pod = obj["spec"]["template"]["spec"]
            yield from pod.get("initContainers", [])
            yield from pod["containers"]


def pod_templates(objects: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """The workloads that have a pod template."""
    return (o for o in objects if o["kind"] in _POD_TEMPLATE_KINDS)


def kustomize_command() -> list[str] | None:
    """`kustomize build` or `kubectl kustomize` when either is installed, else None."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def kustomize_render(command: Sequence[str], directory: Path) -> list[dict[str, Any]]:
    """Objects rendered by the real kustomize, generated names without their hash."""
    done = subprocess.run([*command, str(directory)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return strip_hashes([d for d in yaml.load_all(done.stdout, Loader=_KustomizeOutputLoader) if d is not None])


class _KustomizeOutputLoader(yaml.SafeLoader):
    """kustomize writes `matchType: =` unquoted, which PyYAML reads as YAML 1.1's `value` tag."""


_KustomizeOutputLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def strip_hashes(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace every generated ConfigMap's `name-<hash>` by `name`, wherever it is referenced."""
    text = json.dumps(objects)
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            hashed = obj["metadata"]["name"]
            plain = re.sub(r"-[a-z0-9]{10}$", "", hashed)
            text = text.replace(json.dumps(hashed), json.dumps(plain))
    result: list[dict[str, Any]] = json.loads(text)
    return result
