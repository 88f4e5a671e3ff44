"""--web.config.file: TLS, basic auth and response headers in Prometheus' exporter-toolkit format."""

from __future__ import annotations

from wedwatch.webconfig.basic_auth import BasicAuth, parse_basic
from wedwatch.webconfig.middleware import CHALLENGE, WEB_USER, install
from wedwatch.webconfig.model import WebConfig, parse_web_config, read_web_config
from wedwatch.webconfig.source import ActiveWebConfig, WebConfigSource, load_active
from wedwatch.webconfig.tls import ReloadingSSLContext, build_ssl_context

__all__ = [
    "ActiveWebConfig",
    "BasicAuth",
    "CHALLENGE",
    "ReloadingSSLContext",
    "WEB_USER",
    "WebConfig",
    "WebConfigSource",
    "build_ssl_context",
    "install",
    "load_active",
    "parse_basic",
    "parse_web_config",
    "read_web_config",
]
