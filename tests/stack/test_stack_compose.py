"""The docker-compose stack: the file validates, everything it mounts exists, its configs pass the tools.

No Docker engine is needed: docker-compose 1.29 validates offline, and promtool and amtool check
the Prometheus and Alertmanager configs on a copy of the layout the containers see.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import promql_parser
import pytest
from stack_support import (
    COMPOSE_FILE,
    REPO,
    RULES_DIR,
    STACK_DIR,
    bind_mounts,
    compose,
    dockerfile_copy_sources,
    dockerignore_patterns,
    dockerignored,
    load_yaml,
    run_tool,
    stack_config,
)

from wedwatch.calendar import load_calendar_file, plan
from wedwatch.config.model import Config, Phase
from wedwatch.rules.upstream import UPSTREAM_METRICS

WEDWATCH_SERVICES = ("platform", "exporter", "receiver")

# The ecosystem's exporters the resource rules read (wedwatch.rules.upstream), by the name of their
# `resources.selectors` field: the compose service, its image and the port it listens on by default.
EXPORTERS = {
    "node": ("node_exporter", "node-exporter", "prom/node-exporter", 9100),
    "postgres": ("postgres_exporter", "postgres-exporter", "quay.io/prometheuscommunity/postgres-exporter", 9187),
    "redis": ("redis_exporter", "redis-exporter", "oliver006/redis_exporter", 9121),
}


def test_compose_file_validates(docker_compose: str) -> None:
    done = run_tool([docker_compose, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stack_has_every_service_the_design_names() -> None:
    services = set(compose()["services"])
    expected = {"postgres", "platform", "exporter", "receiver", "prometheus", "victoriametrics", "alertmanager", "grafana"}
    assert expected <= services
    # Issue 17: the platform's cache and the exporters the resource alerts are written on.
    assert {"redis", "node-exporter", "postgres-exporter", "redis-exporter"} <= services


def test_every_wedwatch_service_runs_its_subcommand_from_the_image() -> None:
    services = compose()["services"]
    for name in WEDWATCH_SERVICES:
        assert services[name]["command"][0] == name
        assert services[name]["build"]["context"] == "."
    ports = {name: int(services[name]["command"][services[name]["command"].index("--web.listen-address") + 1][1:])
             for name in WEDWATCH_SERVICES}  # fmt: skip
    assert ports == {"platform": 8085, "exporter": 9839, "receiver": 9840}


def test_every_bind_mounted_path_exists() -> None:
    mounts = bind_mounts()
    assert mounts
    for mount in mounts:
        assert mount.source.exists(), f"{mount.service}: {mount.source} is mounted at {mount.target} but missing"
        assert REPO in mount.source.parents, f"{mount.service}: {mount.source} is outside the repository"
        # A file mounted where the container expects a directory (or the reverse) fails at start.
        looks_like_file = bool(re.search(r"\.(ya?ml|json|py|sh)$", mount.target))
        assert mount.source.is_file() == looks_like_file, f"{mount.service}: {mount.source} -> {mount.target}"


def test_images_are_pinned_and_services_have_healthchecks() -> None:
    for name, service in compose()["services"].items():
        image = service["image"]
        if "build" not in service:
            tag = image.rsplit(":", 1)[1] if ":" in image else ""
            assert tag and tag != "latest", f"{name}: pin the image ({image})"
        if name != "init":
            assert service.get("healthcheck", {}).get("test"), f"{name}: no healthcheck"


def test_secrets_come_from_the_environment() -> None:
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASS|TOKEN|SECRET", key):  # PASS: postgres_exporter's DATA_SOURCE_PASS
                # The value must be an interpolation, so `.env` or the environment can replace it.
                assert re.fullmatch(r"\$\{\w+(:-[^}]*)?\}", str(value)), f"{name}: {key} is hard-coded"
    assert not re.search(r"(?i)(password|token)\s*[:=]\s*['\"]?[A-Za-z0-9]{8,}['\"]?\s*$", raw, re.M)
    example = (STACK_DIR / "stack.env.example").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(\w+)", raw))
    documented = set(re.findall(r"^(\w+)=", example, re.M))
    assert used == documented, f"undocumented: {used - documented}, unused: {documented - used}"


def test_dockerfile_copies_only_what_exists_and_is_not_dockerignored() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert all(line.startswith("FROM python:3.11-slim") for line in stages), stages
    assert re.search(r"^USER wedwatch$", text, re.M), "the image must not run as root"
    assert 'ENTRYPOINT ["wedwatch"]' in text
    patterns = dockerignore_patterns()
    sources = list(dockerfile_copy_sources())
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: missing"
        assert not dockerignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    # Everything the package installs (modules, SQL, py.typed) reaches the build context.
    for path in (REPO / "src" / "wedwatch").rglob("*"):
        rel = path.relative_to(REPO).as_posix()
        if path.is_file() and "__pycache__" not in rel:
            assert not dockerignored(rel, patterns), f"{rel} is left out of the image"
    for secret in (".env", ".venv/bin/python", "wedwatch.db", ".git/config", "tests/conftest.py"):
        assert dockerignored(secret, patterns), f"{secret} would reach the build context"


def _container_tree(service: str, tmp_path: Path) -> Path:
    """A directory laid out as the service's container sees its bind mounts (symlinks to the repository)."""
    root = tmp_path / service
    for mount in bind_mounts():
        if mount.service == service:
            link = root / mount.target.lstrip("/")
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(mount.source)
    return root


