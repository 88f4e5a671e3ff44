"""Reading HTTP bodies whole, with a cap, from aiohttp's StreamReader."""

from __future__ import annotations

import aiohttp

__all__ = ["read_capped"]


async def read_capped(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body, or its first `limit + 1` bytes when it is longer (the caller refuses those).

    `StreamReader.read(n)` returns what has arrived so far, up to n bytes: a chunked answer
    (VictoriaMetrics streams large ones) read with one call is cut short and fails to parse.
    """
    body = bytearray()
    while len(body) <= limit:
        chunk = await content.read(limit + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)
