"""The gateway in front of the supabase dialect: API keys, and each API's own error body."""

from __future__ import annotations

import hmac
from http import HTTPStatus
from typing import Literal

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from wedwatch.platform.http import ApiError
from wedwatch.platform.state import SETTINGS

__all__ = ["GatewayError", "PostgrestError", "StorageError", "gateway_middleware", "INJECTED_CODE"]

Api = Literal["rest", "storage", "realtime"]
_PREFIXES: tuple[tuple[str, Api], ...] = (("/rest/", "rest"), ("/storage/", "storage"), ("/realtime/", "realtime"))

# The PostgREST `code` of every error that is not PostgREST's own: injected faults, 404/405 of
# unknown routes, 413. Not a PostgreSQL SQLSTATE; named so that nobody mistakes it for one.
INJECTED_CODE = "WW000"


class GatewayError(ApiError):
    """An error as Supabase's API gateway answers it: `{"message"}`."""

    def response(self) -> web.Response:
        """`{"message": ...}` with the status."""
        return web.json_response({"message": self.message}, status=self.status, headers=self.headers)


class PostgrestError(ApiError):
    """An error as PostgREST answers it: `{"code", "details", "hint", "message"}`."""

    def __init__(self, status: int, code: str, message: str, *, details: str | None = None) -> None:
        super().__init__(status, message)
        self.code = code
        self.details = details

    def response(self) -> web.Response:
        """PostgREST's error body."""
        body = {"code": self.code, "details": self.details, "hint": None, "message": self.message}
        return web.json_response(body, status=self.status, headers=self.headers)


class StorageError(ApiError):
    """An error as Supabase Storage answers it: `{"statusCode", "error", "message"}`.

    Storage puts its own code in the body as a string, and it may differ from the HTTP status
    (a duplicate upload is HTTP 400 with `"statusCode": "409"`).
    """

    def __init__(self, status: int, error: str, message: str, *, status_code: int | None = None) -> None:
        super().__init__(status, message)
        self.error = error
        self.status_code = status if status_code is None else status_code

    def response(self) -> web.Response:
        """Storage's error body."""
        body = {"statusCode": str(self.status_code), "error": self.error, "message": self.message}
        return web.json_response(body, status=self.status, headers=self.headers)


def _api_of(path: str) -> Api | None:
    for prefix, api in _PREFIXES:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return api
    return None


def _same(given: str, key: str) -> bool:
    # compare_digest on bytes: constant time whatever the key's characters.
    return hmac.compare_digest(given.encode(), key.encode())


def _authenticate(request: web.Request, api: Api) -> None:
    key = request.config_dict[SETTINGS].api_key.get_secret_value()
    apikey = request.headers.get("apikey")
    if apikey is None and api == "realtime":
        apikey = request.query.get("apikey")  # browsers cannot set headers on a websocket
    if not apikey:
        raise GatewayError(401, "No API key found in request")
    if not _same(apikey, key):
        raise GatewayError(401, "Invalid API key")
    if api == "realtime":
        return
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not _same(token.strip(), key):
        raise GatewayError(401, "Invalid authentication credentials", headers={hdrs.WWW_AUTHENTICATE: "Bearer"})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _reshape(api: Api, status: int, message: str, headers: dict[str, str]) -> ApiError:
    error: ApiError
    if api == "rest":
        error = PostgrestError(status, INJECTED_CODE, message)
    elif api == "storage":
        error = StorageError(status, _phrase(status), message)
    else:
        error = GatewayError(status, message)
    error.headers = headers
    return error


# aiohttp sets these itself on the new response; copying them would describe the old text body.
_BODY_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH})


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require the API key on /rest, /storage and /realtime; answer their errors in their own shapes."""
    api = _api_of(request.path)
    if api is None:
        return await handler(request)
    _authenticate(request, api)
    try:
        return await handler(request)
    except (GatewayError, PostgrestError, StorageError):
        raise
    except ApiError as exc:  # injected faults, bodies the shared helpers refused
        raise _reshape(api, exc.status, exc.message, exc.headers) from None
    except web.HTTPException as exc:  # aiohttp's own: unknown route, wrong method, body too large
        if exc.status < 400:
            raise
        message = (exc.text or "").removeprefix(f"{exc.status}: ") or exc.reason
        headers = {k: v for k, v in exc.headers.items() if k not in _BODY_HEADERS}
        raise _reshape(api, exc.status, message, headers) from None
