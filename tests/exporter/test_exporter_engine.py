"""The probe engine on a platform whose API wedwatch never saw: configured steps, websockets, cleanup, OAuth2, redaction."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from wedwatch.calendar import Wedding
from wedwatch.cli import main
from wedwatch.config import LoadedConfig, load_config
from wedwatch.exporter.probes import ProbeResult, probe_context, probe_session, run_probe

KEY = "sk-test-4f8a9c2e71"


@dataclass
class Platform:
    """A small platform with its own API: PostgREST-like rows, object storage, a realtime socket, a token endpoint."""

    url: str = ""
    objects: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    authorizations: list[str] = field(default_factory=list)
    polls: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    calendar: list[dict[str, Any]] = field(default_factory=list)


def _platform_app(state: Platform) -> web.Application:
    async def guests(request: web.Request) -> web.Response:
        if request.headers.get("apikey") != KEY:
            return web.json_response({"message": "no apikey"}, status=401)
        state.authorizations.append(request.headers.get("Authorization", ""))
        wedding = request.query.get("wedding_id", "").removeprefix("eq.")
        return web.json_response([{"wedding_id": wedding, "n": i} for i in range(7)])

    async def upload(request: web.Request) -> web.Response:
        state.objects.add(request.match_info["path"])
        await request.read()
        return web.json_response({"Key": f"photos/{request.match_info['path']}"})

    async def delete(request: web.Request) -> web.Response:
        state.objects.discard(request.match_info["path"])
        return web.json_response({"message": "deleted"})

    async def job(request: web.Request) -> web.Response:
        state.polls += 1
        kind = request.match_info["kind"]
        if kind == "bounce":
            return web.json_response({"state": "bounced"})
        return web.json_response({"state": "ready" if state.polls >= 3 else "pending"})

    async def echo(request: web.Request) -> web.Response:
        body = await request.json()
        state.bodies.append(body)
        return web.json_response(body, status=201)

    async def marker(request: web.Request) -> web.Response:
        body = await request.json()

        async def later() -> None:
            await asyncio.sleep(0.05)
            for ws in list(state.sockets):
                if not ws.closed:
                    await ws.send_str(json.dumps({"event": "noise"}))
                    await ws.send_str(json.dumps({"event": "insert", "record": body}))

        asyncio.get_running_loop().create_task(later())
        return web.json_response([body], status=201)

    async def realtime(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        state.sockets.append(ws)
        async for message in ws:
            document = json.loads(message.data)
            if document.get("event") == "join":
                await ws.send_str(json.dumps({"event": "joined", "topic": document.get("topic")}))
        return ws

    async def calendar(request: web.Request) -> web.Response:
        state.authorizations.append(request.headers.get("Authorization", ""))
        if not request.headers.get("Authorization", "").startswith("Bearer tok-"):
            return web.json_response({"message": "token required"}, status=401)
        return web.json_response({"results": state.calendar})

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        assert form.get("grant_type") == "client_credentials"
        state.tokens_issued += 1
        return web.json_response({"access_token": f"tok-{state.tokens_issued}-a1b2c3", "token_type": "bearer", "expires_in": 3600})

    app = web.Application()
    app.router.add_get("/rest/v1/guests", guests)
    app.router.add_post("/storage/v1/object/photos/{path}", upload)
    app.router.add_delete("/storage/v1/object/photos/{path}", delete)
    app.router.add_get("/jobs/{kind}", job)
    app.router.add_post("/echo", echo)
    app.router.add_post("/rest/v1/markers", marker)
    app.router.add_get("/realtime", realtime)
    app.router.add_post("/oauth/token", token)
    app.router.add_get("/v2/events", calendar)
    return app


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    state = Platform()
    server = TestServer(_platform_app(state), host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("")).rstrip("/")
    try:
        yield state
    finally:
        await server.close()


Configure = Callable[..., LoadedConfig]


@pytest.fixture
def configure(tmp_path: Path, weddings: list[Wedding], platform: Platform) -> Configure:
    """A config against the small platform with `operations` (and `platform` extras) as given."""

    def make(operations: dict[str, Any], **platform_extra: Any) -> LoadedConfig:
        (tmp_path / "weddings.yml").write_text(yaml.safe_dump({"weddings": [w.to_dict() for w in weddings]}))
        document = {
            "platform": {"base_url": platform.url, "headers": {"apikey": "${PLATFORM_KEY}"}, **platform_extra},
            "calendar": {"file": "weddings.yml"},
            "operations": operations,
        }
        (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(document))
        return load_config(tmp_path / "wedwatch.yml", environ={"PLATFORM_KEY": KEY, "CLIENT_SECRET": "cs-9d8e7f6a5b"})

    return make


async def _probe(loaded: LoadedConfig, wedding: Wedding, operation: str, *, debug: bool = True) -> tuple[ProbeResult, list[str]]:
    config = loaded.config
    async with probe_session(limit=8, connect_timeout=5) as session:
        ctx = probe_context(session, config, wedding, operation, debug=debug, redact=loaded.secrets)
        return await run_probe(ctx), ctx.log_lines


GUESTS = {"steps": [{"name": "load", "request": {"url": "{base_url}/rest/v1/guests?wedding_id=eq.{wedding_id}"},
                     "expect": {"assert": [{"path": "$[*]", "count": 7}, {"path": "$[0].wedding_id", "equals": "{wedding_id}"}]}}]}  # fmt: skip


async def test_a_new_operation_is_probed_from_config_alone(configure: Configure, weddings: list[Wedding]) -> None:
    result, lines = await _probe(configure({"rest_guests": GUESTS}), weddings[0], "rest_guests")
    assert result.success, result.message
    # One request step: its HTTP steps are the operation's steps, as the built-ins publish them.
    assert set(result.steps) == {"connect", "ttfb", "transfer"}
    assert any("assert $[*] count 7: ok" in line for line in lines), lines


async def test_a_failed_assertion_names_step_path_and_values(configure: Configure, weddings: list[Wedding]) -> None:
    op = {"steps": [{"name": "load", "request": {"url": "{base_url}/rest/v1/guests"}, "expect": {"assert": [{"path": "$[*]", "count": "{guests}"}]}}]}
    result, _ = await _probe(configure({"rest_guests": op}), weddings[0], "rest_guests")
    assert (result.success, result.reason) == (False, "assertion")
    assert result.message == f"steps[0] (load): 7 nodes at $[*], the calendar expects {weddings[0].guests}"


async def test_typed_templates_captures_and_json_bodies(configure: Configure, weddings: list[Wedding], platform: Platform) -> None:
    op = {"steps": [
        {"name": "create", "request": {"method": "POST", "url": "{base_url}/echo",
                                       "json": {"guests": "{guests}", "label": "w-{wedding_id}", "graphql": "{ wedding { id } }"}},
         "expect": {"status": [201]}, "capture": {"echoed": "$.guests"}},
        {"name": "again", "request": {"method": "POST", "url": "{base_url}/echo", "json": {"n": "{echoed}"}},
         "expect": {"assert": [{"path": "$.n", "equals": "{guests}"}, {"path": "$.n", "greater_than": 0}]}},
    ]}  # fmt: skip
    result, _ = await _probe(configure({"echo": op}), weddings[0], "echo")
    assert result.success, result.message
    assert platform.bodies[0] == {"guests": weddings[0].guests, "label": f"w-{weddings[0].id}", "graphql": "{ wedding { id } }"}
    assert platform.bodies[1] == {"n": weddings[0].guests}
    assert {"create", "again", "connect", "ttfb", "transfer"} <= set(result.steps)


async def test_until_polls_and_abort_gives_up_at_once(configure: Configure, weddings: list[Wedding], platform: Platform) -> None:
    def op(kind: str) -> dict[str, Any]:
        return {"timeout_seconds": 3, "steps": [{"name": "done", "request": {"url": f"{{base_url}}/jobs/{kind}"},
                "expect": {"assert": [{"path": "$.state", "equals": "ready"}]},
                "until": {"interval_seconds": 0.01, "abort": [{"path": "$.state", "matches": "^(failed|bounced)$"}]}}]}  # fmt: skip

    loaded = configure({"job": op("ok"), "bounce": op("bounce")})
    result, _ = await _probe(loaded, weddings[0], "job")
    assert result.success and platform.polls == 3
    result, _ = await _probe(loaded, weddings[0], "bounce")
    assert (result.reason, result.message) == ("assertion", 'steps[0] (done): gave up: $.state matches "^(failed|bounced)$" holds')
    assert platform.polls == 4  # no polling on to the deadline


async def test_until_that_never_holds_times_out_saying_what_it_waited_for(configure: Configure, weddings: list[Wedding]) -> None:
    op = {"timeout_seconds": 0.3, "steps": [{"name": "done", "request": {"url": "{base_url}/jobs/never"},
          "expect": {"assert": [{"path": "$.state", "equals": "archived"}]}, "until": {"interval_seconds": 0.01}}]}  # fmt: skip
    result, _ = await _probe(configure({"never": op}), weddings[0], "never")
    assert result.reason == "timeout"
    assert result.message.startswith("no answer within 0.3s (steps[0] (done) still waiting: $.state is ")


async def test_websocket_propagation_is_measured_from_the_write(configure: Configure, weddings: list[Wedding]) -> None:
    op = {"steps": [
        {"name": "subscribe", "websocket": {"url": "{base_url}/realtime", "socket": "rt", "send": [{"event": "join", "topic": "timeline:{wedding_id}"}]},
         "expect": {"assert": [{"path": "$.event", "equals": "joined"}, {"path": "$.topic", "equals": "timeline:{wedding_id}"}]}},
        {"name": "write", "request": {"method": "POST", "url": "{base_url}/rest/v1/markers", "json": {"marker": "{run_id}"}}},
        {"name": "propagation", "wait": {"socket": "rt"}, "expect": {"assert": [{"path": "$.record.marker", "equals": "{run_id}"}]}},
    ]}  # fmt: skip
    result, lines = await _probe(configure({"realtime": op}), weddings[0], "realtime")
    assert result.success, result.message
    # The platform delivers 50 ms after the write, after a message the wait must skip.
    assert 0.05 <= result.steps["propagation"] < 1.0
    assert any("message" in line and '"noise"' in line for line in lines)


async def test_cleanup_runs_after_a_failure_and_skips_what_was_never_captured(
    configure: Configure, weddings: list[Wedding], platform: Platform
) -> None:
    op = {"steps": [
        {"name": "upload", "request": {"method": "POST", "url": "{base_url}/storage/v1/object/photos/{run_id}.jpg",
                                       "upload": {"size_bytes": 2048, "content_type": "image/jpeg"}}, "capture": {"key": "$.Key"}},
        {"name": "check", "request": {"url": "{base_url}/rest/v1/guests"}, "expect": {"assert": [{"path": "$[*]", "count": 99}]},
         "capture": {"missing_capture": "$[0].n"}},
    ], "cleanup": [{"request": {"method": "DELETE", "url": "{base_url}/storage/v1/object/{key}"}},
                   {"request": {"method": "DELETE", "url": "{base_url}/never/{missing_capture}"}}]}  # fmt: skip
    loaded = configure({"photos": op})
    result, lines = await _probe(loaded, weddings[0], "photos")
    assert result.reason == "assertion"
    assert platform.objects == set()  # uploaded, then removed although the probe failed
    assert any("cleanup[1]: skipped, the run captured no {missing_capture}" in line for line in lines)


async def test_a_capture_that_selects_nothing_fails_the_step(configure: Configure, weddings: list[Wedding]) -> None:
    op = {"steps": [{"name": "load", "request": {"url": "{base_url}/rest/v1/guests"}, "capture": {"id": "$[0].id"}}]}
    result, _ = await _probe(configure({"cap": op}), weddings[0], "cap")
    assert (result.reason, result.message) == ("assertion", "steps[0] (load): capture id: $[0].id selects nothing")


async def test_a_body_that_is_not_json_is_an_assertion_failure(configure: Configure, weddings: list[Wedding]) -> None:
    op = {"steps": [{"name": "load", "request": {"url": "{base_url}/storage/v1/object/photos/x", "method": "DELETE"},
                     "expect": {"assert": [{"path": "$.missing", "exists": False}]}}]}  # fmt: skip
    result, _ = await _probe(configure({"ok": op}), weddings[0], "ok")
    assert result.success, result.message
    op["steps"][0]["request"]["url"] = "{base_url}/nothing-here"
    result, _ = await _probe(configure({"ok": op}), weddings[0], "ok")
    assert result.reason == "http_status" and "HTTP 404, expected 2xx" in result.message


async def test_oauth2_token_is_shared_and_secrets_never_reach_debug_output(
    configure: Configure, weddings: list[Wedding], platform: Platform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auth = {"oauth2": {"token_url": f"{platform.url}/oauth/token", "client_id": "wedwatch", "client_secret": "${CLIENT_SECRET}"}}
    loaded = configure({"rest_guests": GUESTS}, auth=auth)
    argv = ["probe", "--config.file", str(tmp_path / "wedwatch.yml"), "--wedding", weddings[0].id, "--operation", "rest_guests", "--verbose"]
    import os

    os.environ["PLATFORM_KEY"], os.environ["CLIENT_SECRET"] = KEY, "cs-9d8e7f6a5b"
    try:
        codes = [await asyncio.to_thread(main, argv) for _ in range(2)]
    finally:
        del os.environ["PLATFORM_KEY"], os.environ["CLIENT_SECRET"]
    out = capsys.readouterr().out
    assert codes == [0, 0], out
    assert platform.authorizations == ["Bearer tok-1-a1b2c3", "Bearer tok-2-a1b2c3"]  # one token per process
    for secret in (KEY, "cs-9d8e7f6a5b", "tok-1-a1b2c3"):
        assert secret not in out
    assert f"GET {platform.url}/rest/v1/guests?wedding_id=eq.{weddings[0].id}" in out
    assert "rest_guests of demo-ceremony: succeeded" in out
    assert loaded.secrets  # the ${ENV} values are what is redacted


async def test_the_calendar_url_and_the_probes_share_one_oauth2_token(
    platform: Platform, weddings: list[Wedding], tmp_path: Path, aiohttp_client: Any
) -> None:
    from wedwatch.exporter.app import create_app

    platform.calendar = [{"ref": w.id, **{k: v for k, v in w.to_dict().items() if k != "id"}} for w in weddings]
    document = {
        "platform": {
            "base_url": platform.url,
            "headers": {"apikey": KEY},
            "auth": {"oauth2": {"token_url": f"{platform.url}/oauth/token", "client_id": "w", "client_secret": "cs-9d8e7f6a5b"}},
        },
        "calendar": {"url": "{base_url}/v2/events", "items": "$.results[*]", "fields": {"id": "$.ref"}},
        "operations": {"rest_guests": GUESTS},
    }
    (tmp_path / "wedwatch.yml").write_text(yaml.safe_dump(document))
    client = await aiohttp_client(create_app(load_config(tmp_path / "wedwatch.yml", environ={}), record=False, schedule=False))
    response = await client.get("/probe", params={"wedding": weddings[0].id, "operation": "rest_guests"})
    assert response.status == 200, await response.text()
    assert "probe_success" in await response.text()
    # The calendar was read with the token, and the probe reused it: one token for both.
    assert platform.authorizations == ["Bearer tok-1-a1b2c3", "Bearer tok-1-a1b2c3"]
    assert platform.tokens_issued == 1


async def test_a_calendar_watcher_without_a_shared_token_keeps_its_own(platform: Platform, weddings: list[Wedding]) -> None:
    import aiohttp

    from wedwatch.calendar.watch import CalendarWatcher
    from wedwatch.config import parse_config

    platform.calendar = [{"ref": w.id, **{k: v for k, v in w.to_dict().items() if k != "id"}} for w in weddings]
    auth = {"oauth2": {"token_url": f"{platform.url}/oauth/token", "client_id": "w", "client_secret": "cs-9d8e7f6a5b"}}
    document = {"platform": {"base_url": platform.url, "auth": auth},
                "calendar": {"url": "{base_url}/v2/events", "items": "$.results[*]", "fields": {"id": "$.ref"}}}  # fmt: skip
    config = parse_config(yaml.safe_dump(document)).config
    async with aiohttp.ClientSession() as session:
        watcher = CalendarWatcher(session=session)
        try:
            assert await watcher.refresh(config) and await watcher.refresh(config)
        finally:
            await watcher.aclose()
    assert set(watcher.weddings) == {w.id for w in weddings}
    assert platform.tokens_issued == 1  # renewed only before expiry, not per refresh
