"""Probes of wedding operations: one module each, one signature, mapped by name here.

Adding an operation = one module exposing `async def probe(ctx) -> ProbeResult`, one entry in
PROBES, one test file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp

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
    except TimeoutError:
        return _failed(ctx, "timeout", f"no answer within {ctx.config.timeout_seconds:g}s")
    except aiohttp.ClientError as exc:
        return _failed(ctx, "other", f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a probe bug must not kill the scheduler
        log.exception("probe %s of wedding %s crashed", ctx.operation, ctx.wedding.id)
        return _failed(ctx, "other", f"probe error: {type(exc).__name__}: {exc}")


def _failed(ctx: ProbeContext, reason: str, message: str) -> ProbeResult:
    ctx.log(f"failed ({reason}): {message}")
    return ProbeResult(False, ctx.elapsed(), reason=reason, message=message, steps=dict(ctx.steps))
