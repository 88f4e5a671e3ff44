"""Time-compressed copies of the rules, for the demo and the end-to-end tests only.

An alert that must hold for 5 minutes over a 10-minute window is right on a Saturday and useless
in a 90-second test. Dividing every range window and every `for:` by the same factor keeps the
rules' logic and thresholds and shrinks their time; record names keep their (now nominal) window.
"""

from __future__ import annotations

import copy
import re

from wedwatch.rules.names import window_seconds
from wedwatch.rules.shapes import RuleFile

__all__ = ["compress_time", "COMPRESSED_HEADER"]

COMPRESSED_HEADER = "# TIME-COMPRESSED for demos and tests: windows and `for:` divided by {factor}. Not for production.\n"
_RANGE = re.compile(r"\[(\d+[smhd])\]")


def _scaled(window: str, factor: int, minimum: int) -> str:
    return f"{max(minimum, round(window_seconds(window) / factor))}s"


def compress_time(files: dict[str, RuleFile], factor: int, *, minimum_seconds: int = 2) -> dict[str, RuleFile]:
    """A copy of `files` with range windows and `for:` divided by `factor` (never below `minimum_seconds`)."""
    if factor < 1:
        raise ValueError("the compression factor must be at least 1")
    out = copy.deepcopy(files)
    for content in out.values():
        for group in content["groups"]:
            for rule in group["rules"]:
                expr = rule["expr"]
                rule["expr"] = _RANGE.sub(lambda m: f"[{_scaled(m.group(1), factor, minimum_seconds)}]", expr)
                if "for" in rule:
                    rule["for"] = _scaled(rule["for"], factor, 1)  # type: ignore[typeddict-item]
    return out