def test_prometheus_config_passes_promtool_with_the_rules_reachable(promtool: str, tmp_path: Path) -> None:
    service = compose()["services"]["prometheus"]
    config_flag = next(a for a in service["command"] if a.startswith("--config.file="))
    root = _container_tree("prometheus", tmp_path)
    config = root / config_flag.split("=", 1)[1].lstrip("/")
    done = run_tool([promtool, "check", "config", str(config)])
    assert done.returncode == 0, done.stdout + done.stderr
    rule_files = sorted(RULES_DIR.glob("*.yml"))
    assert rule_files
    assert f"SUCCESS: {len(rule_files)} rule files found" in done.stdout, done.stdout


def test_prometheus_scrapes_the_exporter_and_the_receiver() -> None:
    config = load_yaml(STACK_DIR / "prometheus.yml")
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert {"exporter:9839", "receiver:9840", "alertmanager:9093"} <= targets
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


def test_prometheus_remote_writes_to_victoriametrics_which_keeps_the_forecasters_history() -> None:
    config = load_yaml(STACK_DIR / "prometheus.yml")
    service = compose()["services"]["victoriametrics"]
    flags = dict(arg.lstrip("-").split("=", 1) for arg in service["command"])
    port = flags["httpListenAddr"].rsplit(":", 1)[1]
    assert [w["url"] for w in config["remote_write"]] == [f"http://victoriametrics:{port}/api/v1/write"]
    # Its data on a named volume, so that `docker-compose down` and an image upgrade keep the history.
    volumes = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
    assert volumes[flags["storageDataPath"]] in compose()["volumes"]
    # The default retention (one month) would drop most of the year the forecaster asks for.
    retention = re.fullmatch(r"(\d+)([dwy])", flags["retentionPeriod"])
    assert retention, f"-retentionPeriod={flags['retentionPeriod']}: give it a unit (d, w or y)"
    hours = int(retention.group(1)) * {"d": 24, "w": 168, "y": 8760}[retention.group(2)]
    assert hours >= stack_config().forecast.history_hours
    assert stack_config().forecast.prometheus_url == f"http://victoriametrics:{port}"
    receiver = compose()["services"]["receiver"]
    assert receiver["depends_on"]["victoriametrics"]["condition"] == "service_healthy"


def _scrape_jobs() -> dict[str, list[str]]:
    jobs = load_yaml(STACK_DIR / "prometheus.yml")["scrape_configs"]
    return {job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]] for job in jobs}


def _job_of(selector: str) -> str:
    """The job a `resources.selectors` entry names with `job="..."` (the stack names every exporter by job)."""
    parsed = promql_parser.parse("{" + selector + "}")
    assert isinstance(parsed, promql_parser.VectorSelector)
    jobs = [m.value for m in parsed.matchers.matchers if m.name == "job" and m.op == promql_parser.MatchOp.Equal]
    assert len(jobs) == 1, f"{selector!r}: the stack's selectors name their exporter by job"
    return jobs[0]


