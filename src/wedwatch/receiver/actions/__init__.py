"""Actions the receiver runs: one module each, one signature, mapped by type here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from wedwatch.receiver.actions import cache_warm, command, http, log, notify, scale
from wedwatch.receiver.actions.base import (
    ActionContext,
    ActionFailure,
    ActionResult,
    TemplateError,
    render,
    render_json,
)

__all__ = [
    "ACTIONS",
    "ActionContext",
    "ActionFailure",
    "ActionFn",
    "ActionResult",
    "TemplateError",
    "render",
    "render_json",
]

ActionFn = Callable[[ActionContext], Awaitable[ActionResult]]

ACTIONS: dict[str, ActionFn] = {
    "http": http.run,
    "command": command.run,
    "scale": scale.run,
    "cache_warm": cache_warm.run,
    "notify": notify.run,
    "log": log.run,
}
