"""Compiled `expect` assertions: each judges the nodes a JSONPath selects and says why it failed."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wedwatch.config.steps import Assertion
from wedwatch.probing.jsonpaths import NOTHING, Path, compile_path
from wedwatch.probing.templates import JsonTemplate, Template, parse_json_template, parse_template, render_text

__all__ = ["Check", "compile_check"]

# Counts compared with these come from the calendar, and a mismatch says so.
_CALENDAR = frozenset({"guests", "vendors"})


@dataclass(frozen=True, slots=True)
class Check:
    """One assertion, ready to judge a document."""

    path: Path
    check: str
    expected: Template | JsonTemplate | Any
    regex: re.Pattern[str] | None

    def describe(self, values: Mapping[str, Any]) -> str:
        """`$.state equals "ready"`, templates filled."""
        return f"{self.path.text} {self.check} {_shown(self._expected(values))}"

    def _expected(self, values: Mapping[str, Any]) -> Any:
        expected = self.expected
        if isinstance(expected, Template | JsonTemplate):
            return expected.render(values)
        return expected

    def failure(self, document: Any, values: Mapping[str, Any]) -> str | None:
        """None when the assertion holds; otherwise why not, in one line."""
        if self.check == "count":
            return self.count_failure(len(self.path.select(document)), values)
        if self.check == "exists":
            found = bool(self.path.select(document))
            if found == self.expected:
                return None
            return f"{self.path.text} selects nothing" if self.expected else f"{self.path.text} exists, expected it absent"
        node = self.path.first(document)
        if self.check == "max_age_seconds":
            return self._age_failure(node, values)
        if node is NOTHING:
            return f"{self.path.text} selects nothing, expected it to {self.check.replace('_', ' ')} {_shown(self._expected(values))}"
        expected = self._expected(values)
        if self.check == "equals":
            return None if _same(node, expected) else f"{self.path.text} is {_shown(node)}, expected {_shown(expected)}"
        if self.check == "not_equals":
            return f"{self.path.text} is {_shown(node)}, expected anything else" if _same(node, expected) else None
        if self.check == "matches":
            assert self.regex is not None
            if not isinstance(node, str):
                return f"{self.path.text} is {_shown(node)}, not a string to match {self.regex.pattern!r}"
            return None if self.regex.search(node) else f"{self.path.text} is {_shown(node)}, which does not match {self.regex.pattern!r}"
        # less_than, greater_than
        bound = _number(expected)
        if not _is_number(node) or bound is None:
            return f"{self.path.text} is {_shown(node)}, not a number to compare with {_shown(expected)}"
        holds = node < bound if self.check == "less_than" else node > bound
        word = "less" if self.check == "less_than" else "greater"
        return None if holds else f"{self.path.text} is {_shown(node)}, expected {word} than {_shown(expected)}"

    def _age_failure(self, node: Any, values: Mapping[str, Any]) -> str | None:
        expected = self._expected(values)
        bound = _number(expected)
        if bound is None:
            return f"{self.path.text}: the maximum age {_shown(expected)} is not a number of seconds"
        if node is NOTHING:
            return f"{self.path.text} selects nothing, expected a time at most {bound:g}s old"
        instant = _instant(node)
        if instant is None:
            return f"{self.path.text} is {_shown(node)}, not an RFC 3339 time with an offset (or Unix seconds)"
        age = time.time() - instant
        if age <= bound:
            return None
        return f"{self.path.text} is {_shown(node)}, {age:.0f}s old, expected at most {bound:g}s"

    def count_failure(self, count: int, values: Mapping[str, Any]) -> str | None:
        """Judge a count the caller already made (the fast path counts without building the nodes)."""
        expected = self._expected(values)
        if _number(expected) == count:
            return None
        source = "the calendar expects" if isinstance(self.expected, Template) and self.expected.names & _CALENDAR else "expected"
        return f"{count} nodes at {self.path.text}, {source} {render_text(expected)}"


def compile_check(assertion: Assertion) -> Check:
    """Compile one validated assertion (its paths and regex were checked when the config loaded)."""
    expected = assertion.expected
    if isinstance(expected, str) and assertion.check != "matches":
        template = parse_template(expected)
        value: Any = template if template.names else template.render({})
        if assertion.check in ("count", "less_than", "greater_than", "max_age_seconds") and not template.names:
            value = _number(value)
            if value is None:
                raise ValueError(f"{assertion.check}: {expected!r} is not a number")
    elif assertion.check in ("equals", "not_equals"):
        parsed = parse_json_template(expected)
        value = parsed if parsed.names else expected
    else:
        value = expected
    regex = re.compile(expected) if assertion.check == "matches" else None
    return Check(compile_path(assertion.path), assertion.check, value, regex)


def _instant(node: Any) -> float | None:
    """Unix seconds of an RFC 3339 time with an offset (or of a number of Unix seconds); None otherwise."""
    if _is_number(node):
        return float(node)
    if not isinstance(node, str):
        return None
    try:
        parsed = datetime.fromisoformat(node)
    except ValueError:
        return None
    # A time without an offset could be any zone's: RFC 3339 requires one, and so does this check.
    return parsed.timestamp() if parsed.tzinfo is not None else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _same(node: Any, expected: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0; a string expected of a number compares as text."""
    if isinstance(node, bool) or isinstance(expected, bool):
        return isinstance(node, bool) and isinstance(expected, bool) and node == expected
    if _is_number(node) and isinstance(expected, str):
        return render_text(node) == expected or _number(expected) == node
    return bool(node == expected)


def _shown(value: Any) -> str:
    return render_text(value) if not isinstance(value, str) else f'"{value}"'
