"""notify: post a message about the incident to a chat or pager webhook."""

from __future__ import annotations

from wedwatch.config.actions import NotifyAction
from wedwatch.receiver.actions.base import ActionContext, ActionResult, render
from wedwatch.receiver.actions.http import send_json


def message(params: dict[str, object]) -> str:
    """The one-line text on-call reads first."""
    wedding = params.get("wedding_id") or "all weddings"
    return (
        f"[{str(params.get('severity', '')).upper()}] {params.get('alertname')} on {wedding}: "
        f"{params.get('summary') or ''} (strategy {params.get('strategy')})"
    ).strip()


async def run(ctx: ActionContext) -> ActionResult:
    """POST {text, alertname, severity, strategy, wedding_id, summary, runbook_url}."""
    definition = ctx.definition
    assert isinstance(definition, NotifyAction)
    p = dict(ctx.params)
    body = {
        "text": message(p),
        **{k: p.get(k) for k in ("alertname", "severity", "strategy", "wedding_id", "operation", "summary", "runbook_url")},
    }
    headers = {k: render(v, ctx.values) for k, v in definition.headers.items()}
    return await send_json(ctx, "POST", definition.url, body, headers, definition.timeout_seconds)
