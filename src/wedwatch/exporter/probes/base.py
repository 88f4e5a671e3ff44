"""What every probe shares: its context, its result, timed HTTP with step timings, and failures.

Step timings: `connect` is the time the probe connector takes to hand over a new connection (DNS
and TCP; for https aiohttp does not separate the TLS handshake, so it is inside `connect` and no
`tls` step is reported), `ttfb` runs from the connection being ready to the response headers, and
`transfer` from the headers to the last body byte. The connector times `connect` itself rather
than through aiohttp's TraceConfig: with a trace config aiohttp emits half a dozen awaited events
per request, ~5 % of a probe's CPU, to deliver the two this needs (bench/probe_engine.py).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import ClientRequest
from aiohttp.connector import Connection

from wedwatch.calendar.model import Wedding
from wedwatch.config.model import OperationConfig

__all__ = [
    "ProbeContext",
    "ProbeResult",
    "ProbeFailure",
    "HttpResponse",
    "ProbeConnector",
    "probe_connector",
    "probe_session",
    "redact",
    "REASONS",
]

# Why a probe failed, as docs/runbooks.md reads them: `timeout` no complete answer within the
# operation's deadline; `connect` no connection, or one reset or closed before the answer was
# complete; `http_status` an unexpected status; `assertion` an answer that is not what the operation
# expects (not HTTP, not JSON, the wrong content, larger than max_body_bytes); `other` anything else,
# a probe bug included: read the exporter's log.
REASONS = ("timeout", "connect", "http_status", "assertion", "other")


class ProbeFailure(Exception):
    """A probe found the platform wanting; `reason` is one of REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in REASONS, reason
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one probe run."""

    success: bool
    duration_seconds: float
    reason: str | None = None
    message: str = ""
    steps: Mapping[str, float] = field(default_factory=dict)
    readings: Mapping[str, float] = field(default_factory=dict)
    # Whether each configured step that ran passed (operations of more than one step only: one
    # request step's outcome is the probe's own).
    step_success: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A fully read response and how long its steps took."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    steps: Mapping[str, float]


@dataclass(slots=True)
class _Timing:
    connect_start: float | None = None
    connect_end: float | None = None


# The request being made in this task: the connector finds its timing here (aiohttp passes the
# connector no per-request context, and tasks never share a probe).
_CONNECTING: ContextVar[_Timing | None] = ContextVar("wedwatch_probe_connecting", default=None)


class ProbeConnector(aiohttp.TCPConnector):
    """A TCPConnector that times each connection it gives a probe's request (the `connect` step)."""

    async def connect(self, req: ClientRequest, *args: Any, **kwargs: Any) -> Connection:
        """A new connection (force_close: never a pooled one), its set-up timed for the probe."""
        timing = _CONNECTING.get()
        if timing is None:
            return await super().connect(req, *args, **kwargs)
        timing.connect_start = time.perf_counter()
        connection = await super().connect(req, *args, **kwargs)
        timing.connect_end = time.perf_counter()
        return connection


def probe_connector(*, limit: int) -> ProbeConnector:
    """The connector the probe session must be created with: a new connection per request, timed."""
    # The pool limit only guards against runaway fan-out; it is set above the scheduler's own
    # concurrency so that a probe never waits for a connection inside its `connect` step.
    return ProbeConnector(force_close=True, limit=limit)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by `<redacted>` (longest first, as LoadedConfig orders them)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def probe_session(*, limit: int, connect_timeout: float) -> aiohttp.ClientSession:
    """The HTTP session probes run on: the timed connector, no total timeout (each operation has its deadline)."""
    from wedwatch import __version__

    return aiohttp.ClientSession(
        connector=probe_connector(limit=limit),
        # Each probe's own deadline (operations.*.timeout_seconds) bounds the whole exchange;
        # the platform's timeout bounds connecting.
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout),
        headers={"User-Agent": f"wedwatch/{__version__}"},
    )


@dataclass
class ProbeContext:
    """Everything one probe run may use; probes never reach for globals."""

    session: aiohttp.ClientSession
    wedding: Wedding
    operation: str
    config: OperationConfig
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    debug: bool = False
    # The platform's credentials (OAuth2): the Authorization header's value, fetched (and cached) by the caller.
    authorization: Callable[[], Awaitable[str]] | None = None
    # Strings never shown in debug output: every ${ENV} value of the config, tokens, secrets.
    redact: tuple[str, ...] = ()
    log_lines: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)
    step_success: dict[str, bool] = field(default_factory=dict)
    # Seconds from the start to the end of the last critical step that passed: the probe's duration,
    # so that a non-critical step after it neither fails nor slows the probe.
    critical_elapsed: float | None = None
    started: float = field(default_factory=time.perf_counter)
    # What a repeating step or a wait last found wanting; a timeout's message says it.
    waiting: str | None = None

    def log(self, message: str) -> None:
        """Record a line for `/probe?debug=true` and `wedwatch probe --verbose` (nothing is kept unless debugging)."""
        if self.debug:
            message = redact(message, self.redact)
            self.log_lines.append(f"{time.perf_counter() - self.started:8.4f}s {message}")

    def elapsed(self) -> float:
        """Seconds since the probe started."""
        return time.perf_counter() - self.started

    def base_headers(self) -> dict[str, str]:
        """The platform's headers and then the operation's (without the authorization, which is awaited)."""
        return {**self.headers, **self.config.headers}

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        record_steps: bool = True,
    ) -> HttpResponse:
        """One HTTP exchange with a capped body (the caller judges the status)."""
        merged = {**self.headers, **self.config.headers}
        if self.authorization is not None:
            merged["Authorization"] = await self.authorization()
        if headers:
            merged.update(headers)
        timing = _Timing()
        start = time.perf_counter()
        if self.debug:
            self.log(f"{method} {url}")
        token = _CONNECTING.set(timing)
        try:
            async with self.session.request(
                method, url, json=json, data=data, headers=merged, allow_redirects=False
            ) as response:
                headers_at = time.perf_counter()
                body = await _read_capped(response, self.config.max_body_bytes)
                end = time.perf_counter()
                # The headers are an immutable view that outlives the connection: no copy needed.
                status, response_headers = response.status, response.headers
        finally:
            _CONNECTING.reset(token)
        ready = timing.connect_end if timing.connect_end is not None else start
        steps = {
            "connect": (timing.connect_end - timing.connect_start)
            if timing.connect_start is not None and timing.connect_end is not None
            else 0.0,
            "ttfb": headers_at - ready,
            "transfer": end - headers_at,
        }
        if self.debug:  # formatting the line costs more than the rest of this bookkeeping
            self.log(f"-> {status}, {len(body)} bytes, " + ", ".join(f"{k}={v * 1000:.1f}ms" for k, v in steps.items()))
        if record_steps:
            self.steps.update(steps)
        return HttpResponse(status, body, response_headers, steps)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, never more than `limit` bytes of it in memory: an answer above the cap is an `assertion` failure.

    A declared Content-Length above the cap fails before any of the body is read (a platform that
    announces gigabytes and trickles them is not waited for); a body without one is read until it
    passes the cap.
    """
    declared = response.content_length
    if declared is not None and declared > limit:
        raise ProbeFailure("assertion", f"response body of {declared} bytes exceeds the {limit}-byte cap")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise ProbeFailure("assertion", f"response body exceeds the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)
