"""The web config on an aiohttp app: basic auth in front of every route, the configured headers on every response.

Every route is behind `basic_auth_users`, as in every exporter built on the exporter-toolkit,
/-/healthy and /-/ready included (docs/security.md says how Kubernetes probes get through). An app
with credentials of its own (the receiver's `receiver.auth` on /alerts) passes `accepts`: a request
it accepts is let through too, since a client such as Alertmanager sends one Authorization header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from wedwatch.webconfig.basic_auth import BasicAuth
from wedwatch.webconfig.source import ActiveWebConfig, WebConfigSource

__all__ = ["install", "WEB_USER", "CHALLENGE"]

# Request keys: the user name of an authenticated `basic_auth_users` login, and the config that
# request was checked against. Typed keys where aiohttp has them (3.14 warns on string keys).
_RequestKey: Any = getattr(web, "RequestKey", None)
WEB_USER: Any = _RequestKey("wedwatch_web_user", str) if _RequestKey else "wedwatch.web_user"
_ACTIVE: Any = _RequestKey("wedwatch_web_config", ActiveWebConfig) if _RequestKey else "wedwatch.web_config"
CHALLENGE = 'Basic realm="wedwatch"'
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SAN_KINDS = {"DNS": False, "email": False, "URI": False, "IP Address": True}


def install(
    app: web.Application,
    source: WebConfigSource,
    *,
    accepts: Callable[[web.Request], bool] | None = None,
    on_refused: Callable[[web.Request], None] | None = None,
    challenge: str = CHALLENGE,
) -> None:
    """Put the web config in front of `app` (before it starts): outermost middleware and response headers."""
    auth = BasicAuth()

    @web.middleware
    async def web_config(request: web.Request, handler: Handler) -> web.StreamResponse:
        active = source.current()
        request[_ACTIVE] = active
        if active.allowed_sans is not None and not _san_allowed(request, active.allowed_sans):
            response = web.Response(status=403, text="Forbidden: client certificate not allowed\n")
            response.force_close()
            return response
        if active.users:
            # The app's own credential first: it is a cheap comparison, bcrypt is not.
            if accepts is not None and accepts(request):
                return await handler(request)
            user = await auth.check(request.headers.get("Authorization"), active)
            if user is None:
                if on_refused is not None:
                    on_refused(request)
                return web.Response(status=401, text="Unauthorized\n", headers={"WWW-Authenticate": challenge})
            request[WEB_USER] = user
        return await handler(request)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        active: ActiveWebConfig = request.get(_ACTIVE) or source.current()
        for name, value in active.headers.items():
            response.headers[name] = value

    app.middlewares.insert(0, web_config)
    app.on_response_prepare.append(add_headers)


def _san_allowed(request: web.Request, allowed: frozenset[str]) -> bool:
    transport = request.transport
    peer: Any = transport.get_extra_info("peercert") if transport is not None else None
    if not peer:
        return False
    for kind, value in peer.get("subjectAltName", ()):
        if kind not in _SAN_KINDS:
            continue
        if _SAN_KINDS[kind]:
            try:
                value = str(ipaddress.ip_address(value))
            except ValueError:
                continue
        if value in allowed:
            return True
    return False
