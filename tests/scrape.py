"""Samples read from a Prometheus text exposition with prometheus_client's parser, never by grepping it.

`parse_scrape(body).value(name, **labels)` is client_python's `get_sample_value` for a page fetched
from /metrics: the value of the sample with exactly those labels, None when there is none.
Imported by name (tests/ is on sys.path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Scrape", "parse_scrape"]


@dataclass(frozen=True)
class Scrape:
    """One /metrics page: its size in bytes and every sample by name and labels."""

    size: int
    samples: Mapping[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's value, None when the page does not have it."""
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name: str) -> list[dict[str, str]]:
        """The label sets of every sample called `name`."""
        return [dict(labels) for n, labels in self.samples if n == name]

    def label_values(self, label: str) -> set[str]:
        """Every value `label` takes on any sample of the page."""
        return {value for _, labels in self.samples for key, value in labels if key == label}


def parse_scrape(body: bytes | str) -> Scrape:
    """A Scrape from the text of a /metrics page."""
    raw = body.encode() if isinstance(body, str) else body
    samples = {
        (s.name, frozenset(s.labels.items())): float(s.value)
        for family in text_string_to_metric_families(raw.decode())
        for s in family.samples
    }
    return Scrape(len(raw), samples)
