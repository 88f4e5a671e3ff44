"""The system and resource alerts for real (issue 17): Debian's postgres_exporter against the test
PostgreSQL, a redis-server and redis_exporter of this test's own, real Prometheus and Alertmanager
with the generated rules (time-compressed x30), and the receiver, on free loopback ports. The
packages' own services (:9187, :9121, :9100) are never used.

A wedding is in its ceremony, so the live thresholds apply; `for:` is 1 m, 2 s once compressed. Holding open connections to the
test PostgreSQL fires WedwatchDatabaseConnectionsHigh at `high` below the quiet-day `high`
threshold, and the receiver decides `scale` of `db_connections` only; closing them resolves it.
Stopping the test's Redis fires WedwatchCacheDown (critical); starting it again resolves it.

The server is shared (other tests, other engineers): its max_connections (100 here) cannot move,
so the thresholds move instead. They are set from the connections in use before the test
(postgres_exporter's own count, the rule's numerator), so that holding HOLD more reaches the live
`high` threshold with DROP to spare, and the quiet-day one stays RISE further away: a few
connections opened or closed by others meanwhile change nothing. At most HOLD connections are
held, always closed in a finally. About 20 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
import yaml
from aiohttp import web
from e2e_support import eventually, free_port, recorded_actions, serve
from scrape import parse_scrape

from wedwatch.calendar import parse_calendar
from wedwatch.config import load_config
from wedwatch.demo import ALERTMANAGER_NAMES, PROMETHEUS_NAMES, LocalStack, find_binary
from wedwatch.demo.exporters import (
    POSTGRES_EXPORTER_NAMES,
    REDIS_EXPORTER_NAMES,
    REDIS_SERVER_NAMES,
    ExporterJobs,
    ResourceExporters,
    postgres_exporter_dsn,
)
from wedwatch.exporter.app import create_app as exporter_app
from wedwatch.platform import PlatformSettings
from wedwatch.platform import create_app as platform_app
from wedwatch.receiver.app import create_app as receiver_app

pytestmark = pytest.mark.e2e
TOKEN = "e2e-resources-token"
JOBS = ExporterJobs(node="e2e-node", postgres="e2e-postgres", redis="e2e-redis")
HOLD = 24  # connections this test holds open (never more)
DROP = 4  # others may close this many meanwhile and the live `high` threshold is still reached
RISE = 6  # others may open this many more and the quiet-day `high` threshold is still not reached
USED = (
    f'sum without (datname, state) (pg_stat_activity_count{{job="{JOBS.postgres}"}})'
    f' / pg_settings_max_connections{{job="{JOBS.postgres}"}}'
)


@dataclass
class Stack:
    local: LocalStack
    exporters: ResourceExporters
    receiver: str
    postgres_url: str
    thresholds: dict[str, float]
    live_offset: float
    requests: list[tuple[str, dict[str, Any]]]

    async def query(self, session: aiohttp.ClientSession, promql: str) -> list[dict[str, Any]]:
        async with session.get(f"{self.local.prometheus_url}/api/v1/query", params={"query": promql}) as r:
            body = await r.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    async def api(self, session: aiohttp.ClientSession, path: str) -> list[dict[str, Any]]:
        async with session.get(f"{self.receiver}/api/v1/{path}") as r:
            assert r.status == 200, await r.text()
            return list((await r.json())["data"])


async def _connections(exporters: ResourceExporters) -> tuple[float, float]:
    """(connections in use, max_connections) as postgres_exporter reports them: the rule's own numbers."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{exporters.targets()[JOBS.postgres]}/metrics") as r:
            scrape = parse_scrape(await r.read())
    used = sum(v for (name, _), v in scrape.samples.items() if name == "pg_stat_activity_count")
    (most,) = [v for (name, _), v in scrape.samples.items() if name == "pg_settings_max_connections"]
    return used, most


def _thresholds(used: float, most: float) -> tuple[dict[str, float], float]:
    """Used-ratio tiers and live offset such that `used + HOLD` connections are `high` live, `medium` quiet.

    Live, `high` is max(high - offset, medium) (never below the quiet `medium`): with offset = high - medium it is
    exactly `medium`, reached at used + HOLD - DROP connections; quiet, `high` needs used + HOLD + RISE. The half
    connection keeps each threshold between two whole counts.
    """
    if used + HOLD + RISE + 10 > most:
        pytest.fail(f"PostgreSQL has {used:g} of {most:g} connections in use: too busy to hold {HOLD} more safely")
    medium = (used + HOLD - DROP - 0.5) / most
    high = (used + HOLD + RISE - 0.5) / most
    return {"medium": medium, "high": high, "critical": 0.99}, high - medium


