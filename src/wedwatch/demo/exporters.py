"""node_exporter, Redis with redis_exporter, and postgres_exporter on loopback: whichever is installed.

The system and resource alerts (wedwatch.rules.resources) are written on these exporters' own
series; the demo and the end-to-end test start real ones beside Prometheus. Debian names the
binaries `prometheus-node-exporter`, `prometheus-redis-exporter` and `prometheus-postgres-exporter`
(upstream: `node_exporter`, `redis_exporter`, `postgres_exporter`). Its packages also install
services on the exporters' usual ports (9100, 9121, 9187), which nothing here relies on or collides
with: every process gets a free loopback port of its own.

- redis-server runs without persistence (`--save ""`, no AOF) in its own directory; its URL is
  what the platform stand-in's `--cache.url` takes. It can be stopped and started again on the
  same port (the test of WedwatchCacheDown). It has a memory limit (64 MB, LRU eviction) as a
  production cache does: without one redis_memory_max_bytes reads 0, and WedwatchCacheMemoryHigh
  and the dashboard's cache memory panel have nothing to divide by.
- redis_exporter 1.45 takes single-dash flags (`-redis.addr`, `-web.listen-address`) and keeps
  serving /metrics with `redis_up 0` while Redis is down.
- postgres_exporter reads its DSN from DATA_SOURCE_NAME, never a flag (the URL may carry a
  password); lib/pq defaults to `sslmode=require`, so a local server wants `?sslmode=disable`. It
  runs only when given a DSN: the demo's store is SQLite.

Job names default to the `resources` config's selectors (`job="node"`, `job="postgres"`,
`job="redis"`), so the generated rules select these series unchanged.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wedwatch.demo.processes import free_port, http_ok, redis_pong, spawn, stop_process, stop_processes, wait_until
from wedwatch.demo.stack import find_binary

__all__ = [
    "ExporterJobs",
    "ResourceExporters",
    "postgres_exporter_dsn",
    "NODE_EXPORTER_NAMES",
    "POSTGRES_EXPORTER_NAMES",
    "REDIS_EXPORTER_NAMES",
    "REDIS_SERVER_NAMES",
]

NODE_EXPORTER_NAMES: tuple[str, ...] = ("prometheus-node-exporter", "node_exporter")
POSTGRES_EXPORTER_NAMES: tuple[str, ...] = ("prometheus-postgres-exporter", "postgres_exporter")
REDIS_EXPORTER_NAMES: tuple[str, ...] = ("prometheus-redis-exporter", "redis_exporter")
REDIS_SERVER_NAMES: tuple[str, ...] = ("redis-server",)


def postgres_exporter_dsn(url: str) -> str:
    """`url` for postgres_exporter: lib/pq asks for TLS unless told `sslmode` (libpq prefers, then falls back)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("sslmode", "disable")
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class ExporterJobs:
    """Scrape job names; the defaults are what the `resources` config selects (config/resources.py)."""

    node: str = "node"
    postgres: str = "postgres"
    redis: str = "redis"


