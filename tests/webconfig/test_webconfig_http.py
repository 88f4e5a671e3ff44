"""The web config on a real aiohttp server on loopback: TLS, client certificates, basic auth, headers, reload."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from tls_files import TLSFiles, bcrypt_hash, make_certificate

from wedwatch.webconfig import WebConfigSource, install

Serve = Callable[[str], Awaitable[str]]
ALICE = {"Authorization": "Basic " + base64.b64encode(b"alice:wonderland").decode()}
HEADERS = "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n"


def tls_section(pki: TLSFiles, cert: Path | None = None, key: Path | None = None, extra: str = "") -> str:
    return (f"tls_server_config:\n  cert_file: {cert or pki.server_cert}\n  key_file: {key or pki.server_key}\n"
            + extra)  # fmt: skip


def users_section() -> str:
    return f"basic_auth_users:\n  alice: '{bcrypt_hash('wonderland')}'\n"


def rewrite(path: Path, text: str) -> None:
    bump = path.stat().st_mtime_ns + 1_000_000_000
    path.write_text(text)
    os.utime(path, ns=(bump, bump))


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """Serve a small app behind the web config `text` (written to web.yml); returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(text: str) -> str:
        path = tmp_path / "web.yml"
        path.write_text(text)
        source = WebConfigSource(path)

        async def hello(request: web.Request) -> web.Response:
            return web.Response(text="hello\n")

        app = web.Application()
        app.router.add_get("/", hello)
        install(app, source)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=source.listening_context())
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"{'https' if source.tls_enabled else 'http'}://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def client_context(pki: TLSFiles, *, with_certificate: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if with_certificate:
        context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


async def get(url: str, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    """GET with certificates checked against `context` (default: the system's CAs, which know no test CA)."""
    async with aiohttp.ClientSession() as session, session.get(url, ssl=context or True, headers=headers) as response:
        await response.read()
        return response


async def test_https_with_basic_auth_and_headers(serve: Serve, pki: TLSFiles) -> None:
    base = await serve(tls_section(pki) + users_section() + HEADERS)
    trust = client_context(pki)
    refused = await get(f"{base}/", trust)
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="wedwatch"'
    wrong = await get(f"{base}/", trust, {"Authorization": "Basic " + base64.b64encode(b"alice:rabbit").decode()})
    assert wrong.status == 401
    unknown = await get(f"{base}/", trust, {"Authorization": "Basic " + base64.b64encode(b"eve:wonderland").decode()})
    assert unknown.status == 401
    served = await get(f"{base}/", trust, ALICE)
    assert served.status == 200
    missing = await get(f"{base}/nowhere", trust, ALICE)
    assert missing.status == 404
    for response in (refused, served, missing):  # every response carries the configured headers
        assert response.headers["X-Frame-Options"] == "deny"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    with pytest.raises(aiohttp.ClientError):
        await get(f"{base}/")  # an unknown CA: refused by the client
    with pytest.raises(aiohttp.ClientError):
        await get(base.replace("https:", "http:") + "/")  # plain HTTP to the TLS port


async def test_basic_auth_without_tls(serve: Serve) -> None:
    base = await serve(users_section())
    assert (await get(f"{base}/")).status == 401
    assert (await get(f"{base}/", headers=ALICE)).status == 200


async def test_a_client_certificate_is_required_and_verified(serve: Serve, pki: TLSFiles) -> None:
    extra = f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {pki.client_ca}\n"
    base = await serve(tls_section(pki, extra=extra))
    assert (await get(f"{base}/", client_context(pki, with_certificate=True))).status == 200
    with pytest.raises(aiohttp.ClientError):
        await get(f"{base}/", client_context(pki))
    # A certificate from another CA (the server's own CA signed this one) is refused too.
    stranger = make_certificate(pki.ca.parent / "stranger", "stranger", (pki.ca, pki.ca_key), "DNS:prometheus")
    context = client_context(pki)
    context.load_cert_chain(*stranger)
    with pytest.raises(aiohttp.ClientError):
        await get(f"{base}/", context)


@pytest.mark.parametrize(("sans", "status"), [("[prometheus, other]", 200), ("[other, 127.0.0.1]", 403)])
async def test_client_allowed_sans(serve: Serve, pki: TLSFiles, sans: str, status: int) -> None:
    extra = (f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {pki.client_ca}\n"
             f"  client_allowed_sans: {sans}\n")  # fmt: skip
    base = await serve(tls_section(pki, extra=extra))
    assert (await get(f"{base}/", client_context(pki, with_certificate=True))).status == status


async def peer_common_name(base: str, pki: TLSFiles) -> str:
    host, port = base.removeprefix("https://").split(":")
    _, writer = await asyncio.open_connection(host, int(port), ssl=client_context(pki))
    try:
        subject = writer.get_extra_info("peercert")["subject"]
        return str(dict(pair[0] for pair in subject)["commonName"])
    finally:
        writer.close()
        await writer.wait_closed()


async def test_the_next_connection_gets_a_renewed_certificate_and_new_users(serve: Serve, pki: TLSFiles, tmp_path: Path) -> None:
    cert, key = tmp_path / "live.crt", tmp_path / "live.key"
    shutil.copy(pki.server_cert, cert)
    shutil.copy(pki.server_key, key)
    base = await serve(tls_section(pki, cert, key) + users_section())
    assert await peer_common_name(base, pki) == "server"
    renewed = make_certificate(tmp_path / "renewed", "renewed", (pki.ca, pki.ca_key), "IP:127.0.0.1")
    shutil.copy(renewed[1], key)
    shutil.copy(renewed[0], cert)
    bump = cert.stat().st_mtime_ns + 1_000_000_000
    os.utime(cert, ns=(bump, bump))
    assert await peer_common_name(base, pki) == "renewed"
    assert (await get(f"{base}/", client_context(pki), ALICE)).status == 200
    bob = {"Authorization": "Basic " + base64.b64encode(b"bob:builder").decode()}
    assert (await get(f"{base}/", client_context(pki), bob)).status == 401
    web_yml = tmp_path / "web.yml"
    rewrite(web_yml, tls_section(pki, cert, key) + f"basic_auth_users:\n  bob: '{bcrypt_hash('builder')}'\n")
    assert (await get(f"{base}/", client_context(pki), bob)).status == 200
    assert (await get(f"{base}/", client_context(pki), ALICE)).status == 401
    # A broken file: the server goes on with the last good configuration.
    rewrite(web_yml, "tls_server_config: {cert_file: nowhere.crt}\n")
    assert (await get(f"{base}/", client_context(pki), bob)).status == 200
    assert await peer_common_name(base, pki) == "renewed"
