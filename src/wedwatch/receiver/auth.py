"""Credentials on the receiver: Bearer token or HTTP Basic, compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac

from wedwatch.config.model import ReceiverAuthConfig

__all__ = ["authorized", "auth_configured", "CHALLENGE"]

CHALLENGE = 'Bearer realm="wedwatch", Basic realm="wedwatch"'


def auth_configured(auth: ReceiverAuthConfig) -> bool:
    """Whether any credential is configured (without one, the receiver is open)."""
    return bool(auth.bearer_token) or auth.basic is not None


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authorized(header: str | None, auth: ReceiverAuthConfig) -> bool:
    """Whether an Authorization header carries a configured credential."""
    if not auth_configured(auth):
        return True
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and auth.bearer_token:
        return _equal(value, auth.bearer_token)
    if scheme == "basic" and auth.basic is not None:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        # Both compared, always, so that timing says nothing about which one was wrong.
        ok_user = _equal(user, auth.basic.username)
        ok_password = _equal(password, auth.basic.password)
        return bool(sep) and ok_user and ok_password
    return False
