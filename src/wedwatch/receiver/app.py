"""The receiver's HTTP face: POST /alerts with Alertmanager's ack contract, the API, the page.

Ack contract (DESIGN.md section 4): 200 only after the notification is committed; 400 for a body
that is not JSON or not version 4; 401 for missing or wrong credentials; 413 above the body
limit; 503 while the store is unavailable, so that Alertmanager retries. Never 429: Alertmanager
does not retry it and would only re-send at the next group interval.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from wedwatch import __version__
from wedwatch.config import LoadedConfig
from wedwatch.errors import StoreError, StoreUnavailable
from wedwatch.receiver import api, page
from wedwatch.receiver.auth import CHALLENGE, auth_configured, authorized
from wedwatch.receiver.capacity_target import read_capacity_target
from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.receiver.openapi import openapi_document
from wedwatch.receiver.payload import PayloadError, parse_notification
from wedwatch.receiver.service import Receiver
from wedwatch.store.values import RawJson
from wedwatch.webconfig import WEB_USER, WebConfigSource, install

__all__ = ["create_app", "protect", "RECEIVER_KEY", "ssl_context"]

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PUBLIC = frozenset({"/metrics", "/-/healthy", "/-/ready", "/openapi.json"})


def create_app(
    loaded: LoadedConfig,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    run_worker: bool = True,
    worker_id: str | None = None,
) -> web.Application:
    """The receiver application; the store, calendar and worker start and stop with it."""
    config = loaded.config
    app = web.Application(client_max_size=config.receiver.max_body_bytes, middlewares=[_auth_middleware])
    app.cleanup_ctx.append(_receiver_ctx(loaded, now=now, run_worker=run_worker, worker_id=worker_id))
    app.router.add_post("/alerts", _alerts)
    app.router.add_get("/", page.on_call_page)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/-/healthy", _healthy)
    app.router.add_get("/-/ready", _ready)
    app.router.add_get("/openapi.json", _openapi)
    api.add_routes(app)
    if not auth_configured(config.receiver.auth):
        log.warning("receiver.auth has no credentials: /alerts and the API accept anyone who can reach them")
    return app


def _receiver_ctx(
    loaded: LoadedConfig, *, now: Callable[[], datetime], run_worker: bool, worker_id: str | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60), headers={"User-Agent": f"wedwatch-receiver/{__version__}"}
        )
        receiver = Receiver(loaded, session, now=now, run_worker=run_worker, worker_id=worker_id)
        app[RECEIVER_KEY] = receiver
        await receiver.start()
        try:
            yield
        finally:
            await receiver.stop()
            await session.close()

    return ctx


def protect(app: web.Application, source: WebConfigSource) -> None:
    """Put --web.config.file in front of the receiver (docs/security.md).

    Its `basic_auth_users` open every route; where receiver.auth asks for a credential (/alerts, the
    page and the API), that credential opens it too, as Alertmanager can send only one Authorization
    header. /metrics, the health endpoints and /openapi.json, which receiver.auth leaves open, take a
    web config login only.
    """

    def accepts(request: web.Request) -> bool:
        auth = request.app[RECEIVER_KEY].config.receiver.auth
        return (
            request.path not in _PUBLIC
            and auth_configured(auth)
            and authorized(request.headers.get("Authorization"), auth)
        )

    def refused(request: web.Request) -> None:
        if request.path == "/alerts":
            request.app[RECEIVER_KEY].metrics.notifications.labels("unauthorized").inc()

    install(app, source, accepts=accepts, on_refused=refused, challenge=CHALLENGE)


@web.middleware
async def _auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    receiver = request.app[RECEIVER_KEY]
    auth = receiver.config.receiver.auth
    # A --web.config.file login (`protect`) has full access, as in every exporter.
    public = request.path in _PUBLIC or (auth.public_read and request.method == "GET") or WEB_USER in request
    if not public and not authorized(request.headers.get("Authorization"), auth):
        if request.path == "/alerts":
            receiver.metrics.notifications.labels("unauthorized").inc()
        return web.json_response(
            {"status": "error", "error": "missing or wrong credentials"},
            status=401,
            headers={"WWW-Authenticate": CHALLENGE},
        )
    try:
        return await handler(request)
    except StoreUnavailable as exc:
        # The one 503 of every route: Alertmanager retries 5xx with backoff (DESIGN.md section 4).
        log.warning("store unavailable for %s %s, answering 503 so that Alertmanager retries: %s",
                    request.method, request.path, exc)  # fmt: skip
        return _error(503, "the store is unavailable; retry later")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "error": message}, status=status)


async def _alerts(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER_KEY]
    metrics = receiver.metrics
    limit = receiver.config.receiver.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        metrics.notifications.labels("too_large").inc()
        return _error(413, f"body of {request.content_length} bytes is above the {limit}-byte limit")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.notifications.labels("too_large").inc()
        return _error(413, f"body is above the {limit}-byte limit")
    try:
        notification, _ = parse_notification(body)
    except PayloadError as exc:
        metrics.notifications.labels("bad_request").inc()
        return _error(400, str(exc))
    try:
        result = await receiver.accept(notification, RawJson(body))
    except StoreUnavailable:
        metrics.notifications.labels("unavailable").inc()
        raise  # the middleware answers 503, so that Alertmanager retries
    except StoreError:
        metrics.notifications.labels("error").inc()
        log.exception("storing a notification failed")
        return _error(500, "storing the notification failed")
    return web.json_response(
        {
            "status": "duplicate" if result.duplicate else "accepted",
            "incidents_created": result.incidents_created,
            "actions_queued": result.actions_queued,
        }
    )


async def _metrics(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER_KEY]
    # The capacity target is read from the store at every scrape, so that every replica exports
    # the same value; without the store it is left out and the rest is still served.
    try:
        receiver.metrics.capacity_targets = await read_capacity_target(
            receiver.require_store(), receiver.config, receiver.calendar.weddings.values(), receiver.now()
        )
    except StoreError as exc:
        receiver.metrics.capacity_targets = None
        log.warning("capacity target left out of /metrics: %s", exc)
    body = generate_latest(receiver.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


async def _ready(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER_KEY]
    try:
        await receiver.require_store().ping()
    except StoreError as exc:
        return web.Response(status=503, text=f"Not ready: {exc}\n")
    return web.Response(text="Ready.\n")


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def ssl_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server TLS context from PEM files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
