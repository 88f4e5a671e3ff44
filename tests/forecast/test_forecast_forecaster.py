"""The receiver's entry points: Forecaster.refit from a Prometheus API, plan, dispatch; the lazy package."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestServer

import wedwatch.forecast
from wedwatch.config import parse_config
from wedwatch.forecast import Forecaster, forecast_samples
from wedwatch.forecast.regressors import Booking
from wedwatch.forecast.settings import BacktestSettings, ForecastSettings, ModelSettings
from wedwatch.forecast.synthetic import generate_history
from wedwatch.store import Store

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


async def test_refit_stores_a_prediction_set_that_plan_and_dispatch_use(
    aiohttp_server: ServerFactory, store: Store, pool: ProcessPoolExecutor
) -> None:
    syn = generate_history(5, hours=5 * 168 - 48)  # ends on a Saturday: weddings within the horizon
    values = {int(syn.series.at(i).timestamp()): v for i, v in enumerate(syn.series.values) if v is not None}

    async def query_range(request: web.Request) -> web.Response:
        start, end, step = (int(request.query[k]) for k in ("start", "end", "step"))
        points = [[t, str(values[t])] for t in range(start, end + 1, step) if t in values]
        data = {"resultType": "matrix", "result": [{"metric": {}, "values": points}] if points else []}
        return web.json_response({"status": "success", "data": data})

    app = web.Application()
    app.router.add_get("/api/v1/query_range", query_range)
    server = await aiohttp_server(app)
    loaded = parse_config(
        f"forecast:\n  prometheus_url: {server.make_url('/')}\n  horizon_hours: 48\n"
        "  series:\n    requests:\n      query: sum(rate(http_requests_total[1h]))\n"
    )
    settings = ForecastSettings(
        model=ModelSettings(timezone=syn.timezone, uncertainty_samples=200),
        backtest=BacktestSettings(origins=2, horizon_hours=24),
        history_hours=4 * 168,
    )

    async def weddings() -> Sequence[Booking]:
        return syn.bookings

    now = syn.series.end
    async with Forecaster(loaded.config, store=store, settings=settings, executor=pool, weddings=weddings) as forecaster:
        sets = await forecaster.refit(now=now)
        assert [s.series for s in sets] == ["requests"]
        assert sets[0].horizon_start == now and len(sets[0].points) == 48
        assert sets[0].metrics["history_hours"] == 4 * 168
        rows = await store.latest_prediction_sets()
        assert [name for name, _, _ in forecast_samples(rows, now)] == ["requests"] * 3

        steps = forecaster.plan(now=now, weddings=syn.bookings)
        upcoming = [b.wedding for b in syn.bookings if now < b.wedding.ceremony_utc < now + timedelta(hours=48)]
        assert upcoming and {s.wedding_id for s in steps if s.kind == "scale_up"} <= {w.id for w in upcoming}
        assert {s.wedding_id for s in steps if s.kind == "pre_ceremony_warm"} == {w.id for w in upcoming}

        # A fresh forecaster (a restarted receiver) plans from the store; the default mode only records.
        async with Forecaster(loaded.config, store=store, settings=settings, executor=pool, weddings=weddings) as again:
            due_at = steps[0].at + timedelta(minutes=1)
            result = await again.dispatch(now=due_at)
            assert result.mode == "recommend" and steps[0].key in result.new
            assert (await again.dispatch(now=due_at)).new == []
        assert await store.claim_actions("w", 10, 60, due_at) == []


def test_importing_the_package_or_its_settings_loads_nothing_heavy() -> None:
    code = (
        "import sys, wedwatch.forecast.settings, wedwatch.forecast\n"
        "heavy = [m for m in ('pandas', 'prophet', 'numpy', 'matplotlib', 'wedwatch.calendar') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_lazy_exports_match_all() -> None:
    for name in wedwatch.forecast.__all__:
        assert getattr(wedwatch.forecast, name) is not None
    assert set(wedwatch.forecast.__all__) == set(wedwatch.forecast._WHERE)
