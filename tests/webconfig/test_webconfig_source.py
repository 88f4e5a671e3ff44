"""The web config in force: re-read when the file or a TLS file it names changes; a bad change keeps the old one."""

from __future__ import annotations

import logging
import os
import shutil
import ssl
from pathlib import Path

import pytest
from tls_files import TLSFiles, bcrypt_hash, make_certificate

from wedwatch.errors import ConfigError
from wedwatch.webconfig import ReloadingSSLContext, WebConfigSource


def write(path: Path, text: str) -> None:
    """Replace the file and move its mtime on, so that a change within one clock tick is still seen."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def users(*names: str) -> str:
    return "basic_auth_users:\n" + "".join(f"  {n}: '{bcrypt_hash('pw')}'\n" for n in names)


def test_a_change_applies_at_the_next_call_and_an_unchanged_file_is_not_re_read(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text(users("alice"))
    source = WebConfigSource(path)
    first = source.current()
    assert set(first.users) == {"alice"}
    assert source.current() is first  # nothing changed: the same object, nothing re-read
    write(path, users("alice", "bob"))
    assert set(source.current().users) == {"alice", "bob"}
    assert source.last_reload_successful


def test_a_bad_file_at_start_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n  alice: plain\n")
    with pytest.raises(ConfigError, match=r"web\.yml: basic_auth_users\.alice: not a bcrypt hash"):
        WebConfigSource(path)
    with pytest.raises(ConfigError, match=r"cannot read"):
        WebConfigSource(tmp_path / "absent.yml")


def test_a_bad_file_after_start_keeps_the_old_config_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "web.yml"
    path.write_text(users("alice"))
    source = WebConfigSource(path)
    good = source.current()
    write(path, "basic_auth_users:\n  alice: [\n")
    with caplog.at_level(logging.ERROR, logger="wedwatch.webconfig.source"):
        for _ in range(5):
            assert source.current() is good
    assert not source.last_reload_successful
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, errors
    assert "the previous one stays in force" in errors[0] and "invalid YAML" in errors[0] and str(path) in errors[0]
    path.unlink()  # a deleted file too
    assert source.current() is good
    write(path, users("carol"))
    assert set(source.current().users) == {"carol"}
    assert source.last_reload_successful


def test_tls_cannot_be_turned_on_or_off_without_a_restart(tmp_path: Path, pki: TLSFiles) -> None:
    path = tmp_path / "web.yml"
    path.write_text(users("alice"))
    source = WebConfigSource(path)
    assert source.listening_context() is None
    write(path, f"tls_server_config:\n  cert_file: {pki.server_cert}\n  key_file: {pki.server_key}\n")
    assert source.current().ssl_context is None
    assert not source.last_reload_successful


def test_a_renewed_certificate_is_used_by_the_next_connection(tmp_path: Path, pki: TLSFiles) -> None:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    shutil.copy(pki.server_cert, cert)
    shutil.copy(pki.server_key, key)
    path = tmp_path / "web.yml"
    path.write_text("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")  # relative to web.yml
    source = WebConfigSource(path)
    listening = source.listening_context()
    assert isinstance(listening, ReloadingSSLContext)
    before = source.current().ssl_context
    # Renewed in place, as cert-manager or certbot do: the web config file itself is untouched.
    renewed = make_certificate(tmp_path / "new", "renewed", (pki.ca, pki.ca_key), "IP:127.0.0.1")
    shutil.copy(renewed[0], cert)
    shutil.copy(renewed[1], key)
    bump = cert.stat().st_mtime_ns + 1_000_000_000
    os.utime(cert, ns=(bump, bump))
    after = source.current().ssl_context
    assert after is not None and after is not before
    # What asyncio does per accepted connection: the object comes from the context now in force.
    tls_object = listening.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
    assert tls_object.context is after


def test_a_broken_certificate_after_start_keeps_serving_the_old_one(tmp_path: Path, pki: TLSFiles) -> None:
    cert = tmp_path / "server.crt"
    shutil.copy(pki.server_cert, cert)
    path = tmp_path / "web.yml"
    path.write_text(f"tls_server_config:\n  cert_file: server.crt\n  key_file: {pki.server_key}\n")
    source = WebConfigSource(path)
    good = source.current()
    write(cert, "half a certificate")
    assert source.current() is good
    assert not source.last_reload_successful
