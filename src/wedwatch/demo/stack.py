"""Prometheus and Alertmanager on loopback, wired to wedwatch: for the demo, the soak and the end-to-end tests.

Debian names the binaries `prometheus` and `prometheus-alertmanager` (upstream: `alertmanager`).
Alertmanager runs without clustering (`--cluster.listen-address=`), otherwise it waits for a
cluster to settle and the first notification takes ten seconds instead of one. Both get an
explicit `--web.external-url` so that payload URLs name 127.0.0.1, not the host name.

With `victoriametrics_port` set, VictoriaMetrics (Debian's `victoria-metrics`; upstream's release
binary is `victoria-metrics-prod`) runs beside them as the long-term store and Prometheus
remote-writes every sample to it. Its default retention is one month, shorter than the year of
history the forecaster asks for, so the stack sets one (docs/long-term-storage.md).

The Alertmanager config it patches is package data (`alertmanager.yml` beside this module, a
byte-for-byte copy of examples/alertmanager.yml that tests/demo/test_demo_stack.py holds equal), so
an installed wedwatch runs the demo without the repository.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from wedwatch.config import Config
from wedwatch.demo.processes import http_ok, spawn, stop_processes, wait_until
from wedwatch.errors import WedwatchError
from wedwatch.rules import rule_files, write_rule_files
from wedwatch.rules.compress import COMPRESSED_HEADER, compress_time

__all__ = [
    "LocalStack",
    "find_binary",
    "PROMETHEUS_NAMES",
    "ALERTMANAGER_NAMES",
    "VICTORIAMETRICS_NAMES",
    "EXAMPLE_ALERTMANAGER",
]

PROMETHEUS_NAMES = ("prometheus",)
ALERTMANAGER_NAMES = ("prometheus-alertmanager", "alertmanager")
VICTORIAMETRICS_NAMES = ("victoria-metrics", "victoria-metrics-prod")
# The example Alertmanager config (examples/alertmanager.yml, shipped as package data), which the
# local stack patches (URLs, waits).
EXAMPLE_ALERTMANAGER = resources.files("wedwatch.demo").joinpath("alertmanager.yml")


def find_binary(names: tuple[str, ...]) -> str | None:
    """The first of `names` on PATH."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


# deploy/compose/prometheus.yml: global 15 s, the exporter's job at the ceremony's probe interval.
PRODUCTION_SCRAPE_INTERVAL = "15s"
PRODUCTION_EXPORTER_SCRAPE_INTERVAL = "10s"


