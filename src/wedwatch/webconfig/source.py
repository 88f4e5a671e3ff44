"""The web config in force: read at start (errors stop the server), re-read when its files change.

The exporter-toolkit reads the file on every request and every TLS handshake. Here every request
and connection asks `current()`, which compares the `stat` of the file and of the TLS files it names
with what was last read, and re-reads only on a change: the same promptness for a few microseconds.
A file that turns bad after start leaves the previous configuration in force, logged once per change
(the toolkit would answer 500 to every request until it is fixed).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from wedwatch.errors import ConfigError
from wedwatch.webconfig.model import BCRYPT_HASH, WebConfig, read_web_config
from wedwatch.webconfig.tls import ReloadingSSLContext, build_ssl_context

__all__ = ["ActiveWebConfig", "WebConfigSource", "load_active"]

log = logging.getLogger(__name__)
_Signature = tuple[tuple[int, int, int, int] | None, ...]
_DIGEST_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class ActiveWebConfig:
    """One successfully read web config, with what serving needs ready."""

    config: WebConfig
    ssl_context: ssl.SSLContext | None
    # Checked when a user name is unknown, so that the answer takes as long as for a known one.
    dummy_hash: str
    allowed_sans: frozenset[str] | None

    @property
    def users(self) -> dict[str, str]:
        """User name to bcrypt hash; empty: no authentication."""
        return self.config.basic_auth_users

    @property
    def headers(self) -> dict[str, str]:
        """Headers added to every response."""
        return self.config.http_server_config.headers


def load_active(path: Path) -> ActiveWebConfig:
    """Read the file and everything it names; ConfigError names the file and the field."""
    config = read_web_config(path)
    tls = config.tls_server_config
    context = build_ssl_context(tls, source=str(path)) if tls.enabled else None
    costs = [int(m["cost"]) for h in config.basic_auth_users.values() if (m := BCRYPT_HASH.match(h))]
    # Of the highest cost in use: an unknown user never answers faster than the slowest known one.
    # A salt and a random digest are a hash no password matches, made without hashing anything.
    salt = bcrypt.gensalt(rounds=max(costs, default=10)).decode()
    dummy = salt + "".join(secrets.choice(_DIGEST_ALPHABET) for _ in range(31))
    sans = frozenset(_normal_san(s) for s in tls.client_allowed_sans) if tls.client_allowed_sans is not None else None
    return ActiveWebConfig(config=config, ssl_context=context, dummy_hash=dummy, allowed_sans=sans)


def _normal_san(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


class WebConfigSource:
    """The --web.config.file of one server: `current()` is the configuration in force right now."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._signature = self._stat(())
        self._active = load_active(self.path)  # a bad file at start is the caller's ConfigError
        self._signature = self._stat(self._active.config.tls_server_config.files())
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()

    @property
    def tls_enabled(self) -> bool:
        """Whether the server speaks HTTPS (fixed at start, as in the toolkit)."""
        return self._active.ssl_context is not None

    def listening_context(self) -> ssl.SSLContext | None:
        """The context to listen with: each connection takes the context in force when it arrives."""
        if not self.tls_enabled:
            return None

        def current() -> ssl.SSLContext:
            context = self.current().ssl_context
            assert context is not None  # a reload never turns TLS off
            return context

        return ReloadingSSLContext.wrapping(current)

    def current(self) -> ActiveWebConfig:
        """The configuration in force, re-read first when the file or one of its TLS files changed."""
        files = self._active.config.tls_server_config.files()
        signature = self._stat(files)
        if signature != self._signature:
            self._signature = signature
            self._reload(signature[0])
        return self._active

    def _reload(self, read: tuple[int, int, int, int] | None) -> None:
        try:
            fresh = load_active(self.path)
            if (fresh.ssl_context is None) != (self._active.ssl_context is None):
                was = "on" if self._active.ssl_context is not None else "off"
                raise ConfigError(f"TLS was {was} at start: turning it {'off' if was == 'on' else 'on'} needs a restart",
                                  source=str(self.path), field="tls_server_config")  # fmt: skip
        except ConfigError as exc:
            self.last_reload_successful = False
            log.error("web config not reloaded, the previous one stays in force: %s", exc)
            return
        # The files the new config names are watched from now on. Had the file changed again while it
        # was read, its signature would no longer be `read`: then the next call reads it once more.
        signature = self._stat(fresh.config.tls_server_config.files())
        self._signature = signature if signature[0] == read else ()
        self._active = fresh
        self.last_reload_successful = True
        self.last_reload_success_timestamp = time.time()
        log.info("web config %s reloaded", self.path)

    def _stat(self, files: tuple[str, ...]) -> _Signature:
        out: list[tuple[int, int, int, int] | None] = []
        for name in (str(self.path), *files):
            try:
                st = os.stat(name)
            except OSError:
                out.append(None)
            else:
                out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        return tuple(out)
