"""The probe engine: runs an operation's steps (request, websocket, wait) against the platform.

Every operation, built-in or configured, runs here. A step's time runs from its start (its first
try, for a step that repeats `until` its expectations hold) to its end and is published under the
step's name; the operation's first request also publishes its `connect`, `ttfb` and `transfer`,
so dashboards and rules written for the built-ins keep working. An operation of one request step
publishes only those three (its own time is the probe's duration).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import aiohttp

from wedwatch.exporter.probes.base import ProbeContext, ProbeFailure
from wedwatch.exporter.probes.plan import Plan, StepPlan
from wedwatch.probing.jsonpaths import NOTHING, NotJson, decode_json
from wedwatch.probing.templates import render_text

__all__ = ["run_steps", "run_cleanup", "run_values", "Sockets"]

Sockets = dict[str, aiohttp.ClientWebSocketResponse]

# A JPEG start-of-image marker and JFIF header, so that type sniffing sees an image.
_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


async def run_steps(
    ctx: ProbeContext, plan: Plan, values: dict[str, Any], sockets: Sockets, deadline: asyncio.Timeout | None = None
) -> dict[str, float]:
    """Run the steps in order; the critical-path readings they recorded. Raises ProbeFailure.

    `deadline` is the run's timeout: a non-critical step runs under it too, but its expiry there
    fails only that step (the step is given the deadline itself, and the run's is held off meanwhile).
    """
    readings: dict[str, float] = {}
    if plan.single_request:  # most operations: no per-step bookkeeping
        await _request_step(ctx, plan.steps[0], values, readings, timed=True)
        return readings
    first_request = True
    for step in plan.steps:
        assert step.name is not None  # every run step is named (check_scopes)
        started = time.perf_counter()
        if not step.critical:
            ctx.step_success[step.name] = await _optional_step(ctx, step, values, readings, deadline)
            ctx.steps[step.name] = time.perf_counter() - started
            continue
        try:
            if step.kind == "request":
                await _request_step(ctx, step, values, readings, timed=first_request)
                first_request = False
            elif step.kind == "websocket":
                await _websocket_step(ctx, step, values, readings, sockets)
            else:
                assert step.socket is not None
                await _wait_step(ctx, step, values, readings, sockets[step.socket])
        except BaseException:  # a failure, the deadline or a cancellation: this step did not pass
            ctx.step_success[step.name] = False
            raise
        ctx.steps[step.name] = time.perf_counter() - started
        ctx.step_success[step.name] = True
        ctx.critical_elapsed = ctx.elapsed()
    return readings


async def _optional_step(
    ctx: ProbeContext, step: StepPlan, values: dict[str, Any], readings: dict[str, float], deadline: asyncio.Timeout | None
) -> bool:
    """Run a non-critical request step; whether it passed (its failure is logged, never raised)."""
    when = deadline.when() if deadline is not None else None
    if deadline is not None:
        deadline.reschedule(None)
    try:
        async with asyncio.timeout_at(when):
            # Never the timed request: connect/ttfb/transfer describe the operation's critical path.
            await _request_step(ctx, step, values, readings, timed=False)
    except ProbeFailure as exc:
        ctx.log(f"not critical, failed ({exc.reason}): {exc}")  # the message names the step
        return False
    except TimeoutError:
        ctx.log(f"{step.label}: failed (timeout), not critical: no answer before the run's deadline")
        return False
    except aiohttp.ClientError as exc:
        ctx.log(f"{step.label}: failed, not critical: {type(exc).__name__}: {exc}")
        return False
    finally:
        if deadline is not None:
            # Past already, the run's deadline fires at the next await: a later critical step times out.
            deadline.reschedule(when)
    return True


async def run_cleanup(ctx: ProbeContext, plan: Plan, values: dict[str, Any]) -> None:
    """Run the cleanup steps, pass or fail; untimed; a failure is only logged."""
    for step in plan.cleanup:
        assert step.url is not None
        missing = sorted(n for n in step.url.names if n not in values)
        if missing:
            ctx.log(f"{step.label}: skipped, the run captured no {{{missing[0]}}}")
            continue
        try:
            await _request_step(ctx, step, values, {}, timed=False)
        except (ProbeFailure, aiohttp.ClientError, TimeoutError, NotJson) as exc:
            ctx.log(f"{step.label}: cleanup failed: {exc or type(exc).__name__}")


async def _request_step(
    ctx: ProbeContext, step: StepPlan, values: dict[str, Any], readings: dict[str, float], *, timed: bool
) -> None:
    assert step.url is not None
    url = step.url.render_str(values)
    headers = {k: t.render_str(values) for k, t in step.headers}
    kwargs: dict[str, Any] = {}
    if step.json is not None:
        kwargs["json"] = step.json.render(values)
    elif step.body is not None:
        kwargs["data"] = step.body.render_str(values).encode()
    while True:
        if step.upload is not None:
            kwargs["data"] = _upload_body(step, headers)
        response = await ctx.request(step.method, url, headers=headers, record_steps=timed, **kwargs)
        timed = False
        statuses = step.statuses
        if statuses is None:
            ok = 200 <= response.status < 300
        else:
            ok = response.status in statuses
        if not ok:
            wanted = "2xx" if statuses is None else "/".join(map(str, sorted(statuses)))
            raise ProbeFailure("http_status", f"{step.label}: {step.method} {url}: HTTP {response.status}, expected {wanted}")
        if not step.needs_json:
            return
        failure = _judge(ctx, step, response.body, values, readings)
        if failure is None:
            return
        if step.until_interval is None:
            raise ProbeFailure("assertion", f"{step.label}: {failure}")
        ctx.waiting = f"{step.label} still waiting: {failure}"
        await asyncio.sleep(step.until_interval)


def _upload_body(step: StepPlan, headers: dict[str, str]) -> Any:
    upload = step.upload
    assert upload is not None
    if upload.content_type == "image/jpeg":
        data = _JPEG_HEAD + os.urandom(max(0, upload.size_bytes - len(_JPEG_HEAD) - 2)) + b"\xff\xd9"
    else:
        data = os.urandom(upload.size_bytes)
    if upload.field is None:
        headers.setdefault("Content-Type", upload.content_type)
        return data
    form = aiohttp.FormData()
    form.add_field(upload.field, data, filename=upload.filename, content_type=upload.content_type)
    return form


def _judge(ctx: ProbeContext, step: StepPlan, body: bytes, values: dict[str, Any], readings: dict[str, float]) -> str | None:
    """None when the answer satisfies the step (then its captures and readings are taken); else why not."""
    try:
        if step.count_only is not None:
            count = step.count_only.path.count_in(body)
            if count is not None:
                failure = step.count_only.count_failure(count, values)
                if ctx.debug:
                    _log_check(ctx, step.count_only.describe(values), failure)
                return failure
        document = decode_json(body)
    except NotJson as exc:
        raise ProbeFailure("assertion", f"{step.label}: {exc}") from None
    return _judge_document(ctx, step, document, values, readings)


def _judge_document(
    ctx: ProbeContext, step: StepPlan, document: Any, values: dict[str, Any], readings: dict[str, float]
) -> str | None:
    for abort in step.aborts:
        if abort.failure(document, values) is None:
            raise ProbeFailure("assertion", f"{step.label}: gave up: {abort.describe(values)} holds")
    for check in step.checks:
        failure = check.failure(document, values)
        if ctx.debug:
            _log_check(ctx, check.describe(values), failure)
        if failure is not None:
            return failure
    for name, path in step.captures:
        node = path.first(document)
        if node is NOTHING:
            raise ProbeFailure("assertion", f"{step.label}: capture {name}: {path.text} selects nothing")
        values[name] = node
        if ctx.debug:
            ctx.log(f"  capture {name} = {render_text(node)}")
    for reading, path in step.record:
        node = path.first(document)
        if node is NOTHING or node is None:
            continue
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise ProbeFailure("assertion", f"{step.label}: record {reading}: {path.text} is {render_text(node)}, not a number")
        readings[reading] = float(node)
    return None


def _log_check(ctx: ProbeContext, description: str, failure: str | None) -> None:
    ctx.log(f"  assert {description}: " + ("ok" if failure is None else f"FAILED: {failure}"))


async def _websocket_step(
    ctx: ProbeContext, step: StepPlan, values: dict[str, Any], readings: dict[str, float], sockets: Sockets
) -> None:
    assert step.url is not None and step.socket is not None
    url = step.url.render_str(values)
    headers = ctx.base_headers()
    if ctx.authorization is not None:
        headers["Authorization"] = await ctx.authorization()
    headers.update({k: t.render_str(values) for k, t in step.headers})
    ctx.log(f"{step.label}: open websocket {url}")
    try:
        ws = await ctx.session.ws_connect(url, headers=headers, max_msg_size=ctx.config.max_body_bytes, autoping=True)
    except aiohttp.WSServerHandshakeError as exc:
        raise ProbeFailure("http_status", f"{step.label}: websocket {url}: HTTP {exc.status}, expected 101") from None
    sockets[step.socket] = ws
    for message in step.send:
        text = json.dumps(message.render(values), separators=(",", ":"))
        ctx.log(f"  send {text}")
        await ws.send_str(text)
    if step.checks or step.captures or step.record:
        await _wait_step(ctx, step, values, readings, ws)


async def _wait_step(
    ctx: ProbeContext, step: StepPlan, values: dict[str, Any], readings: dict[str, float], ws: aiohttp.ClientWebSocketResponse
) -> None:
    """Read messages until one satisfies the step; others are skipped (they were meant for someone else)."""
    while True:
        message = await ws.receive()
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            raise ProbeFailure("connect", f"{step.label}: socket {step.socket} closed by the platform (code {ws.close_code})")
        if message.type is aiohttp.WSMsgType.ERROR:
            raise ProbeFailure("connect", f"{step.label}: socket {step.socket} failed: {ws.exception()}")
        if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            continue
        raw = message.data.encode() if isinstance(message.data, str) else message.data
        try:
            document = decode_json(raw)
        except NotJson:
            ctx.log(f"  skip a message that is not JSON ({len(raw)} bytes)")
            continue
        if ctx.debug:
            ctx.log(f"  message {_short(raw)}")
        failure = _judge_document(ctx, step, document, values, readings)
        if failure is None:
            return
        ctx.waiting = f"{step.label} still waiting: {failure}"


def _short(raw: bytes, limit: int = 200) -> str:
    text = raw.decode(errors="replace")
    return text if len(text) <= limit else text[:limit] + "…"


def run_values(ctx: ProbeContext, names: frozenset[str]) -> dict[str, Any]:
    """The variables templates may name, fresh for one run; the costly ones only when `names` holds them."""
    wedding = ctx.wedding
    values: dict[str, Any] = {
        "base_url": ctx.base_url,
        "wedding_id": wedding.id,
        "guests": wedding.guests,
        "vendors": wedding.vendors,
        "operation": ctx.operation,
    }
    # A time zone conversion, a format and 16 random bytes are a few per cent of a small probe's CPU.
    if "ceremony_at" in names:
        values["ceremony_at"] = wedding.ceremony_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    if "run_id" in names:
        values["run_id"] = os.urandom(16).hex()
    return values
