"""Alertmanager's webhook payload (version 4): lenient models and the notification's dedup key.

Lenient with what others send: unknown fields are ignored (newer Alertmanagers add
`notification_reason`, `routeLabels`), but what we rely on is checked.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["Alert", "Notification", "PayloadError", "parse_notification", "ZERO_TIME"]

# Alertmanager sends endsAt "0001-01-01T00:00:00Z" for an alert with no known end.
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


class PayloadError(ValueError):
    """The body is not a notification we accept; the message says why (answered with 400)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Alert(_Lenient):
    """One alert of a notification."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime  # noqa: N815 - Alertmanager's field names
    endsAt: datetime = ZERO_TIME  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str = Field(min_length=1, max_length=64)

    @field_validator("startsAt", "endsAt")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def ends_at(self) -> datetime | None:
        """The end, None while unknown (Alertmanager's zero time)."""
        return None if self.endsAt <= ZERO_TIME else self.endsAt

    @property
    def alertname(self) -> str:
        """The alert's name label."""
        return self.labels.get("alertname", "")


class Notification(_Lenient):
    """One webhook delivery."""

    version: Literal["4"]
    groupKey: str  # noqa: N815
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[Alert]
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    externalURL: str = ""  # noqa: N815
    truncatedAlerts: int = 0  # noqa: N815

    def dedup_key(self) -> str:
        """Same for byte-different deliveries of the same news: retries, and HA Alertmanager pairs."""
        identity = sorted((a.fingerprint, a.status, a.startsAt.isoformat(), a.endsAt.isoformat()) for a in self.alerts)
        blob = json.dumps([self.groupKey, identity], separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def parse_notification(body: bytes) -> tuple[Notification, dict[str, object]]:
    """Parse a webhook body; PayloadError names what is wrong. Returns the model and the raw JSON."""
    try:
        # Strict UTF-8 (Alertmanager's encoding): json.loads would also take UTF-16 and -32, and
        # surrogates encoded in UTF-8, which the escape check below could not see.
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not valid UTF-8: {exc}") from None
    try:
        # msgspec is strict JSON and about three times faster; what it refuses (or cannot hold:
        # 1e400, deep nesting, a lone surrogate) is read again by json, whose answer and
        # messages are the reference.
        raw = _DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        try:
            raw = json.loads(text, parse_constant=_not_json)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise PayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise PayloadError(f"body must be a JSON object, not {type(raw).__name__}")
    version = raw.get("version")
    if version != "4":
        raise PayloadError(f'unsupported webhook version {version!r}: wedwatch accepts version "4"')
    # The body is stored as received, so it must be storable as it is: PostgreSQL's text and
    # JSONB cannot hold NUL or a lone UTF-16 surrogate, and SQLite compares NUL unreliably.
    # Both can only arrive as \u escapes, so only a body holding such an escape is walked.
    if _SUSPECT_ESCAPE.search(text):
        problem = _unstorable_string(raw)
        if problem is not None:
            raise PayloadError(problem)
    try:
        return Notification.model_validate(raw), raw
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise PayloadError(f"{where}: {first['msg']}") from None


# \u0000, or the first half of an escaped surrogate (\ud800-\udfff); JSON's escapes are
# case-insensitive in their hex digits. An escaped backslash before `u0000` matches too: the
# walk then finds nothing, which is right.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _not_json(constant: str) -> object:
    # Python's json accepts NaN and Infinity; JSON (and JSONB) do not.
    raise PayloadError(f"body is not valid JSON: {constant} is not a JSON value")


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "contains an unpaired UTF-16 surrogate"
    return None


def _unstorable_string(document: object) -> str | None:
    """`path: problem` for the first string (or key) holding NUL or a lone surrogate, walked without recursion."""
    stack: list[tuple[str, object]] = [("body", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            problem = _unstorable(node)
            if problem is not None:
                return f"{path}: {problem}"
        elif isinstance(node, dict):
            for key, value in node.items():
                problem = _unstorable(key)
                if problem is not None:
                    return f"{path}.{key!r}: {problem}"
                stack.append((f"{path}.{key}", value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(node))
    return None
