"""How the probes authenticate to the platform: OAuth2 client credentials (RFC 6749 section 4.4)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from wedwatch.config._base import Seconds, Strict

__all__ = ["OAuth2Config", "PlatformAuthConfig"]

# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class OAuth2Config(Strict):
    """A client-credentials grant; the secret is normally a ${ENV} reference and is never shown."""

    token_url: str
    client_id: str = Field(min_length=1)
    # SecretStr: repr(), str() and model_dump_json() print "**********"; the loader fills ${ENV}
    # references before validation, so the expanded value is what gets wrapped.
    client_secret: SecretStr
    scopes: list[str] = Field(default_factory=list)
    audience: str | None = None  # sent as the `audience` form parameter (Auth0, Okta) when set
    timeout_seconds: Seconds = 10.0  # one token fetch, both client-authentication tries included

    @field_validator("token_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if "@" in parts.netloc:
            # Checked first so that the message below never echoes them; aiohttp would also send
            # them as a Basic header of its own, clashing with the client authentication.
            raise ValueError("must not carry credentials; set client_id and client_secret instead")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http:// or https:// URL with a host, got {value!r}")
        return value

    @field_validator("client_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty (is its ${ENV} variable set to an empty string?)")
        return value

    @field_validator("scopes")
    @classmethod
    def _check_scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not _SCOPE_TOKEN.fullmatch(scope):
                raise ValueError(f"{scope!r} is not one scope (no spaces, quotes or backslashes; list each one)")
        return value


class PlatformAuthConfig(Strict):
    """`platform.auth`: nothing (headers alone) or an OAuth2 client-credentials grant."""

    oauth2: OAuth2Config | None = None
