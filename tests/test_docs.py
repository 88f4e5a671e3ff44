"""README.md is a front page and docs/ holds the reference: every answer within two clicks (issue 19).

* the quick start (`make demo`, `make test`) is on README's first screen;
* every relative link of README.md, DEVELOPERS.md and docs/*.md names a file that exists, and
  every `#anchor` a heading of its target, slugged as GitHub does;
* every docs/*.md page is linked from README.md;
* every `wedwatch` subcommand of the CLI's own parser is named in README.md or in a page it links.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from wedwatch.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = (README, REPO / "DEVELOPERS.md", *sorted(DOCS.glob("*.md")))

# What a newcomer sees before scrolling, on GitHub or in a terminal.
FIRST_SCREEN_LINES = 60

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target), with an optional "title"; text may hold one level of brackets.
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def _prose_lines(text: str) -> Iterator[str]:
    """The lines of a Markdown text outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def _links(path: Path) -> list[str]:
    """Every link target in a Markdown file, outside code blocks and code spans."""
    targets: list[str] = []
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        # A code span's text is not Markdown; a link's text may hold one, so keep its brackets.
        line = _CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), line)
        targets.extend(m.group(1) for m in _LINK.finditer(line))
    return targets


def _relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = [c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN"]
    return "".join(kept).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """The anchors GitHub gives a Markdown file's headings (repeats get -1, -2, …), plus <a name>."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    text = path.read_text(encoding="utf-8")
    for line in _prose_lines(text):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    found.update(_HTML_ANCHOR.findall(text))
    return frozenset(found)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("The demo, step by step", "the-demo-step-by-step"),
        ("TLS and authentication: `--web.config.file`", "tls-and-authentication---webconfigfile"),
        ("The cost backtest: `wedwatch backtest --capacity`", "the-cost-backtest-wedwatch-backtest---capacity"),
        ("Departures from DESIGN.md", "departures-from-designmd"),
        ("Why replicas = target: the arithmetic", "why-replicas--target-the-arithmetic"),
    ],
)
def test_slug_is_githubs(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_quick_start_is_on_the_first_screen() -> None:
    first = "\n".join(README.read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES])
    for command in ("make demo", "make test"):
        assert command in first, f"README.md: `{command}` is not in its first {FIRST_SCREEN_LINES} lines"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    broken: list[str] = []
    for target in _links(page):
        if not _relative(target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target}: no file {resolved.relative_to(REPO) if resolved.is_relative_to(REPO) else resolved}")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading with the anchor #{anchor} in {resolved.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}:\n  " + "\n  ".join(broken)


def _linked_from(page: Path) -> set[Path]:
    """The existing Markdown files a page links to, relatively."""
    linked: set[Path] = set()
    for target in _links(page):
        file_part = target.partition("#")[0]
        if _relative(target) and file_part:
            resolved = (page.parent / file_part).resolve()
            if resolved.suffix == ".md" and resolved.exists():
                linked.add(resolved)
    return linked


def test_every_docs_page_is_linked_from_readme() -> None:
    linked = _linked_from(README)
    orphans = [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked]
    assert not orphans, f"README.md links none of docs/{', docs/'.join(orphans)}"


def _subcommands(parser: argparse.ArgumentParser, prefix: str) -> Iterator[str]:
    """`wedwatch check`, …, `wedwatch store prune`: every command path of the parser, leaves and groups."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}"
                yield from _subcommands(sub, f"{prefix} {name}")


def test_every_subcommand_is_documented_within_one_click() -> None:
    reachable = [README, *sorted(_linked_from(README))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in reachable)
    commands = list(_subcommands(build_parser(), "wedwatch"))
    assert "wedwatch store prune" in commands  # the walk reaches nested subcommands
    missing = [c for c in commands if not re.search(re.escape(c) + r"(?![\w-])", text)]
    assert not missing, f"named in neither README.md nor a page it links: {', '.join(missing)}"
