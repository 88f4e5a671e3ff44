"""History sources: CSV files with bad lines, and query_range paging against a fake Prometheus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from wedwatch.config import parse_config
from wedwatch.forecast.history import HistoryError, parse_csv, query_range, read_csv, write_csv
from wedwatch.forecast.series import HourlySeries
from wedwatch.forecast.sources import SourceRequest, load_source

T0 = datetime(2027, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def test_csv_bad_lines_are_named_and_good_lines_kept() -> None:
    text = (
        "timestamp,value\n"
        "2027-06-01T00:00:00Z,10\n"
        "2027-06-01T01:00:00Z,eleven\n"
        "not a time,12\n"
        "2027-06-01T03:00:00Z,13,extra\n"
        "\n"
        "1811822400,14\n"  # Unix seconds: 2027-06-01T04:00:00Z
        "2027-06-01T05:00:00,nan\n"
    )
    load = parse_csv(text, source="h.csv")
    assert load.series.start == T0
    assert load.series.values == (10.0, None, None, None, 14.0)
    assert [(e.line, e.reason) for e in load.errors] == [
        (3, "value is not a number"),
        (4, "timestamp is neither ISO 8601 nor Unix seconds"),
        (5, "expected 2 fields (timestamp,value), got 3"),
        (8, "value is not finite"),
    ]
    assert str(load.errors[0]) == "line 3: value is not a number: '2027-06-01T01:00:00Z,eleven'"


def test_csv_without_a_good_line_is_an_error_naming_the_first_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\nyesterday,1\n")
    with pytest.raises(HistoryError, match=r"bad.csv: no usable .* line 2: timestamp is neither"):
        read_csv(path)
    with pytest.raises(HistoryError, match="cannot read"):
        read_csv(tmp_path / "missing.csv")


def test_csv_counter_kind_reads_resets(tmp_path: Path) -> None:
    text = "2027-06-01T00:00:00Z,100\n2027-06-01T01:00:00Z,160\n2027-06-01T02:00:00Z,20\n"
    assert parse_csv(text, kind="counter").series.values == (60.0, 20.0)


def test_write_csv_round_trips_and_leaves_gaps_out(tmp_path: Path) -> None:
    series = HourlySeries(T0, (1.5, None, 3.25))
    write_csv(series, tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_text().splitlines()[1:] == ["2027-06-01T00:00:00Z,1.5", "2027-06-01T02:00:00Z,3.25"]
    assert read_csv(tmp_path / "s.csv").series == series


def _fake_prometheus(values: dict[int, str], limit: int, calls: list[dict[str, str]], series: int = 1) -> web.Application:
    async def query_range(request: web.Request) -> web.Response:
        params = dict(request.query)
        calls.append(params)
        start, end, step = int(params["start"]), int(params["end"]), int(params["step"])
        if (end - start) // step + 1 > limit:
            # What Prometheus answers beyond 11,000 points per series.
            body = {"status": "error", "errorType": "bad_data", "error": "exceeded maximum resolution"}
            return web.json_response(body, status=400)
        points = [[t, values[t]] for t in range(start, end + 1, step) if t in values]
        result: list[dict[str, Any]] = [{"metric": {"n": str(i)}, "values": points} for i in range(series)]
        return web.json_response({"status": "success", "data": {"resultType": "matrix", "result": result}})

    app = web.Application()
    app.router.add_get("/api/v1/query_range", query_range)
    return app


async def test_query_range_pages_under_the_point_limit_without_overlap(aiohttp_server: ServerFactory) -> None:
    start = int(T0.timestamp())
    values = {start + 3600 * i: str(float(i)) for i in range(95)}
    values[start + 3600 * 40] = "NaN"
    del values[start + 3600 * 41]
    calls: list[dict[str, str]] = []
    server = await aiohttp_server(_fake_prometheus(values, limit=25, calls=calls))
    async with aiohttp.ClientSession() as session:
        series = await query_range(
            session, str(server.make_url("/")), "sum(x)", T0, T0 + 99 * H, page_points=25
        )
    assert len(calls) == 4  # 100 points in pages of 25
    starts = [int(c["start"]) for c in calls]
    ends = [int(c["end"]) for c in calls]
    assert all(b == e + 3600 for e, b in zip(ends, starts[1:], strict=False))  # next page starts one step later
    assert all(c["step"] == "3600" and c["query"] == "sum(x)" for c in calls)
    assert series.start == T0 and len(series) == 100
    assert series.values[39] == 39.0 and series.values[40] is None and series.values[41] is None
    assert series.values[95:] == (None,) * 5  # missing at the end: explicit gaps


async def test_query_range_reads_an_answer_streamed_in_pieces(aiohttp_server: ServerFactory) -> None:
    # VictoriaMetrics streams a long answer chunked; reading only what has arrived cuts it short.
    values = [[int(T0.timestamp()) + 3600 * i, str(i / 4)] for i in range(200)]
    data = {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}
    body = json.dumps({"status": "success", "data": data})

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for at in range(0, len(body), 1000):
            await response.write(body[at : at + 1000].encode())
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/api/v1/query_range", streamed)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        series = await query_range(session, str(server.make_url("/")), "sum(x)", T0, T0 + 199 * H)
    assert series.values == tuple(i / 4 for i in range(200))


async def test_query_range_without_paging_hits_the_limit(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(_fake_prometheus({}, limit=25, calls=[]))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(HistoryError, match="HTTP 400: bad_data: exceeded maximum resolution"):
            await query_range(session, str(server.make_url("/")), "sum(x)", T0, T0 + 99 * H, page_points=100)


async def test_query_range_refuses_several_series(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(_fake_prometheus({int(T0.timestamp()): "1"}, limit=100, calls=[], series=2))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(HistoryError, match=r"returned 2 series; aggregate it to one, e.g. sum"):
            await query_range(session, str(server.make_url("/")), "x", T0, T0 + H)


async def test_query_range_unreachable_is_a_history_error() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(HistoryError, match="127.0.0.1:9"):
            await query_range(session, "http://127.0.0.1:9", "x", T0, T0 + H, timeout_seconds=2)


async def test_configured_headers_go_to_the_configured_url_only(aiohttp_server: ServerFactory) -> None:
    # Mimir answers 401 "no org id" without its tenant header; a token must not leak to another URL.
    seen: list[dict[str, str]] = []

    async def query_range(request: web.Request) -> web.Response:
        seen.append({k: v for k, v in request.headers.items() if k in ("X-Scope-OrgID", "Authorization")})
        if "X-Scope-OrgID" not in request.headers:
            return web.Response(status=401, text="no org id\n")
        points = [[t, "1"] for t in range(int(request.query["start"]), int(request.query["end"]) + 1, 3600)]
        return web.json_response({"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}})

    app = web.Application()
    app.router.add_get("/api/v1/query_range", query_range)
    server = await aiohttp_server(app)
    url = str(server.make_url("/"))
    loaded = parse_config(
        f"forecast:\n  prometheus_url: {url}\n  prometheus_headers:\n    X-Scope-OrgID: weddings\n"
        "    Authorization: Bearer s3cret\n  series:\n    requests:\n      query: sum(x)\n"
    )
    now = T0 + 48 * H
    source = await load_source(SourceRequest("requests", history_hours=24, now=now), config=loaded.config.forecast)
    assert len(source.history) == 24
    assert seen == [{"X-Scope-OrgID": "weddings", "Authorization": "Bearer s3cret"}]

    # The same server named on the command line is "another URL": nothing configured goes with it.
    other = url.replace("127.0.0.1", "localhost")
    with pytest.raises(HistoryError, match="401"):
        await load_source(SourceRequest("requests", prometheus=other, history_hours=24, now=now), config=loaded.config.forecast)
    assert seen[-1] == {}
