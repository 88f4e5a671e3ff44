"""Probes of wedding operations: one module each, one signature, mapped by name here.

Adding an operation = one module exposing `async def probe(ctx) -> ProbeResult`, one entry in
PROBES, one test file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.http_exceptions import ContentLengthError, TransferEncodingError

from wedwatch.exporter.probes import critical_path, guest_list, mobile, photo_upload, timeline_sync, vendor_notification
from wedwatch.exporter.probes.base import REASONS, ProbeContext, ProbeFailure, ProbeResult, probe_connector

__all__ = ["PROBES", "ProbeFn", "ProbeContext", "ProbeFailure", "ProbeResult", "REASONS", "run_probe", "probe_connector"]

ProbeFn = Callable[[ProbeContext], Awaitable[ProbeResult]]

PROBES: dict[str, ProbeFn] = {
    "guest_list": guest_list.probe,
    "photo_upload": photo_upload.probe,
    "timeline_sync": timeline_sync.probe,
    "vendor_notification": vendor_notification.probe,
    "mobile": mobile.probe,
    "critical_path": critical_path.probe,
}

log = logging.getLogger(__name__)


async def run_probe(ctx: ProbeContext) -> ProbeResult:
    """Run the context's probe under its deadline; every way it can end becomes a ProbeResult."""
    probe = PROBES[ctx.operation]
    try:
        async with asyncio.timeout(ctx.config.timeout_seconds):
            return await probe(ctx)
    except ProbeFailure as exc:
        return _failed(ctx, exc.reason, str(exc))
    except aiohttp.ClientConnectorError as exc:
        return _failed(ctx, "connect", f"cannot connect: {exc.os_error or exc}")
    except TimeoutError:  # also aiohttp's connect and read timeouts
        return _failed(ctx, "timeout", f"no answer within {ctx.config.timeout_seconds:g}s")
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
    return ProbeResult(False, ctx.elapsed(), reason=reason, message=message, steps=dict(ctx.steps))
