"""Calendars of any JSON shape: a JSONPath to the entries (`calendar.items`) and one per field (`calendar.fields`).

Without either, a calendar is wedwatch's own shape: a `weddings` list or a top-level list whose
entries carry the fields under their own names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from wedwatch.calendar.model import EntryError, Wedding, parse_entry
from wedwatch.config.calendar import CALENDAR_FIELDS, CalendarConfig
from wedwatch.errors import CalendarError
from wedwatch.probing.jsonpaths import NOTHING, Path, compile_path

__all__ = ["CalendarMapping", "FieldPath"]

# `$.a.b`: names only, walked directly; the general JSONPath machinery costs ~8 µs a field an entry,
# most of the time it takes to read a calendar of ten thousand weddings.
_NAMES_ONLY = re.compile(r"^\$(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A compiled field path; `first` is the first node it selects in an entry, or NOTHING."""

    path: Path
    names: tuple[str, ...] | None

    @classmethod
    def compile(cls, text: str) -> FieldPath:
        """Compile an RFC 9535 path (ValueError naming the problem)."""
        path = compile_path(text)
        return cls(path, tuple(text[2:].split(".")) if _NAMES_ONLY.match(text) else None)

    @property
    def text(self) -> str:
        """The path as configured."""
        return self.path.text

    def first(self, entry: Any) -> Any:
        """The first node the path selects in `entry`, NOTHING when it selects none."""
        if self.names is None:
            return self.path.first(entry)
        node = entry
        for name in self.names:
            if not isinstance(node, Mapping) or name not in node:
                return NOTHING
            node = node[name]
        return node


@dataclass(frozen=True)
class CalendarMapping:
    """Where a calendar document keeps its entries and each entry its fields."""

    items: Path | None = None
    # `$.results` for items `$.results[*]`: when it is missing the answer is not a calendar (an error
    # page, a renamed key), which must not read as a calendar without weddings.
    container: Path | None = None
    fields: Mapping[str, FieldPath] = field(default_factory=dict)

    @classmethod
    def of(cls, items: str | None = None, fields: Mapping[str, str] | None = None) -> CalendarMapping:
        """Compile the paths (ValueError naming the path and the problem)."""
        unknown = sorted(set(fields or {}) - set(CALENDAR_FIELDS))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown calendar field (known: {', '.join(CALENDAR_FIELDS)})")
        container = None
        if items is not None and items.endswith("[*]") and items != "$[*]":
            container = compile_path(items.removesuffix("[*]"))
        return cls(
            items=None if items is None else compile_path(items),
            container=container,
            fields={name: FieldPath.compile(text) for name, text in (fields or {}).items()},
        )

    @classmethod
    def from_config(cls, config: CalendarConfig) -> CalendarMapping:
        """The mapping `calendar.items` and `calendar.fields` describe (already checked when the config loaded)."""
        return cls.of(config.items, config.fields)

    def entries(self, document: Any, *, source: str) -> list[Any]:
        """The raw entries of a decoded calendar; CalendarError when the document is not a calendar."""
        if self.items is None:
            return _own_entries(document, source)
        if self.container is not None:
            found = self.container.select(document)
            if not found:
                raise CalendarError(f"{source}: calendar.items: {self.container.text} selects nothing")
            if len(found) == 1:
                if found[0] is None:
                    return []
                if not isinstance(found[0], list | Mapping):
                    raise CalendarError(
                        f"{source}: calendar.items: {self.container.text} must be a list, not {type(found[0]).__name__}"
                    )
        return self.items.select(document)

    def parse(self, index: int, raw: Any, *, strict: bool = True) -> Wedding | EntryError:
        """One entry as a Wedding, or what is wrong with it; a mapped field's error names its path."""
        if not self.fields or not isinstance(raw, dict):
            return parse_entry(index, raw, strict=strict)
        picked: dict[str, Any] = {}
        for name in CALENDAR_FIELDS:
            path = self.fields.get(name)
            if path is None:
                if name in raw:
                    picked[name] = raw[name]
            elif (value := path.first(raw)) is not NOTHING:
                picked[name] = value
        parsed = parse_entry(index, picked, strict=strict)
        mapped = self.fields.get(parsed.field or "") if isinstance(parsed, EntryError) else None
        if isinstance(parsed, EntryError) and mapped is not None:
            text = mapped.text
            where = f"{text} selects nothing" if parsed.field not in picked else f"at {text}"
            return replace(parsed, reason=f"{parsed.reason} ({where})")
        return parsed


def _own_entries(document: Any, source: str) -> list[Any]:
    """wedwatch's own shape: a `weddings` list, or a top-level list."""
    if isinstance(document, Mapping):
        if "weddings" not in document:
            raise CalendarError(f"{source}: expected a `weddings` list at the top level")
        document = document["weddings"]
    if document is None:
        return []
    if not isinstance(document, list):
        raise CalendarError(f"{source}: `weddings` must be a list, not {type(document).__name__}")
    return document