def test_every_job_the_resources_config_names_is_scraped_from_its_exporter() -> None:
    selectors = stack_config().resources.selectors
    jobs = _scrape_jobs()
    services = compose()["services"]
    assert set(type(selectors).model_fields) == set(EXPORTERS)
    assert {exporter for exporter, *_ in EXPORTERS.values()} == set(UPSTREAM_METRICS)
    for field, (_, service, image, port) in EXPORTERS.items():
        job = _job_of(getattr(selectors, field))
        assert job in jobs, f"resources.selectors.{field} selects job {job!r}, which prometheus.yml does not scrape"
        assert jobs[job] == [f"{service}:{port}"], job
        assert services[service]["image"].rsplit(":", 1)[0] == image, service
        # No flag moves the exporter off its default port, and it is reached on the compose network only.
        assert not any("listen-address" in str(arg) for arg in services[service].get("command") or []), service
        assert "ports" not in services[service], f"{service}: Prometheus scrapes it by name, publish nothing"


def test_the_resources_selectors_keep_their_defaults_in_the_stack() -> None:
    # The job names in prometheus.yml are the exporters' usual ones, so the stack needs no `resources`.
    assert stack_config().resources.selectors == Config().resources.selectors


def _host(address: str) -> str:
    return urlsplit(address if "://" in address else f"//{address}").hostname or ""


def test_every_service_a_config_or_a_service_names_exists() -> None:
    services = compose()["services"]
    prometheus = load_yaml(STACK_DIR / "prometheus.yml")
    named: dict[str, str] = {}
    for job, targets in _scrape_jobs().items():
        named.update({_host(t): f"scrape job {job}" for t in targets if _host(t) != "localhost"})
    for am in prometheus["alerting"]["alertmanagers"]:
        named.update({_host(t): "alerting" for sc in am["static_configs"] for t in sc["targets"]})
    named.update({_host(w["url"]): "remote_write" for w in prometheus["remote_write"]})
    config = stack_config()
    for field, url in (
        ("platform.base_url", config.platform.base_url),
        ("store.url", config.store.url),
        ("forecast.prometheus_url", config.forecast.prometheus_url or ""),
    ):
        named[_host(url)] = f"wedwatch.yml {field}"
    for name, service in services.items():
        named.update({dependency: f"{name} depends_on" for dependency in service.get("depends_on") or {}})
    platform = services["platform"]["command"]
    named[_host(platform[platform.index("--cache.url") + 1])] = "platform --cache.url"
    named[_host(services["redis-exporter"]["environment"]["REDIS_ADDR"])] = "redis-exporter REDIS_ADDR"
    named[_host(services["postgres-exporter"]["environment"]["DATA_SOURCE_URI"])] = "postgres-exporter DATA_SOURCE_URI"
    missing = {host: where for host, where in named.items() if host not in services}
    assert not missing, f"no such service: {missing}"


