"""--web.config.file on `wedwatch exporter` and `wedwatch receiver`: a bad file stops the start with exit 2.

The servers themselves, behind a good file, are tested in tests/e2e/test_e2e_web_config.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tls_files import TLSFiles, make_tls_files

from wedwatch.cli import main

COMMANDS = ["exporter", "receiver"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("pki"))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("basic_auth_users:\n  alice: plain-text\n", "web.yml: basic_auth_users.alice: not a bcrypt hash"),
        ("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
         "web.yml: tls_server_config.cert_file: cannot read"),
        ("tls_server_config:\n  key_file: server.key\n", "web.yml: tls_server_config.cert_file: missing one of cert or cert_file"),
        ("http_server_config:\n  headers:\n    Server: wedwatch\n", "web.yml: http_server_config.headers.Server: HTTP header"),
    ],
)
def test_a_bad_web_config_exits_2_naming_file_and_field(
    command: str, text: str, message: str, calendar_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web_yml = calendar_config.parent / "web.yml"
    web_yml.write_text(text)
    code = main([command, f"--config.file={calendar_config}", f"--web.config.file={web_yml}",
                 "--web.listen-address=127.0.0.1:0"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert f"wedwatch {command}: configuration error: " in err
    assert message in err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_web_config_exits_2(command: str, calendar_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([command, f"--config.file={calendar_config}", "--web.config.file=/nonexistent/web.yml"])
    assert code == 2
    assert "/nonexistent/web.yml: cannot read: No such file or directory" in capsys.readouterr().err


def test_the_receiver_refuses_tls_from_both_places(
    calendar_config: Path, pki: TLSFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar_config.write_text(
        calendar_config.read_text() + f"receiver:\n  tls:\n    cert_file: {pki.server_cert}\n    key_file: {pki.server_key}\n"
    )
    web_yml = calendar_config.parent / "web.yml"
    web_yml.write_text(f"tls_server_config:\n  cert_file: {pki.server_cert}\n  key_file: {pki.server_key}\n")
    code = main(["receiver", f"--config.file={calendar_config}", f"--web.config.file={web_yml}"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--web.config.file:" in err and "receiver.tls" in err and "keep one of the two" in err


def test_the_flag_reads_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from wedwatch.cli import build_parser

    monkeypatch.setenv("WEDWATCH_EXPORTER_WEB_CONFIG_FILE", "/etc/wedwatch/web.yml")
    monkeypatch.setenv("WEDWATCH_RECEIVER_WEB_CONFIG_FILE", "/etc/wedwatch/receiver-web.yml")
    assert build_parser().parse_args(["exporter"]).web_config_file == "/etc/wedwatch/web.yml"
    assert build_parser().parse_args(["receiver"]).web_config_file == "/etc/wedwatch/receiver-web.yml"
