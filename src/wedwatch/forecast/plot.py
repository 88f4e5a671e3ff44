"""Forecasts as PNGs: history, forecast, bands and ceremony windows; and the cost backtest's capacities."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import CEREMONY_LEAD, CEREMONY_TAIL
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.series import HOUR, HourlySeries

if TYPE_CHECKING:
    from wedwatch.config.actions import CapacityConfig
    from wedwatch.forecast.cost import OriginReplay, Policy

__all__ = ["plot_capacity", "plot_forecast"]

_POLICY_STYLE: dict[Policy, str] = {"forecast": "#08519c", "static_peak": "#737373", "reactive": "#e6550d"}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _num(at: datetime) -> float:
    # Matplotlib's date numbers: days since its default epoch, 1970-01-01 UTC.
    return (at - _EPOCH) / timedelta(days=1)


def plot_forecast(
    history: HourlySeries,
    forecast: Forecast,
    weddings: Sequence[Wedding],
    path: str | Path,
    *,
    title: str,
    history_hours: int = 21 * 24,
) -> Path:
    """Draw the last `history_hours` of history and the forecast into `path` (PNG)."""
    import matplotlib

    # Agg: no display, no GUI toolkit, safe in a server or a worker.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = history.tail(history_hours)
    fig, ax = plt.subplots(figsize=(14, 5), dpi=100)
    try:
        times = [_num(t) for t in shown.timestamps()]
        ax.plot(times, [v if v is not None else float("nan") for v in shown.values], color="#333333", lw=0.8,
                label="history")  # fmt: skip
        future = [_num(forecast.at(i)) for i in range(len(forecast))]
        ax.fill_between(future, forecast.lower_95, forecast.upper_95, color="#9ecae1", alpha=0.5, lw=0, label="95 %")
        ax.fill_between(future, forecast.lower_80, forecast.upper_80, color="#4292c6", alpha=0.5, lw=0, label="80 %")
        ax.plot(future, forecast.yhat, color="#08306b", lw=1.2, label=f"forecast ({forecast.model})")
        first = shown.start if len(shown) else forecast.start
        last = forecast.start + timedelta(hours=len(forecast))
        labelled = False
        for w in weddings:
            lo, hi = w.ceremony_utc - CEREMONY_LEAD, w.ceremony_utc + CEREMONY_TAIL
            if hi < first or lo > last:
                continue
            ax.axvspan(_num(lo), _num(hi), color="#fdae6b", alpha=0.25, lw=0, label=None if labelled else "ceremony windows")
            labelled = True
        ax.axvline(_num(forecast.start), color="#999999", lw=0.8, ls="--")
        ax.xaxis_date("UTC")
        ax.set_title(title)
        ax.set_ylabel("value per hour")
        ax.legend(loc="upper left", ncols=5, fontsize="small")
        fig.autofmt_xdate()
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out


def plot_capacity(replay: OriginReplay, path: str | Path, *, title: str, bounds: CapacityConfig | None = None) -> Path:
    """Draw each policy's capacity against the actual need over one origin, one panel per resource (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    resources = list(replay.need)
    fig, axes = plt.subplots(len(resources), 1, figsize=(14, 3.2 * len(resources)), dpi=100, sharex=True,
                             squeeze=False)  # fmt: skip
    try:
        # One more edge than hours, so that the last hour's step is drawn to its end.
        edges = [_num(replay.cutoff + h * HOUR) for h in range(replay.hours + 1)]
        mids = [(a + b) / 2 for a, b in pairwise(edges)]
        for ax, resource in zip(axes[:, 0], resources, strict=True):
            spans = [h for h, live in enumerate(replay.in_ceremony) if live]
            for n, h in enumerate(spans):
                ax.axvspan(edges[h], edges[h + 1], color="#fdae6b", alpha=0.25, lw=0,
                           label=None if n else "ceremony windows")  # fmt: skip
            for policy, color in _POLICY_STYLE.items():
                caps = replay.capacity[policy][resource]
                ax.stairs(caps, edges, baseline=None, color=color, lw=1.6, label=policy)
            need = [v if v is not None else float("nan") for v in replay.need[resource]]
            ax.plot(mids, need, color="#000000", lw=0, marker="o", ms=3, label="actual need")
            top = math.inf
            if bounds is not None:
                top = getattr(bounds, resource).max
                ax.axhline(top, color="#cb181d", lw=0.8, ls="--", label="upper bound")
            # The hours the replay counts against the forecast: short, and below the upper bound.
            planned = replay.capacity["forecast"][resource]
            misses = [(m, n) for m, n, c in zip(mids, need, planned, strict=True) if c < n and c < top]
            if misses:
                ax.plot(*zip(*misses, strict=True), color="#cb181d", lw=0, marker="x", ms=8, label="forecast short")
            caps_max = [max(c[resource]) for c in replay.capacity.values()]
            highest = max([*caps_max, *(v for v in (top, *need) if math.isfinite(v))])
            # Room above the highest line for the legend.
            ax.set_ylim(0, highest * 1.3 or 1)
            ax.set_ylabel(resource)
            ax.legend(loc="upper left", ncols=6, fontsize="small")
        axes[0, 0].set_title(title)
        axes[-1, 0].xaxis_date("UTC")
        fig.autofmt_xdate()
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out
