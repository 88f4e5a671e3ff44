"""docs/security.md's YAML blocks are what wedwatch, promtool and amtool accept.

Paths in the blocks name files of a real deployment (/etc/…): they are pointed at files of the test's
own, since promtool and amtool check that the files they name exist.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from checkout import REPO

from wedwatch.webconfig import parse_web_config

SECURITY = REPO / "docs" / "security.md"


def blocks() -> list[str]:
    """The page's ```yaml blocks, in order."""
    return re.findall(r"```yaml\n(.*?)```", SECURITY.read_text(), re.S)


def with_local_files(node: Any, folder: Path) -> Any:
    """`node` with every absolute /etc/… path replaced by a file of that name in `folder`."""
    if isinstance(node, dict):
        return {k: with_local_files(v, folder) for k, v in node.items()}
    if isinstance(node, list):
        return [with_local_files(v, folder) for v in node]
    if isinstance(node, str) and node.startswith("/etc/"):
        local = folder / Path(node).name
        local.write_text("secret\n")
        return str(local)
    return node


def test_the_web_config_examples_parse() -> None:
    examples = [b for b in blocks() if b.startswith(("tls_server_config:", "# /etc/wedwatch/web.yml"))]
    assert len(examples) == 2
    for text in examples:
        config = parse_web_config(text, source="docs/security.md", base_dir=Path("/etc/wedwatch"))
        assert config.tls_server_config.enabled


def test_the_scrape_configs_pass_promtool(promtool: str, tmp_path: Path) -> None:
    [block] = [b for b in blocks() if b.startswith("scrape_configs:")]
    document = with_local_files(yaml.safe_load(block), tmp_path)
    for job in document["scrape_configs"]:
        job["tls_config"]["ca_file"] = str(tmp_path / "ca.crt")
        assert job["scheme"] == "https" and job["basic_auth"]["username"] == "prometheus"
    (tmp_path / "ca.crt").write_text("")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(document))
    done = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("which", ["bearer", "basic_auth"])
def test_the_alertmanager_http_configs_pass_amtool(amtool: str, tmp_path: Path, which: str) -> None:
    receiver_block = next(b for b in blocks() if b.startswith("receivers:"))
    document: dict[str, Any] = {"route": {"receiver": "wedwatch"}, **yaml.safe_load(receiver_block)}
    webhook = document["receivers"][0]["webhook_configs"][0]
    assert webhook["http_config"]["authorization"]["type"] == "Bearer"
    if which == "basic_auth":
        fragment = next(b for b in blocks() if b.lstrip().startswith("http_config:"))
        webhook.update(yaml.safe_load(fragment))
        assert "basic_auth" in webhook["http_config"] and "authorization" not in webhook["http_config"]
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(with_local_files(document, tmp_path)))
    done = subprocess.run([amtool, "check-config", str(tmp_path / "alertmanager.yml")],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