@pytest.fixture
async def stack(tmp_path: Path, postgres_url: str) -> AsyncIterator[Stack]:
    for names in (PROMETHEUS_NAMES, ALERTMANAGER_NAMES, POSTGRES_EXPORTER_NAMES, REDIS_EXPORTER_NAMES, REDIS_SERVER_NAMES):
        if find_binary(names) is None:
            pytest.fail(f"{names[0]} is missing: `make test` installs Debian's package")
    runners: list[web.AppRunner] = []
    # No node_exporter: cpu, memory and disk alerts are disabled below (the demo's test scrapes it).
    exporters = ResourceExporters(
        tmp_path / "exporters", redis_server=find_binary(REDIS_SERVER_NAMES),
        redis_exporter=find_binary(REDIS_EXPORTER_NAMES), postgres_exporter=find_binary(POSTGRES_EXPORTER_NAMES),
        postgres_dsn=postgres_exporter_dsn(postgres_url), jobs=JOBS,
        # No limit: the used-ratio tiers are set low below for connections, and a cache ratio must not cross them.
        redis_maxmemory="0",
    )  # fmt: skip
    local: LocalStack | None = None
    try:
        await exporters.start()
        tiers, offset = _thresholds(*await _connections(exporters))
        entries = [{"id": "w-live", "ceremony_at": (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
                    "timezone": "UTC", "guests": 180, "vendors": 8}]  # fmt: skip
        (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": entries}))
        requests: list[tuple[str, dict[str, Any]]] = []

        async def record(request: web.Request) -> web.Response:
            requests.append((request.path, await request.json() if request.can_read_body else {}))
            return web.json_response({"ok": True})

        target_app = web.Application()
        target_app.router.add_route("*", "/{tail:.*}", record)
        target = await serve(target_app, runners)
        weddings = parse_calendar(entries, source="e2e").weddings
        platform = await serve(platform_app(weddings, settings=PlatformSettings(guest_list_per_guest_seconds=0)), runners)
        config = {
            "platform": {"base_url": f"http://{platform}"},
            "calendar": {"file": "weddings.yml"},
            # Only wedwatch_weddings matters here (it says a wedding is live): one light operation.
            "operations": {name: {"enabled": name == "guest_list"} for name in
                           ("guest_list", "photo_upload", "timeline_sync", "vendor_notification", "mobile", "critical_path")},
            "store": {"url": "sqlite:///receiver.db"},
            "receiver": {"auth": {"bearer_token": TOKEN, "public_read": True}, "emergency_hold_seconds": 5},
            "resources": {
                "selectors": {"node": f'job="{JOBS.node}"', "postgres": f'job="{JOBS.postgres}"',
                              "redis": f'job="{JOBS.redis}"'},
                "used_ratio": tiers,
                "live_offset": offset,
                # 1 m: 2 s once compressed x30.
                "database": {"for_seconds": 60, "down_for_seconds": 60},
                "cache": {"for_seconds": 60, "down_for_seconds": 60},
                "cpu": {"enabled": False}, "memory": {"enabled": False}, "disk": {"enabled": False},
                "offline": {"enabled": False},
            },
            "actions": recorded_actions(target),
        }  # fmt: skip
        (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(config))
        loaded = load_config(tmp_path / "wedwatch.yml", environ={})
        exporter = await serve(exporter_app(loaded, record=False), runners)
        receiver = await serve(receiver_app(loaded), runners)
        local = LocalStack(
            tmp_path / "prometheus-stack", loaded.config, exporter, receiver, TOKEN, prometheus_port=free_port(),
            alertmanager_port=free_port(), time_compression=30, scrape_configs=exporters.scrape_configs(),
        )  # fmt: skip
        local.write_files()
        await local.start()
        yield Stack(local, exporters, f"http://{receiver}", postgres_url, tiers, offset, requests)
    finally:
        if local is not None:
            local.stop()
        exporters.stop()
        for runner in reversed(runners):
            await runner.cleanup()


def _alerts(alertname: str, **labels: str) -> str:
    matchers = "".join(f',{k}="{v}"' for k, v in labels.items())
    return f'ALERTS{{alertname="{alertname}",alertstate="firing"{matchers}}}'


async def _incident(stack: Stack, session: aiohttp.ClientSession, alertname: str, status: str, severity: str) -> Any:
    for row in await stack.api(session, f"alerts?status={status}"):
        if (row["alertname"], row["severity"]) == (alertname, severity):
            return row
    return None


async def test_database_connections_and_cache_down_fire_act_and_resolve(stack: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        scraped = f'up{{job=~"{JOBS.postgres}|{JOBS.redis}|wedwatch-exporter"}} == 1'
        await eventually(lambda: _count(stack.query(session, scraped), 3), "Prometheus scraping both exporters", 60)
        live = 'sum(wedwatch_weddings{phase=~"ceremony|wedding_day"}) > 0'
        await eventually(lambda: stack.query(session, live), "the exporter reporting a live wedding", 30)

        # Database: HOLD idle connections put the server above the live `high` threshold only.
        held: list[psycopg.AsyncConnection[Any]] = []
        try:
            for _ in range(HOLD):
                held.append(await psycopg.AsyncConnection.connect(
                    stack.postgres_url, autocommit=True, application_name="wedwatch-e2e-resources"))  # fmt: skip
            high = _alerts("WedwatchDatabaseConnectionsHigh", severity="high", resource="database", signal="saturation")
            firing = await eventually(lambda: stack.query(session, high), "WedwatchDatabaseConnectionsHigh (high)", 60)
            assert {a["metric"]["job"] for a in firing} == {JOBS.postgres}
            (used,) = await stack.query(session, USED)
            ratio = float(used["value"][1])
            # High only because a wedding is live: on a quiet day this load is `medium`.
            assert stack.thresholds["medium"] <= ratio < stack.thresholds["high"], (ratio, stack.thresholds)
            assert not await stack.query(session, _alerts("WedwatchDatabaseConnectionsHigh", severity="critical"))

            incident = await eventually(
                lambda: _incident(stack, session, "WedwatchDatabaseConnectionsHigh", "firing", "high"),
                "the receiver to store WedwatchDatabaseConnectionsHigh (high)", 30,
            )  # fmt: skip
            response = await eventually(lambda: _scaled(stack, session, incident["id"]), "its scale action done", 30)
            # Not raised again (the rule's live threshold already did): urgent, and it sizes connections only.
            assert (incident["escalated_severity"], response["strategy"]) == ("high", "urgent")
            assert (response["details"]["resource"], response["details"]["capacity"]) == ("database", ["db_connections"])
            scaled = [body["capacity"] for path, body in stack.requests if path == "/scale"]
            assert scaled and all(set(c) == {"db_connections"} for c in scaled), scaled
        finally:
            for conn in held:
                await conn.close()
        await eventually(lambda: _none(stack.query(session, _alerts("WedwatchDatabaseConnectionsHigh"))),
                         "WedwatchDatabaseConnectionsHigh to resolve in Prometheus", 60)  # fmt: skip
        await eventually(lambda: _incident(stack, session, "WedwatchDatabaseConnectionsHigh", "resolved", "high"),
                         "the receiver to resolve WedwatchDatabaseConnectionsHigh", 30)  # fmt: skip

        # Cache: the test's own Redis stops; its exporter goes on reporting redis_up 0.
        stack.exporters.stop_redis()
        down = _alerts("WedwatchCacheDown", severity="critical", resource="cache", signal="down")
        firing = await eventually(lambda: stack.query(session, down), "WedwatchCacheDown", 60)
        assert {a["metric"]["job"] for a in firing} == {JOBS.redis}
        incident = await eventually(lambda: _incident(stack, session, "WedwatchCacheDown", "firing", "critical"),
                                    "the receiver to store WedwatchCacheDown", 30)  # fmt: skip
        assert incident["strategy"] == "emergency"  # critical while a wedding is live
        await stack.exporters.start_redis()
        await eventually(lambda: _none(stack.query(session, _alerts("WedwatchCacheDown"))),
                         "WedwatchCacheDown to resolve in Prometheus", 60)  # fmt: skip
        await eventually(lambda: _incident(stack, session, "WedwatchCacheDown", "resolved", "critical"),
                         "the receiver to resolve WedwatchCacheDown", 30)  # fmt: skip


async def _count(result: Any, n: int) -> bool:
    return len(await result) == n


async def _none(result: Any) -> bool:
    return not await result


async def _scaled(stack: Stack, session: aiohttp.ClientSession, incident_id: int) -> dict[str, Any] | None:
    """The incident's response once its `scale` action is done."""
    for response in await stack.api(session, "responses"):
        if response["incident_id"] == incident_id:
            if any(a["action"] == "scale" and a["status"] == "done" for a in response["actions"]):
                return response
    return None
