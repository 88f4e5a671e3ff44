"""The exporter's fast paths: batch float formatting, chunked /metrics, GC tuning, cached operation set, planning off the loop."""

from __future__ import annotations

import asyncio
import gzip
import math
import random
import struct
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_aiohttp import AiohttpClient

from wedwatch.calendar import Wedding
from wedwatch.calendar.phases import WeddingStatus, tier_of
from wedwatch.config import LoadedConfig
from wedwatch.config.model import OPERATIONS, Phase
from wedwatch.exporter import exposition
from wedwatch.exporter import service as service_module
from wedwatch.exporter.app import EXPORTER_KEY, create_app
from wedwatch.exporter.probes import ProbeResult
from wedwatch.exporter.state import ExporterState

MakeConfig = Callable[..., LoadedConfig]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.999e-5, 1e-5, 5e-324, 1e-7, 0.30000000000000004, 123456789.0, 1e15, 1e16,
           2.5e16, 1e22, 1.7976931348623157e308, 1780000000.123456, 10.00001, math.nan, math.inf, -math.inf]  # fmt: skip


def _random_doubles(count: int, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    values = [rng.uniform(0, 1) * 10 ** rng.randint(-12, 20) for _ in range(count)]
    # Arbitrary bit patterns as well: every exponent, subnormals, negatives.
    values += [v for v in (struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(count)) if math.isfinite(v)]
    return values


@pytest.mark.parametrize("values", [SPECIAL, _random_doubles(5000)], ids=["edge cases", "random"])
def test_batch_formatting_is_exactly_repr(values: list[float]) -> None:
    assert exposition.format_floats(values) == [exposition._num(v) for v in values]


def test_batch_formatting_spells_values_as_repr_and_the_specials_as_prometheus_does() -> None:
    assert exposition.format_floats(SPECIAL) == ["0.0", "-0.0", "1.0", "-1.0", "0.1", "0.0001", "9.999e-05", "1e-05", "5e-324",
                                                 "1e-07", "0.30000000000000004", "123456789.0", "1000000000000000.0", "1e+16",
                                                 "2.5e+16", "1e+22", "1.7976931348623157e+308", "1780000000.123456", "10.00001",
                                                 "NaN", "+Inf", "-Inf"]  # fmt: skip


def _state(count: int) -> ExporterState:
    state = ExporterState()
    at = datetime(2026, 6, 6, 14, tzinfo=UTC)
    phases = (Phase.CEREMONY, Phase.WEEK, Phase.AFTER)
    statuses = [
        # Quotes, backslashes and newlines in an id must come out escaped.
        WeddingStatus(Wedding(f'w{i}"\\\n' if i == 0 else f"w{i}", at, "UTC", 100 + i, 5), p, tier_of(p), True, 10.0)
        for i, p in ((i, phases[i % 3]) for i in range(count))
    ]
    state.set_plan(statuses)
    for i, status in enumerate(statuses):
        for j, operation in enumerate(OPERATIONS):
            steps = {"connect": 1e-5 * (i + 1), "ttfb": 0.01 * j, "transfer": math.nan if i == j else 0.002}
            readings = {"guests_checked_in": 50.0, "guests_expected": 100.0 + i, "next_milestone_delay_seconds": 12.5,
                        "vendors_confirmed": 3.0, "vendors_booked": 5.0}  # fmt: skip
            result = ProbeResult(j != 2, 0.1 + i / 7, reason=None if j != 2 else "timeout", steps=steps, readings=readings)
            state.record(status.wedding.id, operation, status.tier, result, 1780000000.5 + i)
    return state


def test_render_has_every_series_of_every_block_with_ids_escaped() -> None:
    state = _state(450)  # more than two blocks of 200 weddings
    fast = exposition.render(state, OPERATIONS)
    samples = {(s.name, tuple(sorted(s.labels.items()))) for f in text_string_to_metric_families(fast) for s in f.samples}
    per_wedding = 4 + 6 * 3 + 6 * 3 + 3  # info, ceremony, guests, interval; 3 gauges and 3 steps per operation; readings
    for wedding_id in ("w1", "w201", "w449"):  # one wedding of each block
        assert sum(1 for name, labels in samples if ("wedding_id", wedding_id) in labels) == per_wedding
    assert ("wedwatch_wedding_guests", (("wedding_id", 'w0"\\\n'),)) in samples


def test_render_chunks_join_to_the_whole_render() -> None:
    state = _state(450)
    chunks = list(exposition.render_chunks(state, OPERATIONS, batch=100))
    assert chunks.count("") == 5  # one turn for the event loop per block of weddings
    assert "".join(chunks) == exposition.render(state, OPERATIONS)


async def test_metrics_gzip_and_identity_carry_the_same_exposition(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    app = create_app(make_config(), record=False, schedule=False)
    client = await aiohttp_client(app)
    app[EXPORTER_KEY].state = _state(250)
    plain = await (await client.get("/metrics", headers={"Accept-Encoding": "identity"})).read()
    response = await client.get("/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    unzipped = gzip.decompress(await response.read()).decode()
    own = exposition.render(app[EXPORTER_KEY].state, OPERATIONS)
    assert plain.decode().startswith(own) and unzipped.startswith(own)
    # After our own families, prometheus_client's default collectors (process, Python).
    rest = {family.name for family in text_string_to_metric_families(unzipped.removeprefix(own))}
    assert "process_cpu_seconds" in rest


async def test_the_enabled_operation_set_follows_a_reload(make_config: MakeConfig, aiohttp_client: AiohttpClient) -> None:
    app = create_app(make_config(), record=False, schedule=False)
    await aiohttp_client(app)
    exporter = app[EXPORTER_KEY]
    assert exporter._is_enabled("mobile")
    exporter.loaded = make_config(operations={"mobile": {"enabled": False}})
    assert not exporter._is_enabled("mobile") and exporter._is_enabled("guest_list")


async def test_an_overtaken_refresh_does_not_apply_its_stale_plan(
    make_config: MakeConfig, aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(make_config(), record=False, schedule=False)
    await aiohttp_client(app)
    exporter = app[EXPORTER_KEY]
    release, calls = threading.Event(), []
    real_plan = service_module.plan

    def plan(weddings: list[Wedding], *args: object) -> list[WeddingStatus]:
        calls.append(len(weddings))
        if len(calls) == 1:  # the first refresh is still planning (on its thread) when the second ends
            release.wait(5)
            return []
        return real_plan(weddings, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(service_module, "plan", plan)
    first = asyncio.create_task(exporter.refresh())
    async with asyncio.timeout(5):
        while not calls:
            await asyncio.sleep(0.01)
    await exporter.refresh()
    planned = dict(exporter.state.statuses)
    release.set()
    await first
    assert planned and exporter.state.statuses == planned
