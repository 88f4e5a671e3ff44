"""wedwatch.demo.exporters: which exporters the demo starts and the scrape jobs it writes for them
(find_binary mocked at that boundary), then the real Debian binaries started, read and stopped."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import yaml
from scrape import parse_scrape

from wedwatch.calendar.demo import demo_weddings
from wedwatch.config import load_config
from wedwatch.config.resources import ExporterSelectors
from wedwatch.demo import ResourceExporters, demo_config, find_binary, local_stack, write_files
from wedwatch.demo import exporters as exporters_module
from wedwatch.demo.exporters import (
    NODE_EXPORTER_NAMES,
    POSTGRES_EXPORTER_NAMES,
    REDIS_EXPORTER_NAMES,
    REDIS_SERVER_NAMES,
    postgres_exporter_dsn,
)

ALL = (NODE_EXPORTER_NAMES, REDIS_SERVER_NAMES, REDIS_EXPORTER_NAMES, POSTGRES_EXPORTER_NAMES)


def _installed(monkeypatch: pytest.MonkeyPatch, *present: tuple[str, ...]) -> None:
    monkeypatch.setattr(exporters_module, "find_binary", lambda names: f"/usr/bin/{names[0]}" if names in present else None)


def _jobs(tmp_path: Path, exporters: ResourceExporters) -> dict[str, list[str]]:
    """The demo's prometheus.yml written with these exporters: {job: targets}."""
    path = write_files(tmp_path, demo_weddings(datetime(2027, 6, 12, 12, tzinfo=UTC)), demo_config("127.0.0.1:8085"))
    config = load_config(path, environ={"WEDWATCH_RECEIVER_TOKEN": "t0ken"}).config
    local = local_stack(
        tmp_path / "stack", config, "127.0.0.1:9839", "127.0.0.1:9840", "t0ken", prometheus_port=9090,
        alertmanager_port=9093, time_compression=10, scrape_configs=exporters.scrape_configs(),
    )  # fmt: skip
    local.write_files()
    prometheus = yaml.safe_load((tmp_path / "stack" / "prometheus.yml").read_text())
    return {job["job_name"]: job["static_configs"][0]["targets"] for job in prometheus["scrape_configs"]}


def test_installed_exporters_are_scraped_under_the_resources_default_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch, *ALL)
    exporters = ResourceExporters.installed(tmp_path / "exporters")
    jobs = _jobs(tmp_path, exporters)
    # No DSN (the demo's store is SQLite): no postgres_exporter.
    assert list(jobs) == ["wedwatch-exporter", "wedwatch-receiver", "node", "redis"]
    # The generated rules select exactly these jobs by default.
    selectors = ExporterSelectors()
    assert (selectors.node, selectors.redis) == ('job="node"', 'job="redis"')
    node, redis = exporters.ports["node_exporter"], exporters.ports["redis_exporter"]
    assert (jobs["node"], jobs["redis"]) == ([f"127.0.0.1:{node}"], [f"127.0.0.1:{redis}"])
    # Free ports of their own, never the packages' services on 9100 and 9121.
    assert len({*exporters.ports.values(), 9100, 9121, 6379}) == len(exporters.ports) + 3
    assert exporters.redis_url == f"redis://127.0.0.1:{exporters.ports['redis_server']}/0"
    assert exporters.not_installed == ()


def test_postgres_exporter_runs_only_with_a_dsn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, *ALL)
    exporters = ResourceExporters.installed(tmp_path, postgres_dsn="postgresql://postgres@127.0.0.1:5432/test")
    assert list(exporters.targets()) == ["node", "redis", "postgres"]


def test_nothing_installed_writes_the_config_of_today(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch)
    exporters = ResourceExporters.installed(tmp_path / "exporters")
    assert list(_jobs(tmp_path, exporters)) == ["wedwatch-exporter", "wedwatch-receiver"]
    assert exporters.redis_url is None
    assert exporters.not_installed == ("redis-server", "prometheus-node-exporter", "prometheus-redis-exporter")


@pytest.mark.parametrize(
    ("present", "exporters", "targets", "not_installed"),
    [
        # redis_exporter without Redis has nothing to export.
        ((NODE_EXPORTER_NAMES, REDIS_EXPORTER_NAMES), True, ["node"], ("redis-server",)),
        # Without Prometheus (exporters=False) only Redis, the platform's cache, is wanted.
        (ALL, False, [], ()),
        ((), False, [], ("redis-server",)),
    ],
)  # fmt: skip
def test_what_runs_follows_what_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, present: tuple[tuple[str, ...], ...], exporters: bool,
    targets: list[str], not_installed: tuple[str, ...],
) -> None:  # fmt: skip
    _installed(monkeypatch, *present)
    found = ResourceExporters.installed(tmp_path, exporters=exporters)
    assert (list(found.targets()), found.not_installed) == (targets, not_installed)


def test_the_postgres_dsn_disables_tls_unless_told() -> None:
    assert postgres_exporter_dsn("postgresql://postgres@127.0.0.1:5432/test") == (
        "postgresql://postgres@127.0.0.1:5432/test?sslmode=disable"
    )
    assert postgres_exporter_dsn("postgresql://u@db/x?sslmode=require&application_name=a") == (
        "postgresql://u@db/x?sslmode=require&application_name=a"
    )


def _refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


async def _scrape(session: aiohttp.ClientSession, target: str) -> dict[str, float]:
    async with session.get(f"http://{target}/metrics") as r:
        assert r.status == 200
        scrape = parse_scrape(await r.read())
    return {name: value for (name, labels), value in scrape.samples.items() if not labels}


async def test_the_real_exporters_start_answer_and_stop(tmp_path: Path, postgres_url: str) -> None:
    for names in ALL:
        if find_binary(names) is None:
            pytest.fail(f"{names[0]} is missing: `make test` installs Debian's package")
    exporters = ResourceExporters.installed(tmp_path, postgres_dsn=postgres_exporter_dsn(postgres_url))
    try:
        await exporters.start()
        targets = exporters.targets()
        async with aiohttp.ClientSession() as session:
            assert (await _scrape(session, targets["node"]))["node_memory_MemAvailable_bytes"] > 0
            redis = await _scrape(session, targets["redis"])
            # A limit, as a production cache has: the memory alert divides by it (0 would mean none).
            assert (redis["redis_up"], redis["redis_memory_max_bytes"]) == (1, 64 * 1024 * 1024)
            assert (await _scrape(session, targets["postgres"]))["pg_up"] == 1
            exporters.stop_redis()
            assert (await _scrape(session, targets["redis"]))["redis_up"] == 0
            await exporters.start_redis()
            assert (await _scrape(session, targets["redis"]))["redis_up"] == 1
    finally:
        exporters.stop()
    assert all(_refuses(port) for port in exporters.ports.values()), exporters.ports
    assert exporters.processes == []
