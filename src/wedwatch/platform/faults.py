"""Fault injection: what an operator asked to go wrong, and making it go wrong in the handlers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from wedwatch.calendar import Wedding
from wedwatch.config.model import OPERATIONS
from wedwatch.platform.http import ApiError
from wedwatch.platform.state import iso, wedding_of

__all__ = ["FaultSpec", "Fault", "FaultTable", "FAULTS", "WeddingHandler", "operation"]

# How often a hung request checks whether its client has gone: aiohttp does not cancel handlers
# when the client disconnects (handler_cancellation is off by default), so the hang must notice.
_HANG_POLL_SECONDS = 0.05


class FaultSpec(BaseModel):
    """The body of `POST /admin/faults`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operation: str
    wedding_id: str | None = Field(default=None, min_length=1)
    latency_seconds: float = Field(default=0.0, ge=0, le=600)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    status: int = Field(default=500, ge=400, le=599)
    hang: bool = False
    # Only for critical_path: what the live status reports while the fault is active.
    milestone_delay_seconds: float = Field(default=0.0, ge=0, le=86400)
    open_incidents: int = Field(default=0, ge=0, le=1000)
    # Only for mobile: the offline bundle's manifest is `missing` (404) or `stale` (three days old).
    offline: Literal["missing", "stale"] | None = None

    @field_validator("operation")
    @classmethod
    def _known_operation(cls, value: str) -> str:
        if value not in OPERATIONS:
            raise ValueError(f"must be one of {', '.join(OPERATIONS)}, got {value!r}")
        return value

    @field_validator("milestone_delay_seconds", "open_incidents")
    @classmethod
    def _critical_path_only(cls, value: float, info: ValidationInfo) -> float:
        # Fields validate in declaration order, so `operation` is known here when it was valid.
        if value and info.data.get("operation") not in (None, "critical_path"):
            raise ValueError("applies to operation critical_path only")
        return value

    @field_validator("offline")
    @classmethod
    def _mobile_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("operation") not in (None, "mobile"):
            raise ValueError("applies to operation mobile only")
        return value


@dataclass(frozen=True, slots=True)
class Fault:
    """An active fault: its spec, its id and when it was injected."""

    id: str
    spec: FaultSpec
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the admin API answers with."""
        return {"id": self.id, **self.spec.model_dump(), "created_at": iso(self.created_at)}


class FaultTable:
    """The active faults, the seeded dice that decide injected errors, and the hung requests."""

    def __init__(self, *, seed: int) -> None:
        self._faults: dict[str, Fault] = {}
        self._random = random.Random(seed)
        self._next_id = 1
        self._released = asyncio.Event()
        self._hanging = 0

    def __len__(self) -> int:
        return len(self._faults)

    @property
    def hanging(self) -> int:
        """Requests currently held open by a `hang` fault."""
        return self._hanging

    def add(self, spec: FaultSpec, now: datetime) -> Fault:
        """Activate a fault."""
        fault = Fault(id=f"fault-{self._next_id}", spec=spec, created_at=now)
        self._next_id += 1
        self._faults[fault.id] = fault
        return fault

    def all(self) -> list[Fault]:
        """Every active fault, oldest first."""
        return list(self._faults.values())

    def remove(self, fault_id: str) -> bool:
        """Deactivate one fault; False when there was none with that id."""
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> int:
        """Deactivate every fault and say how many there were."""
        count = len(self._faults)
        self._faults.clear()
        return count

    def matching(self, operation: str, wedding_id: str) -> list[Fault]:
        """The faults that apply to `operation` on this wedding (a fault without a wedding applies to all)."""
        return [
            f
            for f in self._faults.values()
            if f.spec.operation == operation and f.spec.wedding_id in (None, wedding_id)
        ]

    def release_hangs(self) -> None:
        """End every hang (at shutdown), so that no handler outlives the app."""
        self._released.set()

    async def inject(self, request: web.Request, operation: str, wedding_id: str) -> None:
        """Hang, sleep or raise as the matching faults say; return when the request may proceed."""
        if await self._hang(request, operation, wedding_id):
            raise ApiError(503, "hung request abandoned: client gone or platform shutting down")
        faults = self.matching(operation, wedding_id)
        latency = sum(f.spec.latency_seconds for f in faults)
        if latency > 0:
            await asyncio.sleep(latency)
        for fault in faults:
            if fault.spec.error_rate > 0 and self._random.random() < fault.spec.error_rate:
                raise ApiError(fault.spec.status, f"injected fault {fault.id}")

    async def _hang(self, request: web.Request, operation: str, wedding_id: str) -> bool:
        """Hold the request while a hang fault matches; True when it must not go on."""
        if not any(f.spec.hang for f in self.matching(operation, wedding_id)):
            return False
        self._hanging += 1
        try:
            while True:
                transport = request.transport
                if self._released.is_set() or transport is None or transport.is_closing():
                    return True
                # Clearing the fault lets held requests through, as a recovered backend would.
                if not any(f.spec.hang for f in self.matching(operation, wedding_id)):
                    return False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_HANG_POLL_SECONDS):
                        await self._released.wait()
        finally:
            self._hanging -= 1


FAULTS = web.AppKey("faults", FaultTable)

WeddingHandler = Callable[[web.Request, Wedding], Awaitable[web.StreamResponse]]


def operation(name: str) -> Callable[[WeddingHandler], Handler]:
    """Decorate a per-wedding handler: 404 for an unknown wedding, then the faults of `name`."""
    if name not in OPERATIONS:
        raise ValueError(f"unknown operation {name!r}")

    def decorate(handler: WeddingHandler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            wedding = wedding_of(request)
            await request.config_dict[FAULTS].inject(request, name, wedding.id)
            return await handler(request, wedding)

        return wrapped

    return decorate
