"""Loopback ports for the tests' servers and processes (imported by name: tests/ is on sys.path).

Every test that starts something on a port of its own takes it from here: one definition instead of
one per file.
"""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
