"""The admin API: inject, list and clear faults, behind an optional bearer token."""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from wedwatch.platform.faults import FAULTS, FaultSpec
from wedwatch.platform.http import ApiError, read_json
from wedwatch.platform.state import CLOCK, SETTINGS, WEDDINGS

__all__ = ["admin_auth_middleware", "routes"]

_PREFIX = "/admin"


@web.middleware
async def admin_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require `Authorization: Bearer <admin_token>` on /admin/* when a token is configured."""
    token = request.config_dict[SETTINGS].admin_token
    if token is not None and (request.path == _PREFIX or request.path.startswith(_PREFIX + "/")):
        scheme, _, given = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        # compare_digest on bytes: constant time whatever the token's characters.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            raise ApiError(401, "admin API requires a valid bearer token", headers={hdrs.WWW_AUTHENTICATE: "Bearer"})
    return await handler(request)


routes = web.RouteTableDef()


@routes.post(_PREFIX + "/faults")
async def add_fault(request: web.Request) -> web.StreamResponse:
    """Inject a fault; 201 with the fault and its id."""
    spec = await read_json(request, FaultSpec)
    if spec.wedding_id is not None and spec.wedding_id not in request.config_dict[WEDDINGS]:
        raise ApiError(404, f"unknown wedding {spec.wedding_id!r}", field="wedding_id")
    faults = request.config_dict[FAULTS]
    limit = request.config_dict[SETTINGS].max_faults
    if len(faults) >= limit:
        raise ApiError(409, f"already {limit} faults active; delete some first")
    fault = faults.add(spec, request.config_dict[CLOCK]())
    return web.json_response(fault.to_dict(), status=201)


@routes.get(_PREFIX + "/faults")
async def list_faults(request: web.Request) -> web.StreamResponse:
    """The active faults and how many requests they hold hanging."""
    faults = request.config_dict[FAULTS]
    return web.json_response({"faults": [f.to_dict() for f in faults.all()], "hanging_requests": faults.hanging})


@routes.delete(_PREFIX + "/faults")
async def clear_faults(request: web.Request) -> web.StreamResponse:
    """Remove every fault; says how many were active."""
    return web.json_response({"cleared": request.config_dict[FAULTS].clear()})


@routes.delete(_PREFIX + "/faults/{fault_id}")
async def delete_fault(request: web.Request) -> web.StreamResponse:
    """Remove one fault; 204, or 404 when no fault has that id."""
    fault_id = request.match_info["fault_id"]
    if not request.config_dict[FAULTS].remove(fault_id):
        raise ApiError(404, f"no fault {fault_id!r}", field="fault_id")
    return web.Response(status=204)
