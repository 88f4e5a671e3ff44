"""--web.config.file on the receiver beside receiver.auth: what each credential opens (docs/security.md).

A `basic_auth_users` login opens every route. receiver.auth's credential (Alertmanager's) opens what
receiver.auth guards: /alerts, the page and the API, so that Alertmanager, which sends one
Authorization header, needs no second credential. /metrics and the health endpoints take a login only.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from receiver_support import AUTH, MakeConfig, fixture
from tls_files import bcrypt_hash

from wedwatch.config import LoadedConfig
from wedwatch.receiver.app import create_app, protect
from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.webconfig import WebConfigSource

LOGIN = {"Authorization": "Basic " + base64.b64encode(b"oncall:wedding-day").decode()}
WRONG = {"Authorization": "Basic " + base64.b64encode(b"oncall:guess").decode()}
ALERTMANAGER_BASIC = {"Authorization": "Basic " + base64.b64encode(b"alertmanager:am-password").decode()}
NONE: dict[str, str] = {}


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'web.db'}"


async def start(aiohttp_client: AiohttpClient, loaded: LoadedConfig, tmp_path: Path) -> TestClient:  # type: ignore[type-arg]
    web_yml = tmp_path / "web.yml"
    web_yml.write_text(
        f"basic_auth_users:\n  oncall: '{bcrypt_hash('wedding-day')}'\n"
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    )
    app = create_app(loaded, run_worker=False)
    protect(app, WebConfigSource(web_yml))
    return await aiohttp_client(app)


async def status(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:  # type: ignore[type-arg]
    body = json.dumps(fixture("firing")).encode() if method == "POST" else None
    async with client.request(method, path, data=body, headers={"Content-Type": "application/json", **headers}) as r:
        await r.read()
        if r.status == 401:
            assert "Basic" in r.headers["WWW-Authenticate"]
        return r.status


ROUTES = [("POST", "/alerts"), ("GET", "/"), ("GET", "/api/v1/alerts"), ("GET", "/metrics"), ("GET", "/-/healthy")]


async def test_either_credential_where_receiver_auth_asks_for_one_a_login_elsewhere(
    aiohttp_client: AiohttpClient, make_config: MakeConfig, tmp_path: Path
) -> None:
    loaded = make_config(receiver={"auth": {"bearer_token": "${WEDWATCH_TEST_RECEIVER_TOKEN}", "public_read": True}})
    client = await start(aiohttp_client, loaded, tmp_path)
    expected = {
        # route: (no credential, a wrong login, receiver.auth's bearer, a web config login)
        ("POST", "/alerts"): (401, 401, 200, 200),
        ("GET", "/"): (401, 401, 200, 200),
        ("GET", "/api/v1/alerts"): (401, 401, 200, 200),  # public_read no longer opens it: the login is asked
        ("GET", "/metrics"): (401, 401, 401, 200),
        ("GET", "/-/healthy"): (401, 401, 401, 200),
    }
    got = {route: tuple([await status(client, *route, h) for h in (NONE, WRONG, AUTH, LOGIN)]) for route in ROUTES}
    assert got == expected
    registry = client.app[RECEIVER_KEY].metrics.registry
    # /alerts refused twice (no credential, wrong login): counted as receiver.auth's refusals are.
    assert registry.get_sample_value("wedwatch_receiver_notifications_total", {"outcome": "unauthorized"}) == 2
    async with client.get("/-/healthy", headers=LOGIN) as response:
        assert response.headers["X-Frame-Options"] == "deny"


async def test_receiver_auth_basic_credentials_still_reach_alerts(
    aiohttp_client: AiohttpClient, make_config: MakeConfig, tmp_path: Path
) -> None:
    loaded = make_config(receiver={"auth": {"basic": {"username": "alertmanager", "password": "am-password"}}})
    client = await start(aiohttp_client, loaded, tmp_path)
    assert await status(client, "POST", "/alerts", ALERTMANAGER_BASIC) == 200
    assert await status(client, "GET", "/metrics", ALERTMANAGER_BASIC) == 401
    assert await status(client, "POST", "/alerts", LOGIN) == 200


async def test_without_receiver_auth_the_login_guards_alerts_too(
    aiohttp_client: AiohttpClient, make_config: MakeConfig, tmp_path: Path
) -> None:
    loaded = make_config(receiver={"auth": {}})
    client = await start(aiohttp_client, loaded, tmp_path)
    assert await status(client, "POST", "/alerts", NONE) == 401
    assert await status(client, "POST", "/alerts", AUTH) == 401
    assert await status(client, "POST", "/alerts", LOGIN) == 200
