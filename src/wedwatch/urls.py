"""URLs as they may be shown: in logs, messages and `wedwatch check`, never with a password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["redact_url"]


def redact_url(url: str) -> str:
    """The URL with any password replaced by `xxxxx`, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":xxxxx"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))
