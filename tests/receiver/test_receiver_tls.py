"""The receiver over TLS from cert and key files."""

from __future__ import annotations

import io
import json
import shutil
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from receiver_support import AUTH, MakeConfig, fixture

from wedwatch.receiver.app import create_app, ssl_context


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tls.db'}"


async def test_receiver_serves_https(tmp_path: Path, make_config: MakeConfig) -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is needed to make a test certificate"
    cert, key = tmp_path / "r.crt", tmp_path / "r.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    loaded = make_config(receiver={"tls": {"cert_file": str(cert), "key_file": str(key)}})
    assert loaded.config.receiver.tls is not None
    context = ssl_context(loaded.config.receiver.tls.cert_file, loaded.config.receiver.tls.key_file)
    runner = web.AppRunner(create_app(loaded, run_worker=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"https://127.0.0.1:{port}/alerts", data=io.BytesIO(json.dumps(fixture("firing")).encode()),
                                    headers={"Content-Type": "application/json", **AUTH}, ssl=trust) as response:  # fmt: skip
                assert response.status == 200
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.get(f"https://127.0.0.1:{port}/-/healthy")  # untrusted certificate
    finally:
        await runner.cleanup()
