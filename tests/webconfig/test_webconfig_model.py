"""The --web.config.file format: what is accepted, and errors that name the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from tls_files import bcrypt_hash

from wedwatch.errors import ConfigError
from wedwatch.webconfig import parse_web_config, read_web_config
from wedwatch.webconfig.model import ALLOWED_HEADERS

HASH = "$2y$10$8Ra/0PDZvcLj7lCDD8Hfcu5vbliICGv1ZrE/NFr8V/yr/sBXqSyaS"  # as `htpasswd -nBC 10` writes one


def parse(text: str) -> object:
    return parse_web_config(text, source="web.yml", base_dir=Path("/etc/wedwatch"))


@pytest.mark.parametrize("text", ["", "# nothing\n", "tls_server_config:\nhttp_server_config:\nbasic_auth_users:\n"])
def test_an_empty_file_means_plain_http_without_authentication(text: str) -> None:
    config = parse_web_config(text, source="web.yml", base_dir=Path("."))
    assert not config.tls_server_config.enabled
    assert config.basic_auth_users == {}
    assert config.http_server_config.headers == {}
    assert config.http_server_config.http2 is True


def test_the_toolkit_defaults_and_paths_relative_to_the_file() -> None:
    config = parse_web_config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: /abs/server.key\n"
        f"basic_auth_users:\n  alice: {HASH}\n",
        source="web.yml",
        base_dir=Path("/etc/wedwatch"),
    )
    tls = config.tls_server_config
    assert tls.enabled
    assert (tls.min_version, tls.max_version, tls.client_auth_type) == ("TLS12", "TLS13", "NoClientCert")
    assert tls.prefer_server_cipher_suites is True
    assert tls.cert_file == "/etc/wedwatch/tls/server.crt"
    assert tls.key_file == "/abs/server.key"
    assert config.basic_auth_users == {"alice": HASH}


def test_every_allowed_header_with_an_allowed_value() -> None:
    text = (
        "http_server_config:\n  http2: false\n  headers:\n"
        "    X-Frame-Options: deny\n"
        "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
        "    X-Content-Type-Options: nosniff\n"
        "    X-XSS-Protection: '1; mode=block'\n"
        "    Content-Security-Policy: \"default-src 'self'\"\n"
    )
    config = parse_web_config(text, source="web.yml", base_dir=Path("."))
    assert set(config.http_server_config.headers) == set(ALLOWED_HEADERS)
    assert config.http_server_config.http2 is False


def test_a_scalar_header_value_is_read_as_text_as_go_reads_it() -> None:
    config = parse_web_config("http_server_config:\n  headers:\n    X-XSS-Protection: 1\n", source="w", base_dir=Path("."))
    assert config.http_server_config.headers == {"X-XSS-Protection": "1"}


def test_hashes_as_htpasswd_and_python_write_them() -> None:
    users = {"a": HASH, "b": bcrypt_hash("pw"), "c": bcrypt_hash("pw").replace("$2y$", "$2b$", 1)}
    text = "basic_auth_users:\n" + "".join(f"  {u}: '{h}'\n" for u, h in users.items())
    assert parse_web_config(text, source="web.yml", base_dir=Path(".")).basic_auth_users == users


# (file text, the field named, a part of the reason)
BAD = [
    ("tls_server_config: [1]\n", "tls_server_config", "valid dictionary"),
    ("tls_server_config:\n  certfile: a\n", "tls_server_config.certfile", "unknown key"),
    ("unknown: 1\n", "unknown", "unknown key"),
    ("tls_server_config:\n  min_version: TLS14\n", "tls_server_config.min_version", "'TLS14'"),
    ("tls_server_config:\n  client_auth_type: RequireAndVerify\n", "tls_server_config.client_auth_type",
     "invalid client_auth_type 'RequireAndVerify'"),
    ("tls_server_config:\n  client_auth_type: RequireAnyClientCert\n", "tls_server_config.client_auth_type",
     "without verifying it"),
    ("tls_server_config:\n  client_auth_type: RequestClientCert\n", "tls_server_config.client_auth_type",
     "use RequireAndVerifyClientCert"),
    ("http_server_config:\n  headers:\n    Set-Cookie: a=b\n", "http_server_config.headers.Set-Cookie",
     "can not be configured"),
    ("http_server_config:\n  headers:\n    x-frame-options: deny\n", "http_server_config.headers.x-frame-options",
     "can not be configured"),
    ("http_server_config:\n  headers:\n    X-Frame-Options: allow\n", "http_server_config.headers.X-Frame-Options",
     "invalid value 'allow' (expected one of deny, sameorigin)"),
    ("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
     "http_server_config.headers.X-Content-Type-Options", "expected one of nosniff"),
    # Header injection: a value that would end the header and start another (or the body).
    ('http_server_config:\n  headers:\n    Content-Security-Policy: "a\\r\\nSet-Cookie: x=y"\n',
     "http_server_config.headers.Content-Security-Policy", "control characters"),
    ('http_server_config:\n  headers:\n    X-XSS-Protection: "1\\n"\n', "http_server_config.headers.X-XSS-Protection",
     "control characters"),
    ("http_server_config:\n  headers:\n    X-XSS-Protection: [1]\n", "http_server_config.headers.X-XSS-Protection",
     "expected a string"),
    ("http_server_config:\n  http2: maybe\n", "http_server_config.http2", "valid boolean"),
    ("basic_auth_users:\n  alice: secret\n", "basic_auth_users.alice", "not a bcrypt hash"),
    ("basic_auth_users:\n  alice: '$2y$10$short'\n", "basic_auth_users.alice", "not a bcrypt hash"),
    (f"basic_auth_users:\n  alice: '{HASH.replace('$10$', '$99$')}'\n", "basic_auth_users.alice", "cost 99"),
    (f"basic_auth_users:\n  'al:ice': '{HASH}'\n", "basic_auth_users.al:ice", "cannot hold ':'"),
    ("basic_auth_users: [alice]\n", "basic_auth_users", "valid dictionary"),
    ("rate_limit:\n  interval: 1s\n  burst: 20\n", "rate_limit", "never retries"),
    ("tls_server_config:\n  cert_file: [\n", "line 3, column 1", "invalid YAML"),
    ("- a\n", None, "the top level must be a mapping"),
]


@pytest.mark.parametrize(("text", "field", "reason"), BAD)
def test_a_bad_file_names_the_file_and_the_field(text: str, field: str | None, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert caught.value.source == "web.yml"
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith("web.yml: ")


def test_a_wrong_hash_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse("basic_auth_users:\n  alice: hunter2-not-a-hash\n")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse("basic_auth_users:\n  alice: 12345\n")
    assert "12345" not in str(caught.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yml: cannot read: No such file"):
        read_web_config(tmp_path / "missing.yml")
    (tmp_path / "binary.yml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"binary\.yml: cannot read"):
        read_web_config(tmp_path / "binary.yml")
