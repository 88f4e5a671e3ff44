"""A real redis-server on a free loopback port for the cache tests: bounded start and stop, always stopped."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from ports import free_port

__all__ = ["RedisServer", "redis_server"]

_START_SECONDS = 10.0
_STOP_SECONDS = 10.0


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process (no persistence), which a test may stop and start again on the same port."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait (bounded) until it answers PING."""
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"redis-server exited with {self._process.returncode} on port {self.port}")
            if _pong(self.port):
                return
            time.sleep(0.02)
        self.stop()
        pytest.fail(f"redis-server did not answer PING within {_START_SECONDS:g}s")

    def pause(self) -> None:
        """SIGSTOP: Redis keeps its connections open but answers nothing (a hung dependency)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL if it lingers) and wait until the port refuses connections."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
        process.terminate()
        try:
            process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_SECONDS)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A started redis-server, stopped on the way out whatever happens; fails when none is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not on PATH: apt-get install -y redis-server (scripts/run-tests does)")
    server = RedisServer(binary, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
