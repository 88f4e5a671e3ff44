"""Test certificates made with the openssl command (imported by name: tests/ is on sys.path).

A server CA and a server certificate for 127.0.0.1 and localhost; a client CA and a client certificate
whose subject alternative name is `DNS:prometheus`. P-256 keys: generated in milliseconds.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import bcrypt

__all__ = ["TLSFiles", "make_tls_files", "make_certificate", "bcrypt_hash"]


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the PEM files of one test PKI."""

    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_ca: Path
    client_ca_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str | Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl command is needed to make test certificates (Debian: openssl)"
    subprocess.run([openssl, *map(str, args)], check=True, capture_output=True, timeout=30)


def _authority(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", key, "-out", cert)  # fmt: skip
    return cert, key


def make_certificate(folder: Path, name: str, ca: tuple[Path, Path], san: str) -> tuple[Path, Path]:
    """A certificate `name`.crt (and its key) for `san` (e.g. `IP:127.0.0.1`), signed by `ca` (cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key, csr, ext = (folder / f"{name}.{s}" for s in ("crt", "key", "csr", "ext"))
    ext.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
             "-keyout", key, "-out", csr)  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-set_serial", str(secrets.randbelow(2**63)),
             "-days", "2", "-extfile", ext, "-out", cert)  # fmt: skip
    return cert, key


def make_tls_files(folder: Path) -> TLSFiles:
    """A fresh test PKI in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    server_ca = _authority(folder, "server-ca")
    client_ca = _authority(folder, "client-ca")
    server = make_certificate(folder, "server", server_ca, "IP:127.0.0.1,DNS:localhost")
    client = make_certificate(folder, "client", client_ca, "DNS:prometheus")
    return TLSFiles(server_ca[0], server_ca[1], server[0], server[1], client_ca[0], client_ca[1], client[0], client[1])


def bcrypt_hash(password: str, cost: int = 4) -> str:
    """A bcrypt hash as `htpasswd -nB` writes it ($2y$); cost 4 keeps the tests fast."""
    return "$2y$" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost)).decode()[4:]