@dataclass
class ResourceExporters:
    """Which of the processes run (a binary each, None: not started), on which ports; starts and stops them."""

    directory: Path
    node_exporter: str | None = None
    redis_server: str | None = None
    redis_exporter: str | None = None  # runs only beside redis_server
    postgres_exporter: str | None = None  # runs only with postgres_dsn
    postgres_dsn: str | None = None
    redis_maxmemory: str = "64mb"
    jobs: ExporterJobs = field(default_factory=ExporterJobs)
    ports: dict[str, int] = field(default_factory=dict)
    # Debian packages wanted but not installed (what `installed` could not find), for the demo to say.
    not_installed: tuple[str, ...] = ()
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _redis: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.redis_server is None:
            self.redis_exporter = None
        if self.postgres_dsn is None:
            self.postgres_exporter = None
        for name in ("node_exporter", "redis_server", "redis_exporter", "postgres_exporter"):
            if getattr(self, name) is not None:
                self.ports.setdefault(name, free_port())

    @classmethod
    def installed(
        cls, directory: Path, *, exporters: bool = True, postgres_dsn: str | None = None,
        jobs: ExporterJobs | None = None,
    ) -> ResourceExporters:  # fmt: skip
        """Whatever is on PATH: Redis always, the exporters only with `exporters` (postgres_exporter only with a DSN)."""
        wanted: list[tuple[tuple[str, ...], str]] = [(REDIS_SERVER_NAMES, "redis-server")]
        if exporters:
            wanted += [
                (NODE_EXPORTER_NAMES, "prometheus-node-exporter"),
                (REDIS_EXPORTER_NAMES, "prometheus-redis-exporter"),
            ]
            if postgres_dsn is not None:
                wanted.append((POSTGRES_EXPORTER_NAMES, "prometheus-postgres-exporter"))
        found = {names: find_binary(names) for names, _ in wanted}
        return cls(
            directory,
            node_exporter=found.get(NODE_EXPORTER_NAMES),
            redis_server=found.get(REDIS_SERVER_NAMES),
            redis_exporter=found.get(REDIS_EXPORTER_NAMES),
            postgres_exporter=found.get(POSTGRES_EXPORTER_NAMES),
            postgres_dsn=postgres_dsn,
            jobs=jobs or ExporterJobs(),
            not_installed=tuple(package for names, package in wanted if found[names] is None),
        )

    @property
    def redis_url(self) -> str | None:
        """The Redis URL for the platform's `--cache.url`, when Redis runs."""
        return f"redis://127.0.0.1:{self.ports['redis_server']}/0" if self.redis_server else None

    def running(self) -> list[tuple[str, str, str]]:
        """(exporter, scrape job, `host:port`) of each exporter that runs."""
        jobs = {
            "node_exporter": self.jobs.node,
            "redis_exporter": self.jobs.redis,
            "postgres_exporter": self.jobs.postgres,
        }
        return [(name, job, f"127.0.0.1:{self.ports[name]}") for name, job in jobs.items() if getattr(self, name)]

    def targets(self) -> dict[str, str]:
        """Each scrape job's `host:port`: the exporters that run."""
        return {job: target for _, job, target in self.running()}

    def scrape_configs(self) -> list[dict[str, Any]]:
        """Prometheus scrape jobs of the exporters that run (the global interval applies)."""
        return [{"job_name": job, "static_configs": [{"targets": [t]}]} for job, t in self.targets().items()]

    async def start(self, *, timeout: float = 30.0) -> None:
        """Start Redis (first: its exporter and the platform connect to it), then the exporters; wait until each answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.redis_server is not None:
            await self.start_redis(timeout=timeout)
        ports = self.ports
        if self.node_exporter is not None:
            await self._start(
                [self.node_exporter, f"--web.listen-address=127.0.0.1:{ports['node_exporter']}"],
                "node_exporter", timeout,
            )  # fmt: skip
        if self.redis_exporter is not None:
            await self._start(
                [self.redis_exporter, "-redis.addr", f"redis://127.0.0.1:{ports['redis_server']}",
                 "-web.listen-address", f"127.0.0.1:{ports['redis_exporter']}"],
                "redis_exporter", timeout,
            )  # fmt: skip
        if self.postgres_exporter is not None and self.postgres_dsn is not None:
            await self._start(
                [self.postgres_exporter, f"--web.listen-address=127.0.0.1:{ports['postgres_exporter']}"],
                "postgres_exporter", timeout, env={**os.environ, "DATA_SOURCE_NAME": self.postgres_dsn},
            )  # fmt: skip

    async def _start(self, argv: list[str], name: str, timeout: float, env: dict[str, str] | None = None) -> None:
        process = spawn(argv, self.directory / f"{name}.log", env=env)
        self.processes.append(process)
        url = f"http://127.0.0.1:{self.ports[name]}/metrics"
        await wait_until(http_ok(url), url, [process], timeout=timeout, logs=self.directory)

    async def start_redis(self, *, timeout: float = 30.0) -> None:
        """Start redis-server on its port (again, after stop_redis) and wait until it answers PING."""
        if self.redis_server is None or self._redis is not None:
            return
        port = self.ports["redis_server"]
        data = self.directory / "redis"
        data.mkdir(parents=True, exist_ok=True)
        self._redis = spawn(
            [self.redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(data), "--maxmemory", self.redis_maxmemory, "--maxmemory-policy", "allkeys-lru"],
            self.directory / "redis.log",
        )  # fmt: skip
        await wait_until(
            redis_pong(port), f"redis-server on port {port}", [self._redis], timeout=timeout, logs=self.directory
        )

    def stop_redis(self) -> None:
        """Stop redis-server (its exporter goes on, reporting redis_up 0)."""
        process, self._redis = self._redis, None
        if process is not None:
            stop_process(process)

    def stop(self) -> None:
        """Stop the exporters, last started first, then Redis."""
        stop_processes(self.processes)
        self.stop_redis()
