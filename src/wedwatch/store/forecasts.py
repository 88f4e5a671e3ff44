"""Forecasts as stored: prediction sets (points, accuracy metrics, scaling recommendations) per series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from wedwatch.errors import StoreError
from wedwatch.store.transaction import Row, Transaction, TransactionalStore, utc_now

__all__ = ["ForecastMethods"]


class ForecastMethods(TransactionalStore):
    """Store methods on `scaling_prediction_sets`."""

    async def save_prediction_set(
        self,
        *,
        series: str,
        horizon_start: datetime,
        horizon_end: datetime,
        model: str,
        points: Sequence[Mapping[str, Any]],
        metrics: Mapping[str, Any] | None = None,
        recommendations: Sequence[Mapping[str, Any]] | None = None,
        created_at: datetime | None = None,
        tx: Transaction | None = None,
    ) -> int:
        """Store one forecast (its points, accuracy metrics and scaling recommendations); its id."""
        values = {
            "series": series,
            "created_at": utc_now(created_at),
            "horizon_start": utc_now(horizon_start),
            "horizon_end": utc_now(horizon_end),
            "model": model,
            "metrics": dict(metrics or {}),
            "points": [dict(p) for p in points],
            "recommendations": [dict(r) for r in recommendations or []],
        }
        async with self._joined(tx) as t:
            row = await t.fetchone("insert_prediction_set", values)
        if row is None:  # cannot happen: an INSERT without ON CONFLICT returns its row or raises
            raise StoreError("inserting a prediction set returned no id")
        return int(row["id"])

    async def latest_prediction_sets(self, *, tx: Transaction | None = None) -> list[Row]:
        """The newest prediction set of each series, by series name."""
        async with self._joined(tx, readonly=True) as t:
            return await t.fetchall("latest_prediction_sets")
