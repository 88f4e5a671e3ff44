"""Which exporter shard probes which wedding: rendezvous (highest-random-weight) hashing.

Every wedding belongs to exactly one of n shards, decided from its id alone, so shards agree
without talking to each other. Growing from n to n+1 shards moves only the weddings the new
shard wins, about 1/(n+1) of them, instead of reshuffling almost all as `hash % n` would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from wedwatch.calendar.model import Wedding
from wedwatch.errors import ConfigError

__all__ = ["Shard", "parse_shard", "shard_of", "select"]


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str, *, field: str = "--shard") -> Shard:
    """`i/n` with 0 <= i < n; anything else is a usage error naming the flag."""
    index, sep, count = text.partition("/")
    if not sep or not index.isdigit() or not count.isdigit():
        raise ConfigError(f"expected i/n (such as 0/4), got {text!r}", field=field)
    shard = Shard(int(index), int(count))
    if shard.count < 1 or shard.index >= shard.count:
        raise ConfigError(f"shard index must be below the shard count, got {text!r}", field=field)
    return shard


def _weight(wedding_id: str, shard: int) -> int:
    digest = hashlib.blake2b(f"{shard}:{wedding_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(wedding_id: str, count: int) -> int:
    """The shard (0..count-1) that owns `wedding_id`."""
    return max(range(count), key=lambda s: _weight(wedding_id, s))


def select(weddings: Iterable[Wedding], shard: Shard | None) -> list[Wedding]:
    """The weddings `shard` owns (all of them without sharding)."""
    if shard is None or shard.count == 1:
        return list(weddings)
    return [w for w in weddings if shard_of(w.id, shard.count) == shard.index]
