"""wedwatch.demo.stack without starting anything: the Alertmanager config it ships and the files it writes."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import yaml

from wedwatch.calendar.demo import demo_weddings
from wedwatch.config import load_config
from wedwatch.demo import EXAMPLE_ALERTMANAGER, demo_config, local_stack, write_files

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "alertmanager.yml"
PACKAGED = "src/wedwatch/demo/alertmanager.yml"


def test_the_packaged_alertmanager_config_is_the_example() -> None:
    # The demo reads its copy as package data (an installed wedwatch has no examples/); users read
    # examples/. One file, two places: amtool checks the example in tests/rules/, so equal bytes
    # mean the demo's copy is checked too.
    packaged = resources.files("wedwatch.demo").joinpath("alertmanager.yml").read_bytes()
    assert packaged == EXAMPLE.read_bytes(), (
        f"{PACKAGED} differs from examples/alertmanager.yml: edit the example, then "
        f"`cp examples/alertmanager.yml {PACKAGED}`"
    )


def _written_stack(tmp_path: Path, *, time_compression: int) -> Path:
    """The demo's files in `tmp_path`, and its local stack's files written to `tmp_path/stack`."""
    path = write_files(tmp_path, demo_weddings(datetime(2027, 6, 12, 12, tzinfo=UTC)), demo_config("127.0.0.1:8085"))
    config = load_config(path, environ={"WEDWATCH_RECEIVER_TOKEN": "t0ken"}).config
    local = local_stack(
        tmp_path / "stack", config, "127.0.0.1:9839", "127.0.0.1:9840", "t0ken",
        prometheus_port=9090, alertmanager_port=9093, time_compression=time_compression,
    )  # fmt: skip
    local.write_files()
    return tmp_path / "stack"


def test_the_stack_patches_the_packaged_config_for_the_demo(tmp_path: Path) -> None:
    d = _written_stack(tmp_path, time_compression=10)
    example = yaml.safe_load(EXAMPLE_ALERTMANAGER.read_text(encoding="utf-8"))
    written = yaml.safe_load((d / "alertmanager.yml").read_text())
    # Routing and inhibition as the example has them; only the waits, the URL and the token file change.
    assert written["inhibit_rules"] == example["inhibit_rules"]
    assert written["route"]["group_by"] == example["route"]["group_by"]
    for route in [written["route"], *written["route"]["routes"]]:
        assert (route["group_wait"], route["group_interval"]) == ("1s", "2s")
    (hook,) = written["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://127.0.0.1:9840/alerts"
    assert hook["http_config"]["authorization"]["credentials_file"] == str(d / "receiver.token")
    assert (d / "receiver.token").read_text() == "t0ken"
    assert (d / "receiver.token").stat().st_mode & 0o777 == 0o600
    assert sorted(d.joinpath("rules").glob("*.yml")), "no rule files written"
    prometheus = yaml.safe_load((d / "prometheus.yml").read_text())
    assert prometheus["global"]["scrape_interval"] == "2s"


def test_time_compression_1_writes_the_shipped_production_settings(tmp_path: Path) -> None:
    from wedwatch.rules import render, rule_files

    d = _written_stack(tmp_path, time_compression=1)
    config = load_config(tmp_path / "wedwatch.yml", environ={"WEDWATCH_RECEIVER_TOKEN": "t0ken"}).config
    prometheus = yaml.safe_load((d / "prometheus.yml").read_text())
    compose = yaml.safe_load((REPO / "deploy" / "compose" / "prometheus.yml").read_text())
    assert prometheus["global"] == compose["global"]
    jobs = {j["job_name"]: j for j in prometheus["scrape_configs"]}
    shipped = {j["job_name"]: j for j in compose["scrape_configs"]}
    assert jobs["wedwatch-exporter"]["scrape_interval"] == shipped["wedwatch-exporter"]["scrape_interval"] == "10s"
    # Routing as shipped: only the receiver's address and token file differ.
    written = yaml.safe_load((d / "alertmanager.yml").read_text())
    example = yaml.safe_load(EXAMPLE.read_text())
    assert written["route"] == example["route"]
    assert written["inhibit_rules"] == example["inhibit_rules"]
    # Rules as generated, not compressed.
    for name, content in rule_files(config).items():
        assert (d / "rules" / name).read_text() == render(content)
