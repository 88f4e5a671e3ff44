"""OAuth2 client credentials against a real token endpoint on loopback, with a fake clock."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from ports import free_port
from pydantic import ValidationError

from wedwatch.config.platform_auth import OAuth2Config, PlatformAuthConfig
from wedwatch.errors import WedwatchError
from wedwatch.oauth2 import TokenError, TokenSource

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
SECRET = "s3cr:t/+é w"
CLIENT_ID = "wed watch"
QUERY_SECRET = "querysecret"


@dataclass
class Seen:
    """One request as the token endpoint saw it."""

    authorization: str | None
    accept: str | None
    content_type: str
    form: dict[str, str]


@dataclass
class Endpoint:
    """A token endpoint whose answers the test changes as it goes; tokens are numbered tok1, tok2, …"""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    expires_in: object = 100
    token_type: str = "bearer"
    accept: str = "any"  # any | basic | body: the client authentication it accepts
    answer: Callable[[Seen], web.Response] | None = None  # overrides everything when set
    gate: asyncio.Event | None = None  # requests wait for it when set

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        seen = Seen(request.headers.get("Authorization"), request.headers.get("Accept"), request.content_type, form)
        self.seen.append(seen)
        if self.gate is not None:
            await self.gate.wait()
        if self.answer is not None:
            return self.answer(seen)
        used = "basic" if seen.authorization else "body" if "client_secret" in form else "none"
        if self.accept != "any" and used != self.accept:
            return web.json_response({"error": "invalid_client", "error_description": "unknown client"}, status=401)
        body: dict[str, Any] = {"access_token": f"tok{len(self.seen)}", "token_type": self.token_type}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return web.json_response(body)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def endpoint(aiohttp_server: ServerFactory) -> AsyncIterator[Endpoint]:
    ep = Endpoint()
    app = web.Application()
    app.router.add_post("/oauth/token", ep.handle)
    server = await aiohttp_server(app)
    ep.url = str(server.make_url("/oauth/token"))
    yield ep
    if ep.gate is not None:
        ep.gate.set()  # let held requests finish so the server closes at once


@pytest.fixture
def clock() -> Clock:
    return Clock()


MakeSource = Callable[..., TokenSource]


@pytest.fixture
async def make_source(endpoint: Endpoint, clock: Clock) -> AsyncIterator[MakeSource]:
    sources: list[TokenSource] = []
    async with aiohttp.ClientSession() as session:

        def make(token_url: str | None = None, **config: Any) -> TokenSource:
            url = token_url or f"{endpoint.url}?tenant=wed&api_key={QUERY_SECRET}"
            settings = OAuth2Config(token_url=url, client_id=CLIENT_ID, client_secret=SECRET, **config)
            sources.append(TokenSource(settings, session, clock=clock))
            return sources[-1]

        yield make
        for source in sources:
            await source.aclose()


def renewals() -> list[asyncio.Task[Any]]:
    """Token fetches running in the background (TokenSource names its task)."""
    return [t for t in asyncio.all_tasks() if t.get_name() == "wedwatch-oauth2-token" and not t.done()]


def basic_pair(seen: Seen) -> str:
    assert seen.authorization is not None and seen.authorization.startswith("Basic ")
    return base64.b64decode(seen.authorization.removeprefix("Basic ")).decode()


async def test_one_token_serves_every_call(endpoint: Endpoint, make_source: MakeSource) -> None:
    source = make_source()
    headers = {await source.authorization() for _ in range(50)}
    assert headers == {"Bearer tok1"}  # "bearer" from the server, normalised
    assert len(endpoint.seen) == 1
    seen = endpoint.seen[0]
    assert seen.form == {"grant_type": "client_credentials"}  # no scope, no audience, no secret in the body
    assert seen.accept == "application/json" and seen.content_type == "application/x-www-form-urlencoded"
    # RFC 6749 section 2.3.1: each part form-urlencoded, then joined and base64-encoded.
    assert basic_pair(seen) == "wed+watch:s3cr%3At%2F%2B%C3%A9+w"
    assert SECRET in source.secrets() and "tok1" in source.secrets()


async def test_concurrent_callers_share_one_request(endpoint: Endpoint, make_source: MakeSource) -> None:
    source = make_source()
    endpoint.gate = asyncio.Event()
    callers = [asyncio.create_task(source.authorization()) for _ in range(20)]
    impatient = asyncio.create_task(source.authorization())
    async with asyncio.timeout(5):
        while not endpoint.seen:
            await asyncio.sleep(0.001)
    impatient.cancel()  # a caller giving up must not cancel the fetch the others wait for
    endpoint.gate.set()
    async with asyncio.timeout(5):
        headers = await asyncio.gather(*callers)
    assert set(headers) == {"Bearer tok1"}
    assert len(endpoint.seen) == 1
    with pytest.raises(asyncio.CancelledError):
        await impatient


@pytest.mark.parametrize(
    ("expires_in", "renew_after"), [(100, 90.0), (3600, 3240.0), ("600", 540.0), (None, 270.0), (4, 2.0)]
)
async def test_renewal_before_expiry(
    endpoint: Endpoint, make_source: MakeSource, clock: Clock, expires_in: object, renew_after: float
) -> None:
    # Margin max(10 s, 10 %) capped at half the lifetime; no expires_in means 300 s assumed.
    endpoint.expires_in = expires_in
    source = make_source()
    start = clock.now
    assert await source.authorization() == "Bearer tok1"
    clock.now = start + renew_after - 0.5
    assert await source.authorization() == "Bearer tok1"
    assert renewals() == [] and len(endpoint.seen) == 1
    clock.now = start + renew_after + 0.5
    assert await source.authorization() == "Bearer tok1"  # still valid: served while it renews
    async with asyncio.timeout(5):
        await asyncio.gather(*renewals())
    assert len(endpoint.seen) == 2
    assert await source.authorization() == "Bearer tok2"
    assert len(endpoint.seen) == 2


async def test_expired_token_waits_for_a_new_one(endpoint: Endpoint, make_source: MakeSource, clock: Clock) -> None:
    source = make_source()
    assert await source.authorization() == "Bearer tok1"
    clock.now += 100.5
    assert await source.authorization() == "Bearer tok2"


@pytest.mark.parametrize(
    ("token_type", "header"), [("Bearer", "Bearer tok1"), ("BEARER", "Bearer tok1"), ("DPoP", "DPoP tok1")]
)
async def test_token_type_is_used(endpoint: Endpoint, make_source: MakeSource, token_type: str, header: str) -> None:
    endpoint.token_type = token_type
    assert await make_source().authorization() == header


async def test_scope_and_audience_are_sent(endpoint: Endpoint, make_source: MakeSource) -> None:
    source = make_source(scopes=["guests:read", "photos:write"], audience="https://api.wedding.example")
    await source.authorization()
    assert endpoint.seen[0].form == {
        "grant_type": "client_credentials",
        "scope": "guests:read photos:write",
        "audience": "https://api.wedding.example",
    }


@pytest.mark.parametrize("status", [400, 401])
async def test_basic_refused_then_body_is_used_and_remembered(
    endpoint: Endpoint, make_source: MakeSource, clock: Clock, status: int
) -> None:
    def only_body(seen: Seen) -> web.Response:
        if seen.authorization:
            return web.json_response({"error": "invalid_client"}, status=status)
        return web.json_response({"access_token": f"tok{len(endpoint.seen)}", "expires_in": 100})

    endpoint.answer = only_body
    source = make_source()
    assert await source.authorization() == "Bearer tok2"
    first, second = endpoint.seen
    assert first.authorization is not None and "client_secret" not in first.form
    assert second.authorization is None
    assert second.form == {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
    clock.now += 101
    assert await source.authorization() == "Bearer tok3"
    assert len(endpoint.seen) == 3 and endpoint.seen[2].authorization is None  # body straight away

    # And back: a server that now wants Basic gets it after one refused body try.
    endpoint.answer = None
    endpoint.accept = "basic"
    clock.now += 101
    assert await source.authorization() == "Bearer tok5"
    assert [s.authorization is not None for s in endpoint.seen[3:]] == [False, True]
    clock.now += 101
    assert await source.authorization() == "Bearer tok6"
    assert endpoint.seen[5].authorization is not None


async def test_both_client_authentications_refused(endpoint: Endpoint, make_source: MakeSource) -> None:
    endpoint.accept = "none"
    with pytest.raises(TokenError) as caught:
        await make_source().authorization()
    assert len(endpoint.seen) == 2
    message = str(caught.value)
    assert "HTTP 401: invalid_client: unknown client: both HTTP Basic and form-body" in message
    assert caught.value.status == 401 and caught.value.error == "invalid_client"


async def test_other_oauth_errors_are_not_retried(endpoint: Endpoint, make_source: MakeSource) -> None:
    endpoint.answer = lambda seen: web.json_response(
        {"error": "invalid_scope", "error_description": "photos:delete\nis not\tgranted"}, status=400
    )
    with pytest.raises(TokenError, match=r"HTTP 400: invalid_scope: photos:delete is not granted$"):
        await make_source().authorization()
    assert len(endpoint.seen) == 1


def _text(status: int, text: str) -> Callable[[Seen], web.Response]:
    return lambda seen: web.Response(status=status, text=text)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_text(500, "Internal Server Error"), "HTTP 500: not an OAuth2 error answer"),
        (_text(200, "<html>login</html>"), "HTTP 200, the answer is not a JSON object"),
        (lambda seen: web.json_response({"token_type": "bearer"}), "HTTP 200: the answer has no access_token"),
        (lambda seen: web.json_response({"access_token": ""}), "HTTP 200: the answer has no access_token"),
        (
            lambda seen: web.json_response(
                {"error": "temporarily_unavailable", "error_description": "later"}, status=503
            ),
            "HTTP 503: temporarily_unavailable: later",
        ),
        (
            # A server echoing what it was sent must not carry the secret into our message.
            lambda seen: web.json_response(
                {"error": "invalid_request", "error_description": f"bad {SECRET}"}, status=400
            ),
            "HTTP 400: invalid_request: bad xxxxx",
        ),
        (_text(200, "x" * 70_000), "HTTP 200, answer larger than 65536 bytes"),
    ],
)
async def test_failing_endpoint_raises_a_clear_error(
    endpoint: Endpoint,
    make_source: MakeSource,
    caplog: pytest.LogCaptureFixture,
    answer: Callable[[Seen], web.Response],
    reason: str,
) -> None:
    endpoint.answer = answer
    with caplog.at_level(logging.DEBUG, logger="wedwatch"), pytest.raises(TokenError) as caught:
        await make_source().authorization()
    message = str(caught.value)
    assert message == f"token endpoint {endpoint.url}: {reason}"
    assert isinstance(caught.value, WedwatchError) and isinstance(caught.value, RuntimeError)
    logged = caplog.text
    assert message in logged
    for text in (message, logged):
        assert SECRET not in text and QUERY_SECRET not in text and "tenant" not in text


async def test_connection_refused(make_source: MakeSource) -> None:
    url = f"http://127.0.0.1:{free_port()}/token?key={QUERY_SECRET}"
    with pytest.raises(TokenError) as caught:
        await make_source(token_url=url).authorization()
    message = str(caught.value)
    assert message.startswith(f"token endpoint {url.split('?')[0]}: ClientConnectorError")
    assert QUERY_SECRET not in message and SECRET not in message
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)


async def test_timeout(endpoint: Endpoint, make_source: MakeSource) -> None:
    endpoint.gate = asyncio.Event()
    with pytest.raises(TokenError, match=r": no answer within 0\.2 s$"):
        await make_source(timeout_seconds=0.2).authorization()


async def test_backoff_after_failures(endpoint: Endpoint, make_source: MakeSource, clock: Clock) -> None:
    endpoint.answer = _text(500, "down")
    source = make_source()
    start = clock.now
    tries = [start]
    with pytest.raises(TokenError):
        await source.authorization()
    # 1 s, doubling up to 60 s: within each wait callers fail at once, without a request.
    for wait in (1, 2, 4, 8, 16, 32, 60, 60):
        clock.now = tries[-1] + wait - 0.01
        for _ in range(10):
            with pytest.raises(TokenError, match="HTTP 500"):
                await source.authorization()
        assert renewals() == [] and len(endpoint.seen) == len(tries)
        clock.now = tries[-1] + wait
        tries.append(clock.now)
        with pytest.raises(TokenError, match="HTTP 500"):
            await source.authorization()
        assert len(endpoint.seen) == len(tries)
    # Success resets the backoff: the next failure waits 1 s again.
    endpoint.answer = None
    clock.now += 60
    assert await source.authorization() == f"Bearer tok{len(endpoint.seen)}"
    endpoint.answer = _text(500, "down")
    clock.now += 100
    with pytest.raises(TokenError):
        await source.authorization()
    clock.now += 1
    with pytest.raises(TokenError):
        await source.authorization()
    assert len(endpoint.seen) == len(tries) + 3


async def test_old_token_is_served_while_renewal_fails(
    endpoint: Endpoint, make_source: MakeSource, clock: Clock
) -> None:
    source = make_source()
    start = clock.now
    assert await source.authorization() == "Bearer tok1"  # lives 100 s, renewed from 90 s
    endpoint.answer = _text(500, "down")
    clock.now = start + 91
    assert await source.authorization() == "Bearer tok1"
    async with asyncio.timeout(5):
        await asyncio.gather(*renewals())
    assert len(endpoint.seen) == 2
    clock.now = start + 91.5  # within the 1 s backoff: old token, no request
    assert await source.authorization() == "Bearer tok1"
    assert renewals() == [] and len(endpoint.seen) == 2
    clock.now = start + 99.9  # backoff over: old token again, one more background try
    assert await source.authorization() == "Bearer tok1"
    async with asyncio.timeout(5):
        await asyncio.gather(*renewals())
    assert len(endpoint.seen) == 3
    clock.now = start + 100.5  # expired, and within the 2 s backoff: the failure, at once
    with pytest.raises(TokenError, match="HTTP 500"):
        await source.authorization()
    assert len(endpoint.seen) == 3


async def test_closed_source_refuses(make_source: MakeSource) -> None:
    source = make_source()
    await source.aclose()
    with pytest.raises(TokenError, match="closed"):
        await source.authorization()


def test_config_hides_the_secret() -> None:
    config = OAuth2Config(token_url="https://auth.example/token", client_id="id", client_secret=SECRET)
    assert SECRET not in repr(config) and SECRET not in str(config) and SECRET not in config.model_dump_json()
    assert config.client_secret.get_secret_value() == SECRET
    assert (config.scopes, config.audience, config.timeout_seconds) == ([], None, 10.0)
    assert PlatformAuthConfig().oauth2 is None


@pytest.mark.parametrize(
    ("oauth2", "field", "reason"),
    [
        ({"token_url": "ftp://auth.example/token"}, "token_url", "must be an http:// or https:// URL with a host"),
        ({"token_url": "auth.example/token"}, "token_url", "must be an http:// or https:// URL with a host"),
        ({"token_url": "https://me:pw@auth.example/token"}, "token_url", "must not carry credentials"),
        ({"client_secret": ""}, "client_secret", "must not be empty"),
        ({"scopes": ["guests:read photos:write"]}, "scopes", "is not one scope"),
        ({"timeout_seconds": 0}, "timeout_seconds", "greater than 0"),
        ({"scope": ["guests:read"]}, "scope", "Extra inputs are not permitted"),
    ],
)
def test_config_errors(oauth2: dict[str, Any], field: str, reason: str) -> None:
    document = {"token_url": "https://auth.example/token", "client_id": "id", "client_secret": "x", **oauth2}
    with pytest.raises(ValidationError) as caught:
        PlatformAuthConfig.model_validate({"oauth2": document})
    errors = caught.value.errors()
    assert [e["loc"] for e in errors] == [("oauth2", field)]
    assert reason in errors[0]["msg"]
    assert "pw" not in errors[0]["msg"]


def test_unknown_auth_key_is_an_error() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        PlatformAuthConfig.model_validate({"oauth3": {}})
