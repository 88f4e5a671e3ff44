"""Helpers for receiver tests: a clock, an action target that records requests, payload builders."""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from wedwatch.config import LoadedConfig
from wedwatch.receiver.service import Receiver

FIXTURES = Path(__file__).parent / "fixtures"
# The captured payloads fire at 21:44:18Z on 2026-11-28, for wedding w-123.
NOW = datetime(2026, 11, 28, 21, 45, tzinfo=UTC)
TOKEN = "s3cret-receiver-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def fixture(name: str) -> dict[str, Any]:
    """A payload captured from a real Alertmanager 0.25."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class Clock:
    """A clock the tests move by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Target:
    """An HTTP endpoint actions call; it records every request it gets."""

    url: str = ""
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200

    def hits(self, path: str) -> list[dict[str, Any]]:
        """Bodies received on one path."""
        return [body for p, body in self.requests if p == path]

    def app(self) -> web.Application:
        async def record(request: web.Request) -> web.Response:
            text = await request.text()
            self.requests.append((request.path, json.loads(text) if text else {}))
            return web.json_response({"ok": True}, status=self.status)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        return app


def alert(
    fingerprint: str,
    *,
    status: str = "firing",
    labels: dict[str, str] | None = None,
    starts: datetime = NOW - timedelta(minutes=1),
    ends: datetime | None = None,
) -> dict[str, Any]:
    """One alert as Alertmanager sends it."""
    base = copy.deepcopy(fixture("firing")["alerts"][0])
    base.update(
        status=status,
        fingerprint=fingerprint,
        startsAt=starts.isoformat().replace("+00:00", "Z"),
        endsAt=(ends.isoformat().replace("+00:00", "Z") if ends else "0001-01-01T00:00:00Z"),
    )
    if labels is not None:
        base["labels"] = labels
    return base


def notification(*alerts: dict[str, Any], group: str = "g") -> dict[str, Any]:
    """A version-4 notification around `alerts`."""
    body = copy.deepcopy(fixture("firing"))
    body["alerts"] = list(alerts)
    body["groupKey"] = group
    body["status"] = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return body


MakeConfig = Callable[..., LoadedConfig]
MakeReceiver = Callable[..., Awaitable[tuple[TestClient, Receiver]]]  # type: ignore[type-arg]
