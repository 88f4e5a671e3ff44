"""The stand-in's Redis cache (src/wedwatch/platform/cache.py, warm.py), against a real redis-server."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from platform_fakes import CALENDAR, FAST, Client, MakeClient, calendar_weddings
from platform_redis import RedisServer, redis_server
from ports import free_port
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from redis import asyncio as aioredis

from wedwatch.calendar import Wedding
from wedwatch.cli import main
from wedwatch.commands.platform import parse_duration
from wedwatch.platform import PlatformSettings
from wedwatch.platform.cache import guest_list_key, summary_key

GUESTS = "/api/weddings/{}/guests"
MOBILE = "/api/mobile/weddings/{}"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) wedwatch-probe"
# w-large has 400 guests: a cold read sleeps 5 ms + 400 × 0.1 ms = 45 ms, the database's cost.
DB_COST = {"guest_list_base_seconds": 0.005, "guest_list_per_guest_seconds": 0.0001}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
async def redis_client(redis: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis.url, socket_timeout=5)
    yield client
    await client.aclose()


def cached(redis: RedisServer, **overrides: object) -> PlatformSettings:
    """Settings of a platform that caches in `redis` (fast retries, so that recovery is quick to see)."""
    fields: dict[str, object] = {
        **FAST.model_dump(),
        **DB_COST,
        "cache_url": SecretStr(redis.url),
        "cache_retry_seconds": 0.2,
        **overrides,
    }
    return PlatformSettings.model_validate(fields)


async def metrics(client: Client) -> dict[tuple[str, str], float]:
    """The stand-in's /metrics, parsed: (sample name, kind label or "") -> value."""
    response = await client.get("/metrics")
    assert response.status == 200
    samples: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, sample.labels.get("kind", ""))] = sample.value
    return samples


async def timed_get(client: Client, path: str, **kwargs: object) -> tuple[float, bytes]:
    started = time.perf_counter()
    response = await client.get(path, **kwargs)  # type: ignore[arg-type]
    body = await response.read()
    elapsed = time.perf_counter() - started
    assert response.status == 200, body
    return elapsed, body


async def test_miss_then_hit_counted_and_the_entry_has_the_ttl(
    make_client: MakeClient, redis: RedisServer, redis_client: aioredis.Redis, weddings: list[Wedding]
) -> None:
    client = await make_client(settings=cached(redis, cache_ttl_seconds=120))
    _, cold = await timed_get(client, GUESTS.format("w-large"))
    _, warm = await timed_get(client, GUESTS.format("w-large"))
    assert warm == cold
    seen = await metrics(client)
    assert seen[("platform_cache_misses_total", "guest_list")] == 1
    assert seen[("platform_cache_hits_total", "guest_list")] == 1
    assert seen[("platform_cache_writes_total", "guest_list")] == 1
    assert seen[("platform_cache_errors_total", "guest_list")] == 0
    assert seen[("platform_cache_up", "")] == 1
    large = next(w for w in weddings if w.id == "w-large")
    key = guest_list_key(large, seed=0)
    assert await redis_client.get(key) == cold
    assert 0 < await redis_client.pttl(key) <= 120_000


async def test_mobile_summaries_are_cached_per_layout_and_read_as_without_a_cache(
    make_client: MakeClient, redis: RedisServer, redis_client: aioredis.Redis, weddings: list[Wedding]
) -> None:
    plain = await make_client()
    client = await make_client(settings=cached(redis))
    for agent in (IPHONE, "curl/8.0", IPHONE, "curl/8.0"):
        headers = {"User-Agent": agent}
        expected = await (await plain.get(MOBILE.format("w-large"), headers=headers)).json()
        assert await (await client.get(MOBILE.format("w-large"), headers=headers)).json() == expected
    seen = await metrics(client)
    assert seen[("platform_cache_misses_total", "mobile_summary")] == 2  # one per layout
    assert seen[("platform_cache_hits_total", "mobile_summary")] == 2
    large = next(w for w in weddings if w.id == "w-large")
    for layout in ("compact", "full"):
        assert await redis_client.pttl(summary_key(large, layout)) > 0


