"""HTTP plumbing shared by the handlers: JSON errors, JSON bodies, query parameters."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TypeVar

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

__all__ = ["ApiError", "error_middleware", "read_json", "query_int"]

log = logging.getLogger("wedwatch.platform")

_Model = TypeVar("_Model", bound=BaseModel)


class ApiError(Exception):
    """An error answer: status, message and, when one input is to blame, the field that was."""

    def __init__(
        self, status: int, message: str, *, field: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        """The JSON body every error of the platform has: `{"error", "field"?}`."""
        body: dict[str, object] = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        return web.json_response(body, status=self.status, headers=self.headers)


# aiohttp sets these itself on the new response; copying them would describe the old text body.
_BODY_HEADERS = frozenset({hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH})


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error, ours or aiohttp's (404, 405, 413), with a JSON body."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = (exc.text or "").removeprefix(f"{exc.status}: ") or exc.reason
        headers = {k: v for k, v in exc.headers.items() if k not in _BODY_HEADERS}
        return ApiError(exc.status, message, headers=headers).response()
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return ApiError(500, "internal error").response()


async def read_json(request: web.Request, model: type[_Model], *, optional: bool = False) -> _Model:
    """Parse and validate a JSON body into `model`: 415, 400 or 422 naming the field when it is wrong."""
    if optional and not request.body_exists:
        return model()
    if request.content_type != "application/json":
        raise ApiError(415, f"expected Content-Type application/json, got {request.content_type}")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        reason = "unknown field" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        raise ApiError(422, f"{field}: {reason}" if field else reason, field=field) from None


def query_int(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    """An integer query parameter within [low, high], or a 400 naming it."""
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name}: expected an integer, got {text!r}", field=name) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name}: must be between {low} and {high}", field=name)
    return value
