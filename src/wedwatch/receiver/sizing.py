"""Capacity for a response: pure sizing within the configured bounds (the seed's 20-100 DB
connections, 256 MB-1 GB cache, 2-10 instances).

A resource alert's response names what it sizes (`Decision.capacity`: a database alert only
`db_connections`) and asks for its upper bound: the alert is the evidence that more is needed, and
sizing by guests could ask for less than runs now (a database saturated while no wedding is live
would be sized at the lower bound, 20 connections: a scale down). Everything else, emergencies
included, sizes all three: the upper bounds in an emergency, else by the live weddings' guests.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from wedwatch.config.actions import CapacityBounds, CapacityConfig

__all__ = ["Capacity", "size_capacity", "GUESTS_PER_DB_CONNECTION", "CACHE_MB_PER_GUEST", "GUESTS_PER_INSTANCE"]

# A live wedding's load grows with its guests: each guest's phone polls the timeline and
# uploads photos. These ratios size the defaults; the bounds cap them.
GUESTS_PER_DB_CONNECTION = 4.0
CACHE_MB_PER_GUEST = 2.5
GUESTS_PER_INSTANCE = 60.0


@dataclass(frozen=True, slots=True)
class Capacity:
    """One resource's target and whether a bound cut it."""

    resource: str
    value: float
    capped: bool


def _clamp(wanted: float, bounds: CapacityBounds) -> tuple[float, bool]:
    value = min(max(wanted, bounds.min), bounds.max)
    return value, wanted > bounds.max


def size_capacity(
    guests: int, strategy: str, bounds: CapacityConfig, resources: Collection[str] = ()
) -> list[Capacity]:
    """Targets for a response: the upper bounds in an emergency or for a resource under pressure
    (`resources` named), else sized by guests; only `resources` (empty: all)."""
    if strategy == "emergency" or resources:
        targets = [
            Capacity("db_connections", bounds.db_connections.max, False),
            Capacity("cache_mb", bounds.cache_mb.max, False),
            Capacity("instances", bounds.instances.max, False),
        ]
    else:
        wanted = {
            "db_connections": bounds.db_connections.min + math.ceil(guests / GUESTS_PER_DB_CONNECTION),
            "cache_mb": bounds.cache_mb.min + math.ceil(guests * CACHE_MB_PER_GUEST),
            "instances": bounds.instances.min + math.ceil(guests / GUESTS_PER_INSTANCE),
        }
        targets = []
        for resource, value in wanted.items():
            clamped, capped = _clamp(float(value), getattr(bounds, resource))
            targets.append(Capacity(resource, clamped, capped))
    return [c for c in targets if not resources or c.resource in resources]