async def test_cache_warm_on_a_cold_redis_makes_the_next_read_faster_than_a_cold_read(
    make_client: MakeClient, redis: RedisServer, redis_client: aioredis.Redis
) -> None:
    client = await make_client(settings=cached(redis))
    path = GUESTS.format("w-large")
    colds, warms = [], []
    for _ in range(7):
        await redis_client.flushall()
        cold, _ = await timed_get(client, path)
        await redis_client.flushall()
        # The body the receiver's cache_warm action posts (receiver/actions/cache_warm.py, `url` mode).
        response = await client.post("/api/cache/warm", json={"wedding_id": "w-large"})
        assert response.status == 200, await response.text()
        assert (await response.json())["warmed"] == ["w-large"]
        warm, _ = await timed_get(client, path)
        colds.append(cold)
        warms.append(warm)
    ratio = statistics.median(colds) / statistics.median(warms)
    print(
        f"guest list of 400 guests: cold {statistics.median(colds) * 1000:.1f} ms, "
        f"after cache_warm {statistics.median(warms) * 1000:.1f} ms, ratio {ratio:.1f}"
    )
    # A ratio within the run, never a wall-clock threshold: a loaded machine slows both alike.
    assert ratio >= 2
    seen = await metrics(client)
    assert seen[("platform_cache_hits_total", "guest_list")] == 7
    assert seen[("platform_cache_misses_total", "guest_list")] == 7


async def test_warm_names_a_wedding_or_takes_the_live_ones(make_client: MakeClient, redis: RedisServer) -> None:
    client = await make_client(settings=cached(redis))
    unknown = await client.post("/api/cache/warm", json={"wedding_id": "nope"})
    assert unknown.status == 404 and (await unknown.json())["field"] == "wedding_id"
    # The test clock stands in May 2030: no wedding is live, so a platform-wide warm warms none.
    everything = await client.post("/api/cache/warm", json={"wedding_id": None})
    assert (await everything.json()) == {"warmed": [], "keys": 0, "ttl_seconds": 300.0}


async def test_without_a_cache_url_nothing_is_cached_and_warm_is_not_found(make_client: MakeClient) -> None:
    client = await make_client()
    assert (await client.get(GUESTS.format("w-small"))).status == 200
    response = await client.post("/api/cache/warm", json={"wedding_id": "w-small"})
    assert response.status == 404
    assert "--cache.url" in (await response.json())["error"]
    assert not [k for k in await metrics(client) if k[0].startswith("platform_cache")]


async def test_a_fault_still_applies_to_a_cache_hit(make_client: MakeClient, redis: RedisServer) -> None:
    client = await make_client(settings=cached(redis))
    path = GUESTS.format("w-large")
    await timed_get(client, path)  # now cached
    hits = [(await timed_get(client, path))[0] for _ in range(3)]
    fault = await client.post(
        "/admin/faults", json={"operation": "guest_list", "wedding_id": "w-large", "latency_seconds": 0.3}
    )
    assert fault.status == 201
    slowed = [(await timed_get(client, path))[0] for _ in range(3)]
    assert statistics.median(slowed) > 3 * statistics.median(hits)
    assert (await client.delete("/admin/faults")).status == 200
    await client.post("/admin/faults", json={"operation": "guest_list", "error_rate": 1, "status": 503})
    assert (await client.get(path)).status == 503
    seen = await metrics(client)
    assert seen[("platform_cache_hits_total", "guest_list")] == 6  # the failed request never read the cache


