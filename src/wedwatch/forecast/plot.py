"""The forecast as a PNG: history, forecast, its 80 % and 95 % bands, and the ceremony windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wedwatch.calendar.model import Wedding
from wedwatch.calendar.phases import CEREMONY_LEAD, CEREMONY_TAIL
from wedwatch.forecast.prediction import Forecast
from wedwatch.forecast.series import HourlySeries

__all__ = ["plot_forecast"]

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
