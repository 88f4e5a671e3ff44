"""HTTP Basic against `basic_auth_users`' bcrypt hashes: off the event loop, one at a time, cached when right.

bcrypt costs 50-250 ms by design. As in the exporter-toolkit: a verification that succeeded is
remembered (keyed by user, stored hash and password, so a changed hash or password misses), an
unknown user is checked against a dummy hash of the same cost so that timing does not tell which
users exist, and verifications run one at a time so that a flood of wrong passwords costs one core.
Unlike the toolkit, failures are not cached (a flood of them would evict the good entries) and the
cache keeps keyed digests, never a password.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os

import bcrypt

from wedwatch.webconfig.source import ActiveWebConfig

__all__ = ["BasicAuth", "parse_basic", "CACHE_SIZE"]

CACHE_SIZE = 256
# bcrypt reads only the first 72 bytes of a password (Go's and htpasswd's bcrypt silently too; the
# Python library refuses longer ones): cut here so that the same passwords work as with Go exporters.
_BCRYPT_MAX = 72


def parse_basic(header: str | None) -> tuple[str, bytes] | None:
    """(user, password) of an `Authorization: Basic …` header, or None when it is not one."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    try:
        return user.decode(), password
    except UnicodeDecodeError:
        return None


def _checkpw(password: bytes, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password[:_BCRYPT_MAX], hashed.encode())
    except ValueError:
        return False


class BasicAuth:
    """Checks Basic credentials against the users of the web config in force."""

    def __init__(self, *, cache_size: int = CACHE_SIZE) -> None:
        self._key = os.urandom(32)
        self._cache: dict[bytes, None] = {}
        self._cache_size = cache_size
        self._lock = asyncio.Lock()
        self.verifications = 0  # bcrypt runs, for tests and curious operators

    def _digest(self, user: str, hashed: str, password: bytes) -> bytes:
        h = hashlib.blake2b(key=self._key, digest_size=32)
        for part in (user.encode(), hashed.encode(), password):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
        return h.digest()

    async def check(self, header: str | None, active: ActiveWebConfig) -> str | None:
        """The user name when the header carries a configured user's password, else None."""
        parsed = parse_basic(header)
        if parsed is None:
            return None
        user, password = parsed
        stored = active.users.get(user)
        hashed = stored if stored is not None else active.dummy_hash
        digest = self._digest(user, hashed, password)
        if stored is not None and digest in self._cache:
            return user
        async with self._lock:
            self.verifications += 1
            ok = await asyncio.to_thread(_checkpw, password, hashed)
        if not (ok and stored is not None):
            return None
        if len(self._cache) >= self._cache_size:
            del self._cache[next(iter(self._cache))]  # the oldest
        self._cache[digest] = None
        return user
