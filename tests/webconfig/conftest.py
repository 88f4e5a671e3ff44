"""Fixtures of the web config tests: one test PKI per session (tls_files.make_tls_files)."""

from __future__ import annotations

import pytest
from tls_files import TLSFiles, make_tls_files


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """Server and client CAs and certificates; read-only for the tests (copy a file to change it)."""
    return make_tls_files(tmp_path_factory.mktemp("pki"))
