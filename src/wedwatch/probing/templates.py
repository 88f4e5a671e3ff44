"""Templates of configured probes: `{name}` is a variable, `{{` and `}}` are literal braces.

Only `{identifier}` is a template; any other brace (GraphQL's `{ wedding { id } }`, a JSON
snippet) stays as written. Values go in as they are, never percent-encoded, so a captured
presigned URL can be a step's whole `url`. A string that is exactly one template keeps the value's
type, so `count: "{guests}"` is a number and a JSON body can carry numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Template", "parse_template", "JsonTemplate", "parse_json_template", "render_text"]

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal strings and variable names, in order."""

    text: str
    parts: tuple[str | _Var, ...]
    names: frozenset[str]

    @property
    def constant(self) -> bool:
        """True when the template names no variable."""
        return not self.names

    def render(self, values: Mapping[str, Any]) -> Any:
        """The filled value: a lone `{name}` keeps its type, anything else is text."""
        parts = self.parts
        if len(parts) == 1:
            part = parts[0]
            return values[part.name] if isinstance(part, _Var) else part
        return "".join(render_text(values[p.name]) if isinstance(p, _Var) else p for p in parts)

    def render_str(self, values: Mapping[str, Any]) -> str:
        """The filled value as text (a URL, a header)."""
        value = self.render(values)
        return value if isinstance(value, str) else render_text(value)


@dataclass(frozen=True, slots=True)
class _Var:
    name: str


def render_text(value: Any) -> str:
    """A value as it goes into text: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def parse_template(text: str) -> Template:
    """Split `text` into literals and variables (never fails: stray braces are literal)."""
    parts: list[str | _Var] = []
    names: set[str] = set()
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if any(literal):
            parts.append("".join(literal))
        literal = []
        name = match.group(1)
        parts.append(_Var(name))
        names.add(name)
    literal.append(text[position:])
    if any(literal) or not parts:
        parts.append("".join(literal))
    return Template(text, tuple(parts), frozenset(names))


@dataclass(frozen=True, slots=True)
class JsonTemplate:
    """A JSON document whose strings (values, not keys) are templates."""

    document: Any
    names: frozenset[str]

    def render(self, values: Mapping[str, Any]) -> Any:
        """The document with every template filled."""
        return self.document if not self.names else _fill(self.document, values)


def parse_json_template(document: Any) -> JsonTemplate:
    """Parse every string of `document` as a template."""
    names: set[str] = set()
    parsed = _parse(document, names)
    return JsonTemplate(parsed if names else document, frozenset(names))


def _parse(node: Any, names: set[str]) -> Any:
    if isinstance(node, str):
        template = parse_template(node)
        names |= template.names
        return template if template.names else template.render({})
    if isinstance(node, dict):
        return {k: _parse(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_parse(v, names) for v in node]
    return node


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, Template):
        return node.render(values)
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    return node
