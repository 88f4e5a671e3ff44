"""Store tests use the root conftest's fixtures (store, store_url, count_rows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["CountRows"]

CountRows = Callable[[str], Awaitable[int]]