@dataclass
class LocalStack:
    """Writes the configs, starts the servers, waits until they answer, stops them."""

    directory: Path
    config: Config
    exporter: str  # host:port
    receiver: str  # host:port
    receiver_token: str
    prometheus_port: int = 9090
    alertmanager_port: int = 9093
    scrape_interval: str = "1s"
    time_compression: int = 30
    group_wait: str = "1s"
    group_interval: str = "2s"
    # None: no long-term store. A port: VictoriaMetrics there, and Prometheus remote-writes to it.
    victoriametrics_port: int | None = None
    # A year of hourly history for the forecaster (forecast.history_hours) and a margin.
    victoriametrics_retention: str = "400d"
    # More scrape jobs after wedwatch's own (the resource exporters': ResourceExporters.scrape_configs).
    scrape_configs: list[dict[str, Any]] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def production(self) -> bool:
        """Time compression 1: the shipped production settings, unchanged (rules, intervals, routing)."""
        return self.time_compression == 1

    @property
    def prometheus_url(self) -> str:
        """Where Prometheus answers."""
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        """Where Alertmanager answers."""
        return f"http://127.0.0.1:{self.alertmanager_port}"

    @property
    def victoriametrics_url(self) -> str:
        """Where VictoriaMetrics answers: its Prometheus query API, its import and remote-write endpoints."""
        if self.victoriametrics_port is None:
            raise WedwatchError("this local stack runs without VictoriaMetrics (victoriametrics_port is None)")
        return f"http://127.0.0.1:{self.victoriametrics_port}"

    def write_files(self) -> None:
        """Rules (time-compressed), prometheus.yml, alertmanager.yml and the token file."""
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        files = rule_files(self.config)
        note = ""
        if self.time_compression > 1:
            files = compress_time(files, self.time_compression)
            note = COMPRESSED_HEADER.format(factor=self.time_compression)
        write_rule_files(files, d / "rules", note=note)
        token = d / "receiver.token"
        token.write_text(self.receiver_token)
        token.chmod(0o600)
        exporter_job: dict[str, Any] = {"job_name": "wedwatch-exporter", "static_configs": [{"targets": [self.exporter]}]}
        if self.production:
            # deploy/compose/prometheus.yml's settings: what users run, so what the demo shows.
            interval = {"scrape_interval": PRODUCTION_SCRAPE_INTERVAL, "evaluation_interval": PRODUCTION_SCRAPE_INTERVAL}
            exporter_job["scrape_interval"] = PRODUCTION_EXPORTER_SCRAPE_INTERVAL
        else:
            interval = {"scrape_interval": self.scrape_interval, "evaluation_interval": self.scrape_interval}
        prometheus = {
            "global": interval,
            "rule_files": [str(d / "rules" / "*.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{self.alertmanager_port}"]}]}]},
            "scrape_configs": [
                exporter_job,
                {"job_name": "wedwatch-receiver", "static_configs": [{"targets": [self.receiver]}]},
                *self.scrape_configs,
            ],
        }
        if self.victoriametrics_port is not None:
            # Prometheus' default waits up to 5 s to fill a batch; at 1 s scrapes, send each second.
            queue = {"batch_send_deadline": "1s"}
            prometheus["remote_write"] = [{"url": f"{self.victoriametrics_url}/api/v1/write", "queue_config": queue}]
        (d / "prometheus.yml").write_text(yaml.safe_dump(prometheus, sort_keys=False))
        (d / "alertmanager.yml").write_text(yaml.safe_dump(self._alertmanager_config(token), sort_keys=False))

    def _alertmanager_config(self, token: Path) -> dict[str, Any]:
        try:
            document: dict[str, Any] = yaml.safe_load(EXAMPLE_ALERTMANAGER.read_text(encoding="utf-8"))
        except OSError as exc:
            raise WedwatchError(f"cannot read the example Alertmanager config {EXAMPLE_ALERTMANAGER}: {exc}") from exc
        route = document["route"]
        if not self.production:  # compressed time: Alertmanager's waits shrink with it
            for r in [route, *route.get("routes", [])]:
                r.update(group_wait=self.group_wait, group_interval=self.group_interval)
        for receiver in document["receivers"]:
            for hook in receiver.get("webhook_configs", []):
                hook["url"] = f"http://{self.receiver}/alerts"
                hook["http_config"]["authorization"]["credentials_file"] = str(token)
        return document

    async def start(self, *, timeout: float = 30.0) -> None:
        """Start Prometheus and Alertmanager (and VictoriaMetrics) and wait until they are ready."""
        prometheus = find_binary(PROMETHEUS_NAMES)
        alertmanager = find_binary(ALERTMANAGER_NAMES)
        if prometheus is None or alertmanager is None:
            raise WedwatchError(
                "prometheus and alertmanager must be installed (Debian: prometheus, prometheus-alertmanager)"
            )
        d = self.directory
        if self.victoriametrics_port is not None:
            await self._start_victoriametrics(timeout)
        self._spawn(
            [alertmanager, f"--config.file={d / 'alertmanager.yml'}", f"--storage.path={d / 'alertmanager-data'}",
             f"--web.listen-address=127.0.0.1:{self.alertmanager_port}", "--cluster.listen-address=",
             f"--web.external-url={self.alertmanager_url}"],
            d / "alertmanager.log",
        )  # fmt: skip
        self._spawn(
            [prometheus, f"--config.file={d / 'prometheus.yml'}", f"--storage.tsdb.path={d / 'prometheus-data'}",
             f"--web.listen-address=127.0.0.1:{self.prometheus_port}", f"--web.external-url={self.prometheus_url}",
             "--web.enable-lifecycle"],
            d / "prometheus.log",
        )  # fmt: skip
        await self._wait_ready(f"{self.alertmanager_url}/-/ready", timeout)
        await self._wait_ready(f"{self.prometheus_url}/-/ready", timeout)

    async def _start_victoriametrics(self, timeout: float) -> None:
        binary = find_binary(VICTORIAMETRICS_NAMES)
        if binary is None:
            raise WedwatchError("victoria-metrics must be installed (Debian: victoria-metrics)")
        d = self.directory
        self._spawn(
            [binary, f"-storageDataPath={d / 'victoriametrics-data'}",
             f"-retentionPeriod={self.victoriametrics_retention}", f"-httpListenAddr=127.0.0.1:{self.victoriametrics_port}"],
            d / "victoriametrics.log",
        )  # fmt: skip
        await self._wait_ready(f"{self.victoriametrics_url}/health", timeout)

    def _spawn(self, argv: list[str], log: Path) -> None:
        self.processes.append(spawn(argv, log))

    async def _wait_ready(self, url: str, timeout: float) -> None:
        await wait_until(http_ok(url), url, self.processes, timeout=timeout, logs=self.directory)

    def stop(self) -> None:
        """Stop the servers one at a time, last started first (SIGTERM, then SIGKILL after 10 s)."""
        # One at a time: Prometheus (started last) goes before VictoriaMetrics, or it spends its
        # shutdown retrying to flush samples to a store that is gone until SIGKILL.
        stop_processes(self.processes)
