"""Knobs of the platform stand-in: its dialect, simulated latencies, propagation delays and memory caps."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = ["DEFAULT_API_KEY", "DIALECTS", "Dialect", "PlatformSettings"]

_Delay = Annotated[float, Field(ge=0, le=3600)]
_Count = Annotated[int, Field(gt=0)]

# The APIs the stand-in can speak: its own (`/api/...`) or Supabase's (`/rest/v1`, `/storage/v1`,
# `/realtime/v1`; see wedwatch.platform.supabase). Both serve the same weddings and the same state.
Dialect = Literal["wedwatch", "supabase"]
DIALECTS: tuple[Dialect, ...] = ("wedwatch", "supabase")
# The supabase dialect's key when none is configured: fine on a laptop, documented, never a secret.
DEFAULT_API_KEY = "wedwatch-local-anon-key"


class PlatformSettings(BaseModel):
    """How the stand-in behaves; the defaults look like a healthy platform and keep tests fast."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dialect: Dialect = "wedwatch"
    # The supabase dialect requires it as `apikey` (and as `Authorization: Bearer`) on every request.
    api_key: SecretStr = SecretStr(DEFAULT_API_KEY)

    # Seeds the fault dice and the fake guest lists, so a run can be replayed exactly.
    seed: int = 0
    # When set, /admin/* requires `Authorization: Bearer <token>`.
    admin_token: SecretStr | None = None
    # aiohttp's client_max_size: the largest body read whole (JSON); photos stream past it.
    max_request_bytes: _Count = 1024 * 1024

    # A real guest list is a query plus serialisation per row: latency = base + per_guest * guests.
    guest_list_base_seconds: _Delay = 0.005
    guest_list_per_guest_seconds: _Delay = 0.00005

    photo_max_bytes: _Count = 10 * 1024 * 1024
    # Photos are held in memory, so each wedding gets a bounded share.
    photo_wedding_max_bytes: _Count = 64 * 1024 * 1024

    # Eventual consistency: a marker becomes readable this long after it was written.
    timeline_propagation_seconds: _Delay = 0.02
    timeline_max_markers: _Count = 500

    # A notification is `queued`, then `sent`, then `delivered` after these delays.
    notification_sent_seconds: _Delay = 0.01
    notification_delivery_seconds: _Delay = 0.03
    notification_max_per_wedding: _Count = 1000

    max_faults: _Count = 256

    # The cache (`--cache.url redis://HOST:PORT/DB`): guest lists and mobile summaries kept in Redis.
    # Unset, every read pays the simulated database cost, as before the cache existed.
    cache_url: SecretStr | None = None
    cache_ttl_seconds: Annotated[float, Field(gt=0, le=30 * 86400)] = 300.0
    # Each Redis command's bound (connect and read): a Redis that stops answering costs a read this much.
    cache_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    # After a failed command the cache is bypassed this long before Redis is tried again (reconnect),
    # so that a dead Redis costs one failed command per interval instead of one per request.
    cache_retry_seconds: Annotated[float, Field(ge=0, le=3600)] = 1.0

    @model_validator(mode="after")
    def _delivered_after_sent(self) -> PlatformSettings:
        if self.notification_delivery_seconds < self.notification_sent_seconds:
            raise ValueError("notification_delivery_seconds must not be shorter than notification_sent_seconds")
        return self
