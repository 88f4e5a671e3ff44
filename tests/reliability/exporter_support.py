"""A hostile wedding platform on loopback, and a real `wedwatch exporter` process to point at it.

The platform is a raw asyncio server, because the faults worth testing live below HTTP: a reset
connection, bytes that are not HTTP, a body that never ends. Each wedding id gets a behaviour;
a wedding without one (or every wedding while `hostile` is off) is relayed byte for byte to an
upstream platform stand-in, or answered with a small JSON document when there is none.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from ports import free_port
from reliability_support import stop_process
from scrape import Scrape, parse_scrape

BODY_BYTES = 10 * 1000 * 1000  # "10 MB bodies", as the issue has them
_CHUNK = b"x" * (64 * 1024)
_WEDDING = re.compile(rb"/weddings/([^/?\s]+)")
_STATIC = b'{"wedding_id": "any", "guests": []}'


@dataclass(frozen=True)
class Exchange:
    """One connection to the hostile platform: its streams, the request head read so far, and the platform."""

    platform: HostilePlatform
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    head: bytes

    def answer(self, status: str, headers: Mapping[str, str], body: bytes = b"") -> None:
        """Write a status line, `headers` and `body` (Connection: close: one request per connection)."""
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "Connection: close", "", ""]
        self.writer.write("\r\n".join(lines).encode() + body)

    async def stream(self, chunks: Iterable[bytes], key: str, *, pause: float = 0.0) -> None:
        """Write `chunks` until they run out or the client goes away, counting the bytes in `platform.sent[key]`."""
        for chunk in chunks:
            if self.writer.is_closing() or self.reader.at_eof():
                break
            self.writer.write(chunk)
            await self.writer.drain()
            self.platform.sent[key] += len(chunk)
            if pause:
                await asyncio.sleep(pause)

    def reset(self) -> None:
        """Close with an RST, not a FIN: SO_LINGER with a zero timeout, then close."""
        self.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Behaviour = Callable[[Exchange], Awaitable[None]]


async def relay(x: Exchange) -> None:
    """The well-behaved answer: the upstream stand-in's, or a small JSON document."""
    if x.platform.upstream is None:
        x.answer("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(_STATIC))}, _STATIC)
        await x.writer.drain()
        return
    up_reader, up_writer = await asyncio.open_connection(*x.platform.upstream)
    try:
        up_writer.write(x.head)
        # One request per connection: whichever side finishes first ends the exchange (the client
        # giving up on a hung answer included, so that the stand-in sees it go).
        pipes = [asyncio.create_task(_pipe(x.reader, up_writer)), asyncio.create_task(_pipe(up_reader, x.writer))]
        _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
    finally:
        up_writer.close()
        with suppress(ConnectionError):
            await up_writer.wait_closed()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(64 * 1024):
        sink.write(data)
        await sink.drain()


async def reset(x: Exchange) -> None:
    """Read the request, then reset the connection without a word."""
    x.reset()


async def garbage(x: Exchange) -> None:
    """Answer with bytes that are not HTTP at all."""
    x.writer.write(b"\x00\x17\xfe\xff SSH-2.0-not-http \x80\x81\r\n\r\n" * 8)
    await x.writer.drain()


async def html(x: Exchange) -> None:
    """A valid HTTP 200 whose body is a proxy's HTML page, not JSON."""
    body = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    x.answer("200 OK", {"Content-Type": "text/html", "Content-Length": str(len(body))}, body)
    await x.writer.drain()


async def huge(x: Exchange) -> None:
    """10 MB with its Content-Length declared, sent as fast as the client takes it."""
    x.answer("200 OK", {"Content-Type": "application/json", "Content-Length": str(BODY_BYTES)})
    await x.stream((_CHUNK for _ in range(BODY_BYTES // len(_CHUNK))), "huge")


async def flood(x: Exchange) -> None:
    """10 MB chunked, no length announced: only a cap on what is read stops it."""
    x.answer("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    framed = b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK)
    await x.stream((framed for _ in range(BODY_BYTES // len(_CHUNK))), "flood")
    x.writer.write(b"0\r\n\r\n")  # the last chunk, for a client that read it all
    await x.writer.drain()


async def trickle_huge(x: Exchange) -> None:
    """Declare 10 GB, then send a byte every 50 ms (for at most 10 s)."""
    x.answer("200 OK", {"Content-Type": "application/json", "Content-Length": str(10**10)})
    await x.stream((b"[" for _ in range(200)), "trickle_huge", pause=0.05)


async def trickle(x: Exchange) -> None:
    """A small declared body sent a byte every 50 ms: it would take 50 s to arrive."""
    x.answer("200 OK", {"Content-Type": "application/json", "Content-Length": "1000"})
    await x.stream((b" " for _ in range(200)), "trickle", pause=0.05)


async def cut(x: Exchange) -> None:
    """Headers and 100 bytes of a 100 kB body, then a reset."""
    x.answer("200 OK", {"Content-Type": "application/json", "Content-Length": "100000"}, b"[" + b" " * 99)
    await x.writer.drain()
    await asyncio.sleep(0.02)
    x.reset()


BEHAVIOURS: dict[str, Behaviour] = {
    f.__name__: f for f in (relay, reset, garbage, html, huge, flood, trickle_huge, trickle, cut)
}


class HostilePlatform:
    """A loopback platform that misbehaves per wedding id while `hostile` is on, and relays otherwise."""

    def __init__(self, behaviours: Mapping[str, str], *, upstream: tuple[str, int] | None = None) -> None:
        unknown = set(behaviours.values()) - BEHAVIOURS.keys()
        assert not unknown, f"unknown behaviours {unknown}"
        self.behaviours = dict(behaviours)
        self.upstream = upstream
        self.hostile = False
        self.served: Counter[str] = Counter()  # requests answered, by behaviour
        self.sent: Counter[str] = Counter()  # body bytes that went out, by behaviour
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The base URL to configure as `platform.base_url`."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> HostilePlatform:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        # A connection accepted just before close() has its handler task scheduled but not yet
        # running (so not yet in _tasks): let those start, then cancel every handler, so that no
        # accepted socket is left for the garbage collector to find unclosed.
        for _ in range(3):
            await asyncio.sleep(0)
        while self._tasks:
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._tasks.difference_update(pending)
        await self._server.wait_closed()

    def behaviour_of(self, head: bytes) -> str:
        """What this request gets: its wedding's behaviour while hostile, the relay otherwise."""
        match = _WEDDING.search(head.split(b"\r\n", 1)[0])
        if not self.hostile or match is None:
            return "relay"
        return self.behaviours.get(match.group(1).decode(), "relay")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            name = self.behaviour_of(head)
            self.served[name] += 1
            await BEHAVIOURS[name](Exchange(self, reader, writer, head))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client went away first: exactly what several behaviours provoke
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()
            self._tasks.discard(task)


def p99_bucket(before: Scrape, after: Scrape, histogram: str) -> float:
    """The upper bound of the bucket holding the 99th percentile of what `histogram` observed between two scrapes."""
    name = f"{histogram}_bucket"
    buckets = sorted(
        (float(labels["le"]), (after.value(name, **labels) or 0.0) - (before.value(name, **labels) or 0.0))
        for labels in after.series(name)
    )
    total = buckets[-1][1]  # le="+Inf"
    assert total > 0, f"{histogram} observed nothing between the two scrapes"
    return next(bound for bound, count in buckets if count >= 0.99 * total)


@dataclass(frozen=True)
class ExporterProcess:
    """A running `wedwatch exporter`: where it answers, its process, its log."""

    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    async def scrape(self, session: aiohttp.ClientSession) -> Scrape:
        """GET /metrics (uncompressed, so that `size` is the exposition's own)."""
        async with session.get(f"{self.base}/metrics", headers={"Accept-Encoding": "identity"}) as response:
            assert response.status == 200, await response.text()
            return parse_scrape(await response.read())


@asynccontextmanager
async def exporter_process(
    directory: Path, config: Mapping[str, Any], *, ready_timeout: float = 60.0
) -> AsyncIterator[ExporterProcess]:
    """Write `config` to `directory` and run `wedwatch exporter` on it (not recording) until the block ends.

    Every wait is asynchronous: the platform the exporter probes may be served by this same event loop.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "wedwatch.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    log = directory / "exporter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wedwatch", "exporter", "--config.file", str(directory / "wedwatch.yml"),
             "--web.listen-address", f"127.0.0.1:{port}", "--no-record"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    exporter = ExporterProcess(f"http://127.0.0.1:{port}", proc, log)
    try:
        await _wait_ready(exporter, ready_timeout)
        yield exporter
    finally:
        await asyncio.to_thread(stop_process, proc)


async def _wait_ready(exporter: ExporterProcess, timeout: float) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for _ in range(int(timeout / 0.1)):
            if exporter.proc.poll() is not None:
                break
            with suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{exporter.base}/-/ready") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the exporter never became ready:\n{exporter.log.read_text()}")