def test_the_platform_caches_in_the_redis_service_redis_exporter_reads() -> None:
    services = compose()["services"]
    platform = services["platform"]
    cache = urlsplit(platform["command"][platform["command"].index("--cache.url") + 1])
    assert (cache.scheme, cache.hostname, cache.port, cache.path) == ("redis", "redis", 6379, "/0")
    assert platform["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["redis"]["image"].startswith("redis:")
    exporter = urlsplit(services["redis-exporter"]["environment"]["REDIS_ADDR"])
    assert (exporter.hostname, exporter.port) == (cache.hostname, cache.port)
    # maxmemory makes redis_memory_max_bytes non-zero: the cache memory alert divides by it and
    # ignores an unlimited Redis. An eviction policy keeps a full cache serving (and evicting).
    flags = services["redis"]["command"]
    assert flags[0] == "redis-server"
    assert re.fullmatch(r"[1-9]\d*[kmg]b", flags[flags.index("--maxmemory") + 1])
    assert flags[flags.index("--maxmemory-policy") + 1] in {"allkeys-lru", "allkeys-lfu", "allkeys-random"}
    # The stand-in's own /metrics (platform_cache_*) is scraped too.
    port = platform["command"][platform["command"].index("--web.listen-address") + 1]
    assert _scrape_jobs()["platform"] == [f"platform{port}"]


def test_postgres_exporter_logs_in_like_the_store_with_the_password_from_the_environment() -> None:
    services = compose()["services"]
    env = services["postgres-exporter"]["environment"]
    assert "DATA_SOURCE_NAME" not in env, "DATA_SOURCE_NAME would carry the password inside a URL"
    store = urlsplit(stack_config().store.url)
    uri = urlsplit(f"//{env['DATA_SOURCE_URI']}")
    assert (uri.hostname, uri.port, uri.path) == (store.hostname, store.port, store.path)
    assert env["DATA_SOURCE_USER"] == store.username == services["postgres"]["environment"]["POSTGRES_USER"]
    assert env["DATA_SOURCE_PASS"] == services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert services["postgres-exporter"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_node_exporter_reads_the_host_read_only() -> None:
    service = compose()["services"]["node-exporter"]
    assert "--path.rootfs=/host" in service["command"]
    assert service["pid"] == "host"
    (volume,) = service["volumes"]
    source, target, mode = volume.split(":")
    assert (source, target) == ("/", "/host")
    assert "ro" in mode.split(","), "the host's root must be mounted read-only"
    assert "privileged" not in service and "network_mode" not in service


def test_alertmanager_config_passes_amtool(amtool: str) -> None:
    done = run_tool([amtool, "check-config", str(STACK_DIR / "alertmanager.yml")])
    assert done.returncode == 0, done.stdout + done.stderr


def test_alertmanager_posts_to_the_receiver_with_the_token_it_writes_at_start() -> None:
    config = load_yaml(STACK_DIR / "alertmanager.yml")
    (webhook,) = [w for r in config["receivers"] for w in r.get("webhook_configs", [])]
    assert webhook["url"] == "http://receiver:9840/alerts"
    assert webhook["send_resolved"] is True
    auth = webhook["http_config"]["authorization"]
    assert auth["type"] == "Bearer" and "credentials" not in auth
    service = compose()["services"]["alertmanager"]
    token_file = auth["credentials_file"]
    assert any(token_file.startswith(t.split(":")[0] + "/") for t in service["tmpfs"]), "the token must stay on a tmpfs"
    script = service["command"][0]
    assert f"> {token_file}" in script and "umask 077" in script
    assert "--cluster.listen-address=" in script
    assert set(service["environment"]) == {"WEDWATCH_RECEIVER_TOKEN"}
    # The receiver requires the same variable.
    assert compose()["services"]["receiver"]["environment"]["WEDWATCH_RECEIVER_TOKEN"] == service["environment"][
        "WEDWATCH_RECEIVER_TOKEN"
    ]
    assert stack_config().receiver.auth.bearer_token


def test_the_stack_config_points_at_the_stack_services() -> None:
    config = stack_config()
    assert urlsplit(config.platform.base_url).netloc == "platform:8085"
    store = urlsplit(config.store.url)
    assert (store.scheme, store.hostname, store.port) == ("postgresql", "postgres", 5432)
    assert urlsplit(config.forecast.prometheus_url or "").netloc == "victoriametrics:8428"
    calendar = config.calendar.file
    assert calendar is not None
    mounts = {v.split(":")[1] for v in compose()["services"]["exporter"]["volumes"]}
    assert str(Path(calendar).parent) in mounts
    platform = compose()["services"]["platform"]["command"]
    assert platform[platform.index("--calendar.file") + 1] == calendar
    init = compose()["services"]["init"]
    assert init["entrypoint"][-1] == calendar


def test_the_init_script_writes_a_calendar_with_a_live_ceremony(tmp_path: Path) -> None:
    target = tmp_path / "weddings.yml"
    done = subprocess.run(
        [sys.executable, str(STACK_DIR / "make_calendar.py"), str(target)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = load_calendar_file(target)
    assert not loaded.errors
    config = Config()
    phases = {s.wedding.id: s.phase for s in plan(loaded.weddings, datetime.now(UTC), config.schedule, config.features)}
    assert phases["demo-ceremony"] == Phase.CEREMONY


def test_the_postgres_init_script_is_valid_shell_and_executable() -> None:
    script = STACK_DIR / "postgres" / "10-grafana-reader.sh"
    done = run_tool(["sh", "-n", str(script)])
    assert done.returncode == 0, done.stderr
    # Executable: the postgres image runs it; a non-executable one would be sourced into its entrypoint.
    assert script.stat().st_mode & 0o111
    assert "GRAFANA_DB_PASSWORD" in compose()["services"]["postgres"]["environment"]


@pytest.mark.parametrize("name", ["prometheus", "victoriametrics", "alertmanager", "grafana"])
def test_third_party_services_publish_on_the_bind_address(name: str) -> None:
    for port in compose()["services"][name]["ports"]:
        assert port.startswith("${WEDWATCH_BIND_ADDRESS:-127.0.0.1}:"), port
