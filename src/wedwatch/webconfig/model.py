"""The --web.config.file format (Prometheus exporter-toolkit's), read strictly: every error names file and field.

The keys and defaults are the toolkit's (docs/web-configuration.md there): `tls_server_config`,
`http_server_config` and `basic_auth_users`. What Python's `ssl` module cannot do, or what would
break wedwatch's own contracts, is refused by name rather than silently ignored (docs/security.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from wedwatch.errors import ConfigError

__all__ = [
    "WebConfig",
    "TLSServerConfig",
    "HTTPServerConfig",
    "ALLOWED_HEADERS",
    "BCRYPT_HASH",
    "CLIENT_AUTH_TYPES",
    "TLS_VERSIONS",
    "parse_web_config",
    "read_web_config",
]

# The toolkit's fixed set of extra response headers, each with its allowed values (empty: any value).
ALLOWED_HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
# Go's names. RequestClientCert and RequireAnyClientCert accept a certificate without verifying it,
# which Python's ssl module cannot do (and the toolkit's docs call insecure): refused with a reason.
CLIENT_AUTH_TYPES = ("NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert")
_UNVERIFIED_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert", "RequireClientCert")
# $2a$, $2b$, $2x$ or $2y$, a two-digit cost, 22 characters of salt and 31 of digest (htpasswd -B prints $2y$).
BCRYPT_HASH = re.compile(r"^\$2[abxy]\$(?P<cost>\d\d)\$[./A-Za-z0-9]{53}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSServerConfig(_Section):
    """`tls_server_config`: where the server's certificate comes from and what it asks of clients."""

    cert: str | None = None
    key: str | None = None
    client_ca: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    client_auth_type: str = "NoClientCert"
    client_ca_file: str | None = None
    client_allowed_sans: list[str] | None = None
    min_version: Literal["TLS10", "TLS11", "TLS12", "TLS13"] = "TLS12"
    max_version: Literal["TLS10", "TLS11", "TLS12", "TLS13"] = "TLS13"
    cipher_suites: list[str] = []
    prefer_server_cipher_suites: bool = True
    curve_preferences: list[str] = []

    @field_validator("client_auth_type", mode="before")
    @classmethod
    def _client_auth(cls, value: Any) -> Any:
        if value is None or value == "":
            return "NoClientCert"
        if value in _UNVERIFIED_CLIENT_AUTH:
            raise ValueError(
                f"{value} accepts a client certificate without verifying it, which wedwatch does not support;"
                " use RequireAndVerifyClientCert with client_ca_file"
            )
        if value not in CLIENT_AUTH_TYPES:
            raise ValueError(f"invalid client_auth_type {value!r} (expected one of {', '.join(CLIENT_AUTH_TYPES)})")
        return value

    @property
    def enabled(self) -> bool:
        """Whether any TLS key is set: then the server speaks HTTPS (and the set must be complete)."""
        return (
            any((self.cert, self.key, self.client_ca, self.cert_file, self.key_file, self.client_ca_file))
            or self.client_auth_type != "NoClientCert"
        )

    def files(self) -> tuple[str, ...]:
        """The files this section reads: a change to any of them is a change of configuration."""
        return tuple(f for f in (self.cert_file, self.key_file, self.client_ca_file) if f)


class HTTPServerConfig(_Section):
    """`http_server_config`: extra response headers; `http2` is accepted and has no effect."""

    http2: bool = True
    headers: dict[str, str] = {}

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            return value  # pydantic reports the type
        # Go's YAML reads a scalar such as `X-XSS-Protection: 1` into a string: so does this.
        value = {k: (str(v).lower() if isinstance(v, bool) else str(v)) if isinstance(v, int | float) else v
                 for k, v in value.items()}  # fmt: skip
        for name, text in value.items():
            allowed = ALLOWED_HEADERS.get(name)
            if allowed is None:
                raise ValueError(
                    f"{name}: HTTP header {name!r} can not be configured (allowed: {', '.join(ALLOWED_HEADERS)})"
                )
            if not isinstance(text, str):
                raise ValueError(f"{name}: expected a string, got {type(text).__name__}")
            if _CONTROL.search(text):
                raise ValueError(f"{name}: control characters (such as CR or LF) are not allowed in a header value")
            if allowed and text not in allowed:
                raise ValueError(f"{name}: invalid value {text!r} (expected one of {', '.join(allowed)})")
        return value


class WebConfig(_Section):
    """The whole --web.config.file; an empty file is valid (plain HTTP, no authentication)."""

    tls_server_config: TLSServerConfig = TLSServerConfig()
    http_server_config: HTTPServerConfig = HTTPServerConfig()
    basic_auth_users: dict[str, str] = {}
    rate_limit: Any = None

    @field_validator("tls_server_config", "http_server_config", "basic_auth_users", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("basic_auth_users")
    @classmethod
    def _users(cls, value: dict[str, str]) -> dict[str, str]:
        for user, hashed in value.items():
            if ":" in user:
                raise ValueError(f"{user}: a user name cannot hold ':' (HTTP Basic splits user and password there)")
            match = BCRYPT_HASH.match(hashed)
            # The hash itself is a secret: never echoed.
            if match is None:
                raise ValueError(f"{user}: not a bcrypt hash (make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)")
            if not 4 <= int(match["cost"]) <= 31:
                raise ValueError(f"{user}: bcrypt cost {match['cost']} is outside 04-31")
        return value

    @field_validator("rate_limit")
    @classmethod
    def _no_rate_limit(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(
                "not supported by wedwatch: it would answer 429, which Alertmanager never retries;"
                " limit requests in a reverse proxy"
            )
        return value


def parse_web_config(text: str, *, source: str, base_dir: Path) -> WebConfig:
    """Validate the file's text; the TLS files' relative paths are anchored at `base_dir` (the file's folder)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        raise ConfigError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", source=source, field=where) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"the top level must be a mapping, not {type(raw).__name__}", source=source)
    try:
        config = WebConfig.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, source) from None
    tls = config.tls_server_config

    def anchored(path: str | None) -> str | None:
        return str(base_dir / path) if path else path

    resolved = tls.model_copy(
        update={
            "cert_file": anchored(tls.cert_file),
            "key_file": anchored(tls.key_file),
            "client_ca_file": anchored(tls.client_ca_file),
        }
    )
    return config.model_copy(update={"tls_server_config": resolved})


def read_web_config(path: Path) -> WebConfig:
    """Read and validate the file at `path` (the TLS files are checked when the TLS context is built)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read: {reason}", source=str(path)) from exc
    return parse_web_config(text, source=str(path), base_dir=path.resolve().parent)


def _config_error(exc: ValidationError, source: str) -> ConfigError:
    first = exc.errors(include_url=False)[0]
    parts = [str(p) for p in first["loc"]]
    reason = str(first["msg"]).removeprefix("Value error, ")
    # Dictionary validators name the key at the front of their message: it belongs to the field.
    if first["type"] == "value_error" and parts and parts[-1] in ("headers", "basic_auth_users"):
        key, sep, rest = reason.partition(": ")
        if sep:
            parts.append(key)
            reason = rest
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    elif first["type"] != "value_error" and parts[:1] != ["basic_auth_users"] and parts[-1:] != ["key"]:
        reason += f" (got {first['input']!r:.60})"  # never a password hash or a private key
    return ConfigError(reason, source=source, field=".".join(parts) or None)
