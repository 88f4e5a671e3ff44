"""Sharding weddings across exporters: a partition, stable, and minimal movement when growing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wedwatch.calendar.shard import Shard, parse_shard, shard_of
from wedwatch.errors import ConfigError

IDS = [f"w-{i:05d}" for i in range(20_000)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_shards_partition_the_calendar(n: int) -> None:
    owners = [shard_of(w, n) for w in IDS]
    shards = [{w for w, o in zip(IDS, owners, strict=True) if o == i} for i in range(n)]
    assert set().union(*shards) == set(IDS)  # the union is the calendar
    assert sum(len(s) for s in shards) == len(IDS)  # pairwise disjoint
    assert all(abs(len(s) - len(IDS) / n) < 0.05 * len(IDS) / n + 50 for s in shards)  # balanced


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8])
def test_growing_by_one_moves_about_one_in_n_plus_one(n: int) -> None:
    moved = sum(shard_of(w, n) != shard_of(w, n + 1) for w in IDS) / len(IDS)
    assert moved == pytest.approx(1 / (n + 1), abs=0.02)
    # ...and every moved wedding went to the new shard.
    assert all(shard_of(w, n + 1) == n for w in IDS if shard_of(w, n) != shard_of(w, n + 1))


def test_same_answer_in_every_process() -> None:
    # Python's hash() differs per process (PYTHONHASHSEED): shards must not depend on it.
    code = "from wedwatch.calendar.shard import shard_of; print([shard_of(f'w-{i}', 5) for i in range(50)])"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == str([shard_of(f"w-{i}", 5) for i in range(50)])


@pytest.mark.parametrize("text", ["", "1", "4/4", "5/4", "-1/4", "a/b", "/2", "0/0"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_shard(text)
    assert info.value.field == "--shard"


def test_parse() -> None:
    assert parse_shard("2/4") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"