async def _until(condition: object, what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert callable(condition)
        if await condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{what} within {seconds:g}s")


async def test_redis_stopped_mid_run_degrades_and_recovers(make_client: MakeClient, redis: RedisServer) -> None:
    client = await make_client(settings=cached(redis))
    path = GUESTS.format("w-large")
    _, expected = await timed_get(client, path)
    await timed_get(client, path)
    assert (await metrics(client))[("platform_cache_hits_total", "guest_list")] == 1

    redis.stop()
    for _ in range(5):  # still served, by the uncached path
        _, body = await timed_get(client, path)
        assert body == expected
    down = await metrics(client)
    assert down[("platform_cache_errors_total", "guest_list")] >= 1
    assert down[("platform_cache_up", "")] == 0
    assert (await client.post("/api/cache/warm", json={"wedding_id": "w-large"})).status == 503
    assert (await client.get("/-/healthy")).status == 200

    redis.start()  # empty again (no persistence): a miss fills it, then reads hit

    async def hits_again() -> bool:
        await timed_get(client, path)
        return (await metrics(client))[("platform_cache_hits_total", "guest_list")] > 1

    await _until(hits_again, "no cache hit after Redis came back")
    assert (await metrics(client))[("platform_cache_up", "")] == 1


async def test_a_hung_redis_costs_at_most_the_cache_timeout(make_client: MakeClient, redis: RedisServer) -> None:
    client = await make_client(settings=cached(redis, cache_timeout_seconds=0.3, cache_retry_seconds=30))
    path = GUESTS.format("w-large")
    _, expected = await timed_get(client, path)
    redis.pause()
    try:
        # The first read waits for the command's timeout, then falls back; the next ones bypass Redis.
        first, body = await timed_get(client, path, timeout=aiohttp.ClientTimeout(total=10))
        assert body == expected
        later = [(await timed_get(client, path))[0] for _ in range(3)]
        assert statistics.median(later) < first / 2
        seen = await metrics(client)
        assert seen[("platform_cache_errors_total", "guest_list")] == 1
        assert seen[("platform_cache_bypassed_total", "guest_list")] == 3
    finally:
        redis.resume()


async def test_a_redis_that_is_down_at_start_is_not_fatal(make_client: MakeClient, redis: RedisServer) -> None:
    redis.stop()
    client = await make_client(settings=cached(redis))
    assert (await client.get(GUESTS.format("w-small"))).status == 200
    redis.start()

    async def cached_now() -> bool:
        await client.get(GUESTS.format("w-small"))
        return (await metrics(client))[("platform_cache_writes_total", "guest_list")] >= 1

    await _until(cached_now, "nothing cached after Redis started")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("300", 300.0), ("300s", 300.0), ("5m", 300.0), ("1h30m", 5400.0), ("250ms", 0.25), ("1.5", 1.5)],
)
def test_cache_ttl_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "0", "0s", "-1", "5m garbage"])
def test_bad_cache_ttl_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def _http(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_the_command_caches_with_the_flags(tmp_path: Path, redis: RedisServer) -> None:
    calendar = tmp_path / "weddings.json"
    calendar.write_text(json.dumps({"weddings": CALENDAR}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = ["platform", "--calendar.file", str(calendar), "--web.listen-address", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [sys.executable, "-m", "wedwatch", *argv, "--cache.url", redis.url, "--cache.ttl", "90s"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, "the platform exited"
            try:
                if _http(base + "/-/healthy")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the platform did not become healthy within 15s"
            time.sleep(0.05)
        assert _http(base + "/api/cache/warm", json.dumps({"wedding_id": "w-large"}).encode())[0] == 200
        assert _http(base + GUESTS.format("w-large"))[0] == 200
        samples = {
            (s.name, s.labels.get("kind", "")): s.value
            for family in text_string_to_metric_families(_http(base + "/metrics")[1].decode())
            for s in family.samples
        }
        assert samples[("platform_cache_hits_total", "guest_list")] == 1
        assert samples[("platform_cache_writes_total", "guest_list")] == 1
        with socket.create_connection(("127.0.0.1", redis.port), timeout=5) as sock:
            sock.sendall(f"PTTL {guest_list_key(calendar_weddings()[1], seed=0)}\r\n".encode())
            pttl = int(sock.recv(64).decode().strip().lstrip(":"))
        assert 0 < pttl <= 90_000
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            err = process.communicate(timeout=15)[1]
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err
    assert "caching guest lists and mobile summaries for 90s" in err
    assert redis.url not in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--cache.url", "http://127.0.0.1:6379"], "--cache.url: expected redis://"),
        (["--cache.ttl", "soon"], "invalid duration"),
    ],
)
def test_bad_cache_flags_exit_2(
    tmp_path: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "weddings.json"
    calendar.write_text(json.dumps({"weddings": CALENDAR}))
    assert main(["platform", "--calendar.file", str(calendar), "--web.listen-address", "127.0.0.1:1", *flags]) == 2
    assert message in capsys.readouterr().err
