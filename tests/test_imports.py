"""No import cycle between the modules of src/wedwatch, nor between its packages (issue 20).

A failure names each cycle with the file and line of every import on it. The graph is read from the source with `ast`, without importing anything. What counts as an edge:

* every `import` and `from … import` statement anywhere in a module: at the top, inside functions
  (a lazy import) and under `if TYPE_CHECKING:`. Deferring an import keeps Python from failing
  on a cycle, it does not remove the cycle: the two modules still cannot be understood, tested
  or moved one without the other. So a deferred import counts as much as a top-level one.
* `import a.b.c` is an edge to `a.b.c`; `from a.b import c` is an edge to `a.b.c` when that is a
  module (a file or a package), otherwise to `a.b` (c is a name defined there); relative imports
  are resolved against the importing module's package. Importing a package is importing its
  `__init__.py`.
* No edge to the parent packages that Python initialises on the way (`from a.b.c import x` also
  runs `a/__init__` and `a/b/__init__`): every submodule would otherwise form a cycle with its
  own package's `__init__` re-exporting it, which Python handles and nobody calls a cycle.
* Dynamic imports (`importlib.import_module(f"…")`) are not seen; wedwatch.forecast's lazy
  names are also imported under TYPE_CHECKING, so its edges are in the graph anyway.

Between packages, each subpackage of wedwatch (and each top-level module) is one node: two
packages that import each other through different modules (calendar.sources -> store,
store.base -> calendar.model) are a cycle too, though no module is on one.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
PACKAGE = "wedwatch"

# Cycles that remain in code being reworked under issue 20 ("Receiver without cycles"), each
# written as the modules it passes through with its first module repeated at the end; its last
# import (back to the first module) is the one tolerated, and only that one. Any other cycle
# fails the test, and so does an entry whose imports are gone: delete it when you break it.
KNOWN_CYCLES: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Edge:
    """`source` imports `target` at `line`."""

    source: str
    target: str
    line: int


def module_files(src: Path = SRC, package: str = PACKAGE) -> dict[str, Path]:
    """{dotted module name: file} of every module of the package; a package is its __init__.py."""
    modules: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(module: str, modules: Mapping[str, Path]) -> bool:
    return modules[module].name == "__init__.py"


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """`name` itself or its longest prefix that is one of our modules (`a.b.name_in_b` -> `a.b`)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, modules: Mapping[str, Path]) -> Iterator[Edge]:
    """The edges from `module` to other modules of the package, wherever the import statement is."""
    tree = ast.parse(modules[module].read_text(encoding="utf-8"), filename=str(modules[module]))
    package = module if _is_package(module, modules) else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name, modules)
                if target is not None:
                    yield Edge(module, target, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            if base != PACKAGE and not base.startswith(PACKAGE + "."):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in modules else _known(base, modules)
                if target is None:
                    raise AssertionError(f"{modules[module]}:{node.lineno}: imports {base}, which does not exist")
                yield Edge(module, target, node.lineno)


def import_graph(modules: Mapping[str, Path]) -> dict[str, dict[str, Edge]]:
    """{module: {imported module: first such import}}, self-imports left out."""
    graph: dict[str, dict[str, Edge]] = {module: {} for module in modules}
    for module in modules:
        for edge in imports_of(module, modules):
            if edge.target != module:
                graph[module].setdefault(edge.target, edge)
    return graph


def strongly_connected(graph: Mapping[str, Mapping[str, Edge]]) -> list[list[str]]:
    """The components of more than one module (Tarjan's algorithm, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def shortest_cycle(graph: Mapping[str, Mapping[str, Edge]], start: str) -> list[str]:
    """The shortest cycle through `start`, as modules with `start` at both ends ([] if none)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return []


def describe(
    cycle: tuple[str, ...] | list[str], graph: Mapping[str, Mapping[str, Edge]], modules: Mapping[str, Path]
) -> str:
    """The cycle on one line, then one line per import on it: `src/wedwatch/a.py:12 imports wedwatch.b`."""
    lines = [" -> ".join(cycle)]
    for source, target in zip(cycle, cycle[1:], strict=False):
        edge = graph[source][target]  # for a package graph, the first import between the two
        path = modules[edge.source]
        shown = path.relative_to(SRC.parent) if path.is_relative_to(SRC.parent) else path
        lines.append(f"    {shown}:{edge.line} imports {edge.target}")
    return "\n".join(lines)


def _normalised(cycle: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A closed cycle rotated to start at its smallest module, so that rotations compare equal."""
    ring = list(cycle[:-1])
    first = ring.index(min(ring))
    ring = ring[first:] + ring[:first]
    return (*ring, ring[0])


def _without_edges(
    graph: Mapping[str, Mapping[str, Edge]], dropped: set[tuple[str, str]]
) -> dict[str, dict[str, Edge]]:
    return {
        source: {t: e for t, e in targets.items() if (source, t) not in dropped} for source, targets in graph.items()
    }


def cycles_in(graph: Mapping[str, Mapping[str, Edge]]) -> list[list[str]]:
    """Enough cycles to name every module that is on one: the shortest through each, without repeats."""
    cycles: dict[tuple[str, ...], list[str]] = {}
    for component in strongly_connected(graph):
        for module in component:
            cycle = shortest_cycle(graph, module)
            cycles.setdefault(_normalised(cycle), cycle)
    return list(cycles.values())


def unexpected_cycles(graph: Mapping[str, Mapping[str, Edge]], known: tuple[tuple[str, ...], ...]) -> list[list[str]]:
    """Cycles that remain once each known cycle is opened: its last import (the one back to its
    first module) dropped from the graph."""
    closing = {(cycle[-2], cycle[-1]) for cycle in known}
    return cycles_in(_without_edges(graph, closing))


def package_of(module: str) -> str:
    """The part of wedwatch a module belongs to: `wedwatch.store.base` -> `wedwatch.store`;
    a top-level module (`wedwatch.errors`) is a part of its own."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: Mapping[str, Mapping[str, Edge]]) -> dict[str, dict[str, Edge]]:
    """The module graph with each package collapsed into one node (first import kept per pair)."""
    packages: dict[str, dict[str, Edge]] = {package_of(module): {} for module in graph}
    for source in sorted(graph):
        for target, edge in sorted(graph[source].items()):
            if package_of(source) != package_of(target):
                packages[package_of(source)].setdefault(package_of(target), edge)
    return packages


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return module_files()


@pytest.fixture(scope="module")
def graph(modules: dict[str, Path]) -> dict[str, dict[str, Edge]]:
    return import_graph(modules)


def test_no_import_cycle(graph: dict[str, dict[str, Edge]], modules: dict[str, Path]) -> None:
    cycles = unexpected_cycles(graph, KNOWN_CYCLES)
    assert not cycles, "import cycles between modules of src/wedwatch:\n" + "\n".join(
        describe(cycle, graph, modules) for cycle in cycles
    )


def test_no_import_cycle_between_packages(graph: dict[str, dict[str, Edge]], modules: dict[str, Path]) -> None:
    # Stricter than between modules: calendar.sources imported the store's Store while the store
    # imported calendar.model, a cycle between the packages through no single module.
    packages = package_graph(graph)
    cycles = cycles_in(packages)
    assert not cycles, "import cycles between packages of src/wedwatch (one import shown per step):\n" + "\n".join(
        describe(cycle, packages, modules) for cycle in cycles
    )


def stale_entries(known: tuple[tuple[str, ...], ...], graph: Mapping[str, Mapping[str, Edge]]) -> list[str]:
    """Why each entry of `known` that is not a closed path of imports in `graph` is wrong."""
    stale = []
    for cycle in known:
        if len(cycle) <= 2 or cycle[0] != cycle[-1]:
            stale.append(f"{cycle}: write it as a closed path, first module repeated")
            continue
        missing = [f"{a} -> {b}" for a, b in zip(cycle, cycle[1:], strict=False) if b not in graph.get(a, {})]
        if missing:
            stale.append(f"{' -> '.join(cycle)}: no longer imports {', '.join(missing)}; remove it")
    return stale


def test_every_known_cycle_still_exists(graph: dict[str, dict[str, Edge]]) -> None:
    stale = stale_entries(KNOWN_CYCLES, graph)
    assert not stale, "stale KNOWN_CYCLES entries:\n" + "\n".join(stale)


def test_known_cycles_are_distinct() -> None:
    assert len({_normalised(cycle) for cycle in KNOWN_CYCLES}) == len(KNOWN_CYCLES)


# -- the walker itself, on a small package written for the purpose ----------------------------


Written = tuple[dict[str, Path], dict[str, dict[str, Edge]]]
WritePackage = Callable[[Mapping[str, str]], Written]


@pytest.fixture
def write_package(tmp_path: Path) -> WritePackage:
    """Write a `wedwatch` package ({path: source}, an empty wedwatch/__init__.py added) under
    tmp_path; its modules and import graph."""

    def write(files: Mapping[str, str]) -> Written:
        for name, text in {"wedwatch/__init__.py": "", **files}.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        modules = module_files(tmp_path, PACKAGE)
        return modules, import_graph(modules)

    return write


def test_walker_resolves_submodules_names_packages_and_relative_imports(write_package: WritePackage) -> None:
    _, graph = write_package(
        {
            "wedwatch/a/__init__.py": "from wedwatch.a.one import ONE\nfrom wedwatch.a.three import THREE\n",
            "wedwatch/a/one.py": "ONE = 1\n",
            "wedwatch/a/three.py": "from wedwatch.a.one import ONE\nTHREE = ONE\n",
            "wedwatch/a/two.py": (
                "from typing import TYPE_CHECKING\n"
                "from wedwatch.a import one\n"  # a submodule
                "from wedwatch.a import ONE\n"  # a name: the package's __init__
                "from . import one as again\n"
                "from ..b import thing\n"
                "if TYPE_CHECKING:\n"
                "    import wedwatch.b.deep\n"
                "def later():\n"
                "    from wedwatch import c\n"
            ),
            "wedwatch/b/__init__.py": "thing = 1\n",
            "wedwatch/b/deep.py": "",
            "wedwatch/c.py": "import json\nfrom wedwatch.b.deep import *\n",
        }
    )
    assert {t: e.line for t, e in graph["wedwatch.a.two"].items()} == {
        "wedwatch.a.one": 2,
        "wedwatch.a": 3,
        "wedwatch.b": 5,
        "wedwatch.b.deep": 7,
        "wedwatch.c": 9,
    }
    assert set(graph["wedwatch.c"]) == {"wedwatch.b.deep"}
    # A submodule that its package's __init__ re-exports is not on a cycle with it: importing a
    # sibling adds no edge to the parent package.
    assert set(graph["wedwatch.a.three"]) == {"wedwatch.a.one"}
    assert strongly_connected(graph) == []
    assert {p: set(targets) for p, targets in package_graph(graph).items()} == {
        "wedwatch": set(),
        "wedwatch.a": {"wedwatch.b", "wedwatch.c"},
        "wedwatch.b": set(),
        "wedwatch.c": {"wedwatch.b"},
    }


def test_walker_finds_and_names_a_cycle_through_a_deferred_import(write_package: WritePackage) -> None:
    modules, graph = write_package(
        {
            "wedwatch/app.py": "from wedwatch.page import render\nKEY = 1\n",
            "wedwatch/page.py": "def render():\n    from wedwatch.keys import KEY\n",
            "wedwatch/keys.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from wedwatch.app import KEY\n",
            "wedwatch/free.py": "from wedwatch import app\n",
        }
    )
    assert strongly_connected(graph) == [["wedwatch.app", "wedwatch.keys", "wedwatch.page"]]
    cycles = unexpected_cycles(graph, ())
    assert cycles == [["wedwatch.app", "wedwatch.page", "wedwatch.keys", "wedwatch.app"]]
    assert "wedwatch/page.py:2 imports wedwatch.keys" in describe(cycles[0], graph, modules).replace("\\", "/")
    # Listing it opens it (its last import, page -> keys, is dropped).
    assert unexpected_cycles(graph, (("wedwatch.keys", "wedwatch.app", "wedwatch.page", "wedwatch.keys"),)) == []
    assert _normalised(("wedwatch.page", "wedwatch.keys", "wedwatch.app", "wedwatch.page")) == tuple(cycles[0])


def test_walker_finds_a_cycle_between_packages_through_no_single_module(write_package: WritePackage) -> None:
    modules, graph = write_package(
        {
            "wedwatch/calendar/__init__.py": "",
            "wedwatch/calendar/model.py": "",
            "wedwatch/calendar/sources.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from wedwatch.store import Store\n",
            "wedwatch/store/__init__.py": "from wedwatch.store.base import Store\n",
            "wedwatch/store/base.py": "from wedwatch.calendar.model import Wedding\n",
        }
    )
    assert cycles_in(graph) == []
    packages = package_graph(graph)
    assert cycles_in(packages) == [["wedwatch.calendar", "wedwatch.store", "wedwatch.calendar"]]
    text = describe(cycles_in(packages)[0], packages, modules).replace("\\", "/")
    assert "wedwatch/calendar/sources.py:3 imports wedwatch.store\n" in text
    assert "wedwatch/store/base.py:1 imports wedwatch.calendar.model" in text


def test_a_known_cycle_is_stale_once_an_import_on_it_is_gone(write_package: WritePackage) -> None:
    _, graph = write_package(
        {
            "wedwatch/app.py": "from wedwatch.page import render\nKEY = 1\n",
            "wedwatch/page.py": "def render():\n    from wedwatch.app import KEY\n",
            "wedwatch/keys.py": "",
        }
    )
    assert stale_entries((("wedwatch.app", "wedwatch.page", "wedwatch.app"),), graph) == []
    assert stale_entries(
        (("wedwatch.app", "wedwatch.keys", "wedwatch.app"), ("wedwatch.app", "wedwatch.page")), graph
    ) == [
        "wedwatch.app -> wedwatch.keys -> wedwatch.app: no longer imports wedwatch.app -> wedwatch.keys,"
        " wedwatch.keys -> wedwatch.app; remove it",
        "('wedwatch.app', 'wedwatch.page'): write it as a closed path, first module repeated",
    ]
