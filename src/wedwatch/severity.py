"""The alert severities: the seed's vocabulary, shared by the rules that set them and the receiver that reads them."""

from __future__ import annotations

__all__ = ["SEVERITIES"]

# Most severe first; the receiver escalates one level (towards the front) when a wedding is live.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
