"""`store.retention`: how long each kind of data is kept, and how the receiver prunes (docs/store.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from wedwatch.config._base import Seconds, Strict

__all__ = ["RetentionConfig"]

# At least a day: Alertmanager re-sends and retries a notification within hours, and once its
# notification or incident is gone a late copy would be taken for a new one. null keeps forever.
Days = Annotated[float, Field(ge=1)] | None


class RetentionConfig(Strict):
    """Days each kind of data is kept (null: forever) and the receiver's pruning schedule.

    The `<kind>_days` names are the store's kinds (wedwatch.store.retention.KINDS; a test checks
    that both lists agree). What is never pruned, however old, is listed in docs/store.md.
    """

    # The receiver prunes on its own every interval_seconds (one replica at a time). false: only
    # `wedwatch store prune` does, for instance from cron.
    enabled: bool = True
    interval_seconds: Seconds = 600.0
    # Rows per batch at most (one short transaction each; fewer while batches take longer than
    # ~5 ms on SQLite, whose write lock every ack waits for, 50 ms on PostgreSQL: store/pruning.py).
    # Between batches the pass pauses pause_seconds, and at least as long as the batch took.
    batch_size: Annotated[int, Field(ge=100, le=10_000)] = 2000
    pause_seconds: Annotated[float, Field(ge=0, le=10)] = 0.1

    notifications_days: Days = 30
    probe_aggregates_untracked_days: Days = 14
    probe_aggregates_tracked_days: Days = 90
    critical_path_days: Days = 90
    prediction_sets_days: Days = 30
    optimization_results_days: Days = 400
    plan_actions_days: Days = 400
    emergency_periods_days: Days = 400
    incidents_days: Days = 400

    @field_validator("*", mode="before")
    @classmethod
    def _at_least_a_day(cls, value: object, info: ValidationInfo) -> object:
        # 0 could read as "keep nothing" or as "keep forever": say which spelling means what.
        name = info.field_name or ""
        if name.endswith("_days") and isinstance(value, int | float) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"must be at least 1 (day), got {value}; null keeps this data forever")
        return value

    def windows(self) -> dict[str, timedelta | None]:
        """Each kind's window, by the store's kind names (None: kept forever)."""
        return {
            name.removesuffix("_days"): None if (days := getattr(self, name)) is None else timedelta(days=days)
            for name in type(self).model_fields
            if name.endswith("_days")
        }
