"""The stand-in's cache: guest lists and mobile summaries kept in Redis with a TTL (`--cache.url`).

A read asks Redis first; a hit is served from it, a miss pays the simulated database cost and
writes the entry back for `cache_ttl_seconds`. Redis is a dependency that fails: any failed
command (refused, reset, timed out) is counted and the read falls back to the uncached path, and
after a failure the cache is bypassed for `cache_retry_seconds` before Redis is tried again, so a
dead Redis makes the platform slower, never broken, and a Redis that returns is used again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, Literal, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from wedwatch.calendar import Wedding
from wedwatch.platform.settings import PlatformSettings

__all__ = ["KINDS", "CacheKind", "PlatformCache", "CACHE", "REGISTRY", "guest_list_key", "summary_key", "open_cache"]

log = logging.getLogger("wedwatch.platform")

CacheKind = Literal["guest_list", "mobile_summary"]
KINDS: tuple[CacheKind, ...] = ("guest_list", "mobile_summary")
_PREFIX = "wedwatch:platform"

_T = TypeVar("_T")


class _Failed:
    """A command that did not reach Redis or failed there (distinct from a miss)."""


_FAILED: Final = _Failed()


def guest_list_key(wedding: Wedding, seed: int) -> str:
    """The key of a wedding's guest list: the seed and the guest count are part of what the list is."""
    return f"{_PREFIX}:s{seed}:guest_list:{wedding.id}:{wedding.guests}"


def summary_key(wedding: Wedding, layout: str) -> str:
    """The key of a wedding's mobile summary in one layout (compact for phones, full otherwise)."""
    return f"{_PREFIX}:mobile_summary:{wedding.id}:{layout}"


class PlatformCache:
    """A Redis-backed cache of encoded documents, with its own counters; it never raises on a Redis failure."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        ttl_seconds: float,
        retry_seconds: float,
        registry: CollectorRegistry,
    ) -> None:
        self._client = client
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._retry_seconds = retry_seconds
        self._bypass_until = 0.0
        self._up = True
        self.hits = Counter("platform_cache_hits_total", "Reads served from the cache.", ["kind"], registry=registry)
        self.misses = Counter(
            "platform_cache_misses_total",
            "Reads the cache did not hold (served uncached, then cached).",
            ["kind"],
            registry=registry,
        )
        self.errors = Counter(
            "platform_cache_errors_total",
            "Cache commands that failed (Redis down, reset or slow).",
            ["kind"],
            registry=registry,
        )
        self.bypassed = Counter(
            "platform_cache_bypassed_total",
            "Reads served uncached without asking Redis, while it is retried after a failure.",
            ["kind"],
            registry=registry,
        )
        self.writes = Counter(
            "platform_cache_writes_total", "Entries written (after a miss, or warmed).", ["kind"], registry=registry
        )
        self.up_gauge = Gauge("platform_cache_up", "Whether the last cache command succeeded.", registry=registry)
        self.up_gauge.set(1)
        for kind in KINDS:  # every series from the start, so that rate() works at once
            for counter in (self.hits, self.misses, self.errors, self.bypassed, self.writes):
                counter.labels(kind)

    @property
    def ttl_seconds(self) -> float:
        """How long an entry lives."""
        return self._ttl_ms / 1000

    async def get(self, kind: CacheKind, key: str) -> bytes | None:
        """The cached document, or None (a miss, a failure or a bypass: the caller reads uncached)."""
        if self._bypassed(kind):
            return None
        value = await self._call(kind, lambda: self._client.get(key))
        if isinstance(value, _Failed):
            return None
        if value is None:
            self.misses.labels(kind).inc()
            return None
        self.hits.labels(kind).inc()
        return value if isinstance(value, bytes) else value.encode()  # bytes: responses are not decoded

    async def put(self, kind: CacheKind, key: str, value: bytes) -> bool:
        """Store a document for the TTL; False when Redis could not take it."""
        if self._bypassed(kind, count=False):  # the read that missed was counted already
            return False
        done = await self._call(kind, lambda: self._client.set(key, value, px=self._ttl_ms))
        if isinstance(done, _Failed):
            return False
        self.writes.labels(kind).inc()
        return True

    async def ping(self) -> bool:
        """Whether Redis answers now (at start, for the log); a failure is not counted against a kind."""
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError) as exc:
            log.warning("cache: Redis does not answer (%s); reads stay uncached until it does", _describe(exc))
            return False

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    def _bypassed(self, kind: CacheKind, *, count: bool = True) -> bool:
        if self._up or time.monotonic() >= self._bypass_until:
            return False
        if count:
            self.bypassed.labels(kind).inc()
        return True

    async def _call(self, kind: CacheKind, command: Callable[[], Awaitable[_T]]) -> _T | _Failed:
        try:
            result = await command()
        except (RedisError, OSError) as exc:
            self.errors.labels(kind).inc()
            self._bypass_until = time.monotonic() + self._retry_seconds
            if self._up:
                log.warning(
                    "cache: Redis failed (%s); reads are uncached, retrying every %gs",
                    _describe(exc),
                    self._retry_seconds,
                )
            self._up = False
            self.up_gauge.set(0)
            return _FAILED
        if not self._up:
            log.info("cache: Redis answers again")
            self._up = True
            self.up_gauge.set(1)
        return result


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def open_cache(settings: PlatformSettings, registry: CollectorRegistry) -> PlatformCache:
    """A cache on `settings.cache_url` (which must be set); nothing connects until the first command."""
    assert settings.cache_url is not None
    client = aioredis.Redis.from_url(
        settings.cache_url.get_secret_value(),
        socket_timeout=settings.cache_timeout_seconds,
        socket_connect_timeout=settings.cache_timeout_seconds,
        # No retries inside a read: a failed command falls back to the database at once, and the
        # cache's own retry interval decides when Redis is asked again (then the pool reconnects).
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
    )
    return PlatformCache(
        client,
        ttl_seconds=settings.cache_ttl_seconds,
        retry_seconds=settings.cache_retry_seconds,
        registry=registry,
    )


CACHE: web.AppKey[PlatformCache | None] = web.AppKey("cache")
# The stand-in's own metrics (the cache's counters), served at /metrics.
REGISTRY = web.AppKey("registry", CollectorRegistry)
