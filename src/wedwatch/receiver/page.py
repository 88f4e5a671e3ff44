"""The on-call page: weddings live now and next, firing alerts by wedding, what automation did.

Server-rendered, every value escaped, no build step and no script: it must work on a phone in a
marquee with bad signal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from aiohttp import web

from wedwatch.receiver.keys import RECEIVER_KEY
from wedwatch.receiver.oncall import UPCOMING_HOURS, read_automation, read_live, read_responses
from wedwatch.severity import SEVERITIES

__all__ = ["on_call_page", "render_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:70rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.critical{color:#fff;background:#b00020;padding:0 .3rem}.high{background:#f4a100;padding:0 .3rem}
.medium{background:#ffe08a;padding:0 .3rem}.low{background:#e0e0e0;padding:0 .3rem}
.emergency{background:#b00020;color:#fff;padding:.6rem;font-weight:bold}.ok{color:#1b5e20}.muted{color:#777}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return _e(value)


def _severity(value: Any) -> str:
    s = _e(value)
    return f'<span class="{s if s in SEVERITIES else "low"}">{s}</span>'


def _weddings_table(rows: list[dict[str, Any]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{_e(empty)}</p>'
    out = ["<table><tr><th>wedding</th><th>phase</th><th>ceremony</th><th>guests</th><th>firing alerts</th></tr>"]
    for w in rows:
        alerts = "<br>".join(
            f"{_severity(a['severity'])} {_e(a['alertname'])} ({_e(a['operation'] or 'all operations')}, {_e(a['strategy'])})"
            for a in w["firing"]
        ) or '<span class="ok">none</span>'
        title = _e(w["wedding_id"]) + (f"<br><span class=muted>{_e(w['name'])}</span>" if w.get("name") else "")
        out.append(
            f"<tr><td>{title}</td><td>{_e(w['phase'])}</td><td>{_when(w['ceremony_at'])} ({_e(w['timezone'])})</td>"
            f"<td>{_e(w['guests'])}</td><td>{alerts}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _responses_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted">No responses yet.</p>'
    out = ["<table><tr><th>decided</th><th>wedding</th><th>severity</th><th>strategy</th><th>actions</th><th>helped?</th></tr>"]
    for r in rows:
        actions = "<br>".join(f"{_e(a['action'])}: {_e(a['status'])}" + (f" <span class=muted>({_e(a['error'])})</span>" if a.get("error") else "") for a in r["actions"])
        if r["resolution_seconds"] is not None:
            helped = f'<span class="ok">resolved {timedelta(seconds=round(r["resolution_seconds"]))} after the first action</span>'
        elif r["resolved_at"] is not None:
            helped = "resolved before any action completed"
        else:
            helped = "still firing"
        out.append(
            f"<tr><td>{_when(r['decided_at'])}</td><td>{_e(r['wedding_id'] or 'platform')}</td><td>{_severity(r['severity'])}</td>"
            f"<td>{_e(r['strategy'])}</td><td>{actions}</td><td>{helped}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def render_page(data: dict[str, Any], responses: list[dict[str, Any]], automation_on: bool) -> str:
    """The whole page from the live-weddings document and recent responses."""
    emergency = data.get("emergency")
    banner = (
        f'<p class="emergency">EMERGENCY MODE since {_when(emergency["entered_at"])}: {_e(emergency["reason"])}</p>'
        if emergency else ""
    )  # fmt: skip
    platform = "".join(
        f"<li>{_severity(a['severity'])} {_e(a['alertname'])} ({_e(a['strategy'])})</li>" for a in data["platform_alerts"]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="15"><title>wedwatch on call</title><style>{_STYLE}</style></head>
<body><h1>wedwatch on call</h1>
<p class="muted">{_when(data['now'])} · automation {'on' if automation_on else '<b>off</b>'} · refreshes every 15 s</p>
{banner}
<h2>Weddings live now</h2>{_weddings_table(data['live'], 'No wedding is live right now.')}
<h2>Next {UPCOMING_HOURS} hours</h2>{_weddings_table(data['next'], f'No ceremony in the next {UPCOMING_HOURS} hours.')}
<h2>Platform-wide alerts</h2>{'<ul>' + platform + '</ul>' if platform else '<p class="ok">none</p>'}
<h2>What automation did</h2>{_responses_table(responses)}
</body></html>
"""


async def on_call_page(request: web.Request) -> web.Response:
    """GET /: the page."""
    receiver = request.app[RECEIVER_KEY]
    store = receiver.require_store()
    data = await read_live(store, receiver.now(), receiver.statuses())
    responses = await read_responses(store, 20)
    automation = await read_automation(store, receiver.config.actions)
    return web.Response(text=render_page(data, responses, automation["enabled"]), content_type="text/html")
