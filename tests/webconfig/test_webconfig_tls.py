"""tls_server_config to an SSLContext: the toolkit's rules, and errors that name the field."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tls_files import TLSFiles

from wedwatch.errors import ConfigError
from wedwatch.webconfig import build_ssl_context
from wedwatch.webconfig.model import TLSServerConfig


def tls(pki: TLSFiles, **extra: Any) -> TLSServerConfig:
    return TLSServerConfig(cert_file=str(pki.server_cert), key_file=str(pki.server_key), **extra)


def test_defaults_tls12_to_tls13_without_client_certificates(pki: TLSFiles) -> None:
    context = build_ssl_context(tls(pki), source="web.yml")
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.maximum_version == ssl.TLSVersion.TLSv1_3
    assert context.verify_mode == ssl.CERT_NONE
    assert context.options & ssl.OP_CIPHER_SERVER_PREFERENCE


@pytest.mark.parametrize(
    ("kind", "mode"), [("RequireAndVerifyClientCert", ssl.CERT_REQUIRED), ("VerifyClientCertIfGiven", ssl.CERT_OPTIONAL)]
)
def test_client_certificates_verified_against_the_client_ca(pki: TLSFiles, kind: str, mode: ssl.VerifyMode) -> None:
    context = build_ssl_context(tls(pki, client_auth_type=kind, client_ca_file=str(pki.client_ca)), source="web.yml")
    assert context.verify_mode == mode
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "client-ca"),),)]


def test_inline_pem_as_the_toolkit_allows(pki: TLSFiles) -> None:
    config = TLSServerConfig(
        cert=pki.server_cert.read_text(),
        key=pki.server_key.read_text(),
        client_ca=pki.client_ca.read_text(),
        client_auth_type="RequireAndVerifyClientCert",
    )
    assert build_ssl_context(config, source="web.yml").verify_mode == ssl.CERT_REQUIRED


def test_go_cipher_names_become_openssl_suites_and_tls13_names_are_accepted(pki: TLSFiles) -> None:
    suites = ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
              "TLS_AES_128_GCM_SHA256"]  # fmt: skip
    context = build_ssl_context(tls(pki, cipher_suites=suites, max_version="TLS12"), source="web.yml")
    tls12 = [c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert tls12 == ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]


def test_one_curve(pki: TLSFiles) -> None:
    build_ssl_context(tls(pki, curve_preferences=["X25519"]), source="web.yml")


def encrypted_key(pki: TLSFiles, folder: Path) -> Path:
    out = folder / "encrypted.key"
    subprocess.run([shutil.which("openssl") or "openssl", "pkey", "-in", str(pki.server_key), "-aes256",
                    "-passout", "pass:secret", "-out", str(out)], check=True, capture_output=True)  # fmt: skip
    return out


# (config keys beyond a good cert_file and key_file, field, a part of the reason)
BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"cert_file": None}, "cert_file", "missing one of cert or cert_file"),
    ({"key_file": None}, "key_file", "missing one of key or key_file"),
    ({"cert_file": None, "key_file": None, "client_auth_type": "RequireAndVerifyClientCert"}, "cert_file",
     "missing one of cert or cert_file"),
    ({"cert_file": "/nonexistent/server.crt"}, "cert_file", "cannot read /nonexistent/server.crt: No such file"),
    ({"key_file": "/nonexistent/server.key"}, "key_file", "cannot read /nonexistent/server.key"),
    ({"cert_file": "KEY"}, "cert_file", "not a PEM certificate"),
    ({"key_file": "CLIENT_KEY"}, "key_file", "not the certificate's private key"),
    ({"key_file": "ENCRYPTED"}, "key_file", "not an unencrypted PEM key"),
    ({"cert": "CERT"}, "cert_file", "set one of cert or cert_file, not both"),
    ({"min_version": "TLS13", "max_version": "TLS12"}, "min_version", "TLS13 is above max_version TLS12"),
    ({"client_ca_file": "CLIENT_CA"}, "client_auth_type", "without a client auth policy"),
    ({"client_auth_type": "RequireAndVerifyClientCert"}, "client_ca_file", "needs client_ca_file"),
    ({"client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": "KEY"}, "client_ca_file", "no PEM certificate"),
    ({"client_allowed_sans": ["prometheus"]}, "client_allowed_sans", "needs client_auth_type"),
    ({"cipher_suites": ["TLS_RSA_WITH_RC4_128_SHA"]}, "cipher_suites[0]", "unknown cipher"),
    ({"curve_preferences": ["CurveP256", "P-999"]}, "curve_preferences[1]", "unknown curve 'P-999'"),
    ({"curve_preferences": ["CurveP256", "X25519"]}, "curve_preferences", "one curve only"),
]


@pytest.mark.parametrize(("extra", "field", "reason"), BAD)
def test_bad_tls_settings_name_the_field(
    pki: TLSFiles, tmp_path: Path, extra: dict[str, Any], field: str, reason: str
) -> None:
    files = {"KEY": str(pki.server_key), "CLIENT_KEY": str(pki.client_key), "CLIENT_CA": str(pki.client_ca),
             "CERT": pki.server_cert.read_text()}  # fmt: skip
    if "ENCRYPTED" in extra.values():
        files["ENCRYPTED"] = str(encrypted_key(pki, tmp_path))
    settings = {"cert_file": str(pki.server_cert), "key_file": str(pki.server_key)}
    settings.update({k: files.get(v, v) if isinstance(v, str) else v for k, v in extra.items()})
    with pytest.raises(ConfigError) as caught:
        build_ssl_context(TLSServerConfig(**settings), source="web.yml")
    assert (caught.value.source, caught.value.field) == ("web.yml", f"tls_server_config.{field}")
    assert reason in caught.value.reason
