"""Probes of wedding operations: one engine runs every operation's steps (DESIGN.md section 2b).

The six built-in operations are presets of the engine shipped as data (wedwatch/config/presets);
an operation added in the config is steps too. Adding a kind of step = one function in engine.py
and one model in config/steps.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.http_exceptions import ContentLengthError, TransferEncodingError

from wedwatch.calendar.model import Wedding
from wedwatch.config.model import Config
from wedwatch.exporter.probes.base import (
    REASONS,
    ProbeContext,
    ProbeFailure,
    ProbeResult,
    probe_connector,
    probe_session,
)
from wedwatch.exporter.probes.engine import Sockets, run_cleanup, run_steps, run_values
from wedwatch.exporter.probes.plan import Plan, plan_for
from wedwatch.oauth2 import TokenError

__all__ = ["ProbeContext", "ProbeFailure", "ProbeResult", "REASONS", "run_probe", "probe_context", "probe_connector", "probe_session", "plan_for", "Plan"]

log = logging.getLogger(__name__)


def probe_context(
    session: aiohttp.ClientSession,
    config: Config,
    wedding: Wedding,
    operation: str,
    *,
    debug: bool = False,
    authorization: Callable[[], Awaitable[str]] | None = None,
    redact: tuple[str, ...] = (),
) -> ProbeContext:
    """The context of one probe of `operation` for `wedding` under `config`."""
    return ProbeContext(
        session=session,
        wedding=wedding,
        operation=operation,
        config=config.operations.get(operation),
        base_url=config.platform.base_url,
        headers=config.platform.headers,
        debug=debug,
        authorization=authorization,
        redact=redact,
    )


async def run_probe(ctx: ProbeContext) -> ProbeResult:
    """Run the context's operation under its deadline, then its cleanup; every way it can end becomes a ProbeResult."""
    plan = plan_for(ctx.operation, ctx.config)
    values = run_values(ctx, plan.names)
    sockets: Sockets = {}
    try:
        result = await _run(ctx, plan, values, sockets)
    finally:
        for ws in sockets.values():
            # Bounded: a platform that never answers the close handshake does not hold the probe.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await ws.close()
    if plan.cleanup:
        # Untimed and outside the deadline (a slow delete is not a slow upload), but bounded too.
        try:
            async with asyncio.timeout(ctx.config.timeout_seconds):
                await run_cleanup(ctx, plan, values)
        except TimeoutError:
            ctx.log(f"cleanup: not done within {ctx.config.timeout_seconds:g}s")
    return result


async def _run(ctx: ProbeContext, plan: Plan, values: dict[str, object], sockets: Sockets) -> ProbeResult:
    try:
        async with asyncio.timeout(ctx.config.timeout_seconds) as deadline:
            readings = await run_steps(ctx, plan, values, sockets, deadline)
            # Non-critical steps after the last critical one are not part of the operation's time.
            took = ctx.critical_elapsed if ctx.critical_elapsed is not None else ctx.elapsed()
            if ctx.debug:
                failed = [name for name, ok in ctx.step_success.items() if not ok]
                ctx.log(f"succeeded in {took * 1000:.1f}ms" + (f" (not critical, failed: {', '.join(failed)})" if failed else ""))
            return ProbeResult(True, took, steps=dict(ctx.steps), readings=readings, step_success=dict(ctx.step_success))
    except ProbeFailure as exc:
        return _failed(ctx, exc.reason, str(exc))
    except TokenError as exc:  # the token endpoint is retried with backoff by the source, not per probe
        return _failed(ctx, "other", f"platform auth: {exc}")
    except aiohttp.ClientConnectorError as exc:
        return _failed(ctx, "connect", f"cannot connect: {exc.os_error or exc}")
    except TimeoutError:  # also aiohttp's connect and read timeouts
        waiting = f" ({ctx.waiting})" if ctx.waiting else ""
        return _failed(ctx, "timeout", f"no answer within {ctx.config.timeout_seconds:g}s{waiting}")
    except aiohttp.ClientError as exc:
        reason, what = _classify(exc)
        return _failed(ctx, reason, f"{what}: {type(exc).__name__}: {exc}")
    except Exception as exc:  # a probe bug must not kill the scheduler
        log.exception("probe %s of wedding %s crashed", ctx.operation, ctx.wedding.id)
        return _failed(ctx, "other", f"probe error: {type(exc).__name__}: {exc}")


def _classify(exc: aiohttp.ClientError) -> tuple[str, str]:
    """The reason an aiohttp error stands for, and what it means (the runbooks act on the reason).

    A connection the platform (or something in front of it) reset or closed before the answer was
    complete is `connect`, like one that could not be opened; bytes that are not a well-formed HTTP
    answer (not HTTP at all, a broken header or chunk, a body that does not decode) are `assertion`,
    like a body that is not JSON. Only what fits neither is `other`, which means "read the log".
    """
    lost = ("connect", "connection lost before a complete answer")
    malformed = ("assertion", "malformed answer")
    if isinstance(exc, aiohttp.ClientConnectionError):  # reset (ClientOSError), closed (ServerDisconnectedError)
        return lost
    if isinstance(exc, aiohttp.ClientPayloadError):
        # aiohttp reports a body cut short by the connection's end as the framing it could not satisfy.
        return lost if isinstance(exc.__cause__, ContentLengthError | TransferEncodingError) else malformed
    if isinstance(exc, aiohttp.ClientResponseError):  # the status line, a header or the chunking did not parse
        return malformed
    return ("other", "HTTP client error")


def _failed(ctx: ProbeContext, reason: str, message: str) -> ProbeResult:
    ctx.log(f"failed ({reason}): {message}")
    return ProbeResult(
        False, ctx.elapsed(), reason=reason, message=message, steps=dict(ctx.steps), step_success=dict(ctx.step_success)
    )
