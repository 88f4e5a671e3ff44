"""A real Prometheus scrapes `wedwatch exporter` and `wedwatch receiver` over TLS with basic auth, both
processes started with --web.config.file, through the scrape jobs docs/security.md shows (read from the
page): the targets are up; a job without credentials is refused (up 0, 401). The receiver's page and API answer a login,
refuse anyone else, and /alerts still takes Alertmanager's bearer token (receiver.auth).
"""

from __future__ import annotations

import base64
import os
import re
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from checkout import REPO
from e2e_support import eventually, free_port
from tls_files import TLSFiles, bcrypt_hash, make_tls_files

from wedwatch.calendar.demo import demo_weddings
from wedwatch.demo import PROMETHEUS_NAMES, find_binary

pytestmark = pytest.mark.e2e
PASSWORD = "scrape-me-over-tls"
LOGIN = {"Authorization": "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()}
TOKEN = "alertmanager-bearer-token"
FIRING = Path(__file__).parents[1] / "receiver" / "fixtures" / "firing.json"
SECURITY = REPO / "docs" / "security.md"


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A child process whose output goes to `log`; stopped (SIGTERM, then SIGKILL) on leaving."""
    with log.open("ab") as out:
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


def write_files(tmp_path: Path, pki: TLSFiles) -> dict[str, Path]:
    weddings = demo_weddings(datetime.now(UTC))
    (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}))
    config = {
        # Nothing answers there: failing probes are as good as any, the scrape is what is tested.
        "platform": {"base_url": f"http://127.0.0.1:{free_port()}"},
        "calendar": {"file": "weddings.yml", "refresh_interval_seconds": 3600},
        "store": {"url": "sqlite:///wedwatch.db"},
        "receiver": {"auth": {"bearer_token": "${E2E_RECEIVER_TOKEN}"}},
    }
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "web.yml").write_text(yaml.safe_dump({
        "tls_server_config": {"cert_file": str(pki.server_cert), "key_file": str(pki.server_key)},
        "basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD, cost=10)},
        "http_server_config": {"headers": {"X-Content-Type-Options": "nosniff"}},
    }))  # fmt: skip
    (tmp_path / "password").write_text(PASSWORD + "\n")  # Prometheus trims the trailing newline
    return {"config": tmp_path / "wedwatch.yml", "web": tmp_path / "web.yml", "password": tmp_path / "password"}


def documented_jobs(exporter: str, receiver: str, ca: Path, password_file: Path) -> list[dict[str, Any]]:
    """docs/security.md's two scrape jobs, with this test's addresses and files; and one without credentials."""
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", SECURITY.read_text(), re.S) if b.startswith("scrape_configs:")]
    jobs: list[dict[str, Any]] = yaml.safe_load(block)["scrape_configs"]
    targets = {"wedwatch-exporter": exporter, "wedwatch-receiver": receiver}
    assert [job["job_name"] for job in jobs] == list(targets)
    for job in jobs:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        job["tls_config"]["ca_file"] = str(ca)
        job["basic_auth"]["password_file"] = str(password_file)
    anonymous = {k: v for k, v in jobs[0].items() if k != "basic_auth"}
    return [*jobs, {**anonymous, "job_name": "no-credentials"}]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    binary = find_binary(PROMETHEUS_NAMES)
    if binary is None:
        pytest.fail("Prometheus is missing: `make test` installs Debian's package")
    pki = make_tls_files(tmp_path / "pki")
    files = write_files(tmp_path, pki)
    exporter, receiver, prometheus = (f"127.0.0.1:{free_port()}" for _ in range(3))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": documented_jobs(exporter, receiver, pki.ca, files["password"]),
    }))  # fmt: skip
    wedwatch = [sys.executable, "-m", "wedwatch"]
    env = {"E2E_RECEIVER_TOKEN": TOKEN}  # the one config file serves both commands
    with (
        process([*wedwatch, "exporter", f"--config.file={files['config']}", f"--web.config.file={files['web']}",
                 f"--web.listen-address={exporter}", "--no-record"], tmp_path / "exporter.log", env),
        process([*wedwatch, "receiver", f"--config.file={files['config']}", f"--web.config.file={files['web']}",
                 f"--web.listen-address={receiver}"], tmp_path / "receiver.log", env),
        process([binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address={prometheus}"], tmp_path / "prometheus.log"),
    ):  # fmt: skip
        yield {"exporter": f"https://{exporter}", "receiver": f"https://{receiver}", "prometheus": f"http://{prometheus}",
               "trust": ssl.create_default_context(cafile=str(pki.ca)), "logs": tmp_path}  # fmt: skip


def logs(stack: dict[str, Any]) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(stack["logs"].glob("*.log")))


async def test_prometheus_scrapes_over_tls_with_basic_auth_and_is_refused_without(stack: dict[str, Any]) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

        async def targets() -> dict[str, dict[str, Any]] | None:
            try:
                async with session.get(f"{stack['prometheus']}/api/v1/targets") as r:
                    active = (await r.json())["data"]["activeTargets"]
            except aiohttp.ClientError:
                return None  # not listening yet
            by_job = {t["labels"]["job"]: t for t in active}
            return by_job if all(t["health"] != "unknown" for t in by_job.values()) and len(by_job) == 3 else None

        def settled(by_job: dict[str, dict[str, Any]]) -> bool:
            return (by_job["wedwatch-exporter"]["health"] == "up" and by_job["wedwatch-receiver"]["health"] == "up"
                    and by_job["no-credentials"]["health"] == "down")  # fmt: skip

        async def scraped() -> dict[str, dict[str, Any]] | None:
            by_job = await targets()
            return by_job if by_job is not None and settled(by_job) else None

        try:
            by_job = await eventually(scraped, "Prometheus scraping both servers, and refused without credentials", 40)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await targets()}\n{logs(stack)}") from None
        assert "401" in by_job["no-credentials"]["lastError"], by_job["no-credentials"]

        async def query(expr: str) -> list[dict[str, Any]]:
            async with session.get(f"{stack['prometheus']}/api/v1/query", params={"query": expr}) as r:
                result: list[dict[str, Any]] = (await r.json())["data"]["result"]
                return result

        up = {s["metric"]["job"]: s["value"][1] for s in await query("up")}
        assert up == {"wedwatch-exporter": "1", "wedwatch-receiver": "1", "no-credentials": "0"}
        # What came over TLS is the exporter's own exposition.
        phases = await eventually(lambda: query('wedwatch_weddings{job="wedwatch-exporter"}'), "wedwatch_weddings", 10)
        assert {s["metric"]["phase"] for s in phases} >= {"ceremony", "planning"}


async def test_the_receivers_page_and_api_need_a_login_and_alerts_takes_the_bearer(stack: dict[str, Any]) -> None:
    base, trust = stack["receiver"], stack["trust"]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

        async def status(method: str, path: str, headers: dict[str, str], **kw: Any) -> int:
            async with session.request(method, f"{base}{path}", ssl=trust, headers=headers, **kw) as r:
                await r.read()
                if r.status == 401:
                    assert "Basic" in r.headers["WWW-Authenticate"]
                assert r.headers.get("X-Content-Type-Options") == "nosniff"
                return r.status

        async def ready() -> bool:
            try:
                return await status("GET", "/-/ready", LOGIN) == 200
            except aiohttp.ClientError:
                return False

        await eventually(ready, "the receiver answering over TLS", 30)
        check: Callable[[str, str, dict[str, str]], Any] = status
        for path in ("/", "/api/v1/alerts", "/api/v1/responses", "/metrics"):
            assert await check("GET", path, {}) == 401, path
            assert await check("GET", path, LOGIN) == 200, path
        body = FIRING.read_bytes()
        json_type = {"Content-Type": "application/json"}
        assert await status("POST", "/alerts", json_type, data=body) == 401
        assert await status("POST", "/alerts", {**json_type, "Authorization": f"Bearer {TOKEN}"}, data=body) == 200
        with pytest.raises(aiohttp.ClientError):
            await session.get(f"{base}/-/healthy", ssl=True)  # an untrusted certificate
