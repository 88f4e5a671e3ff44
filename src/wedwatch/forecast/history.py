"""Where history comes from: a CSV file `timestamp,value`, or a Prometheus-compatible `query_range`.

CSV: one header line `timestamp,value` (optional), then one sample per line; timestamps are
ISO 8601 (no offset means UTC) or Unix seconds. A bad line is reported with its number and the
good lines are kept; a file without one good line is an error.

Prometheus (and Thanos, Mimir, VictoriaMetrics): `GET /api/v1/query_range` at a one-hour step.
Prometheus refuses more than 11,000 points per series in one query, so a long range is asked
for in pages of at most `page_points` steps, each page starting one step after the previous
one ended (no point is fetched twice). The query must yield one series (wrap it in `sum(...)`);
values that are NaN or infinite count as gaps. Counter resets are PromQL's business in queries
such as `sum(increase(photo_uploads_total[1h]))`; a raw counter can also be read with kind
`counter` (see `series`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from wedwatch.errors import WedwatchError
from wedwatch.forecast.series import HOUR, HourlySeries, SeriesKind, floor_hour, from_samples
from wedwatch.httpio import read_capped

__all__ = [
    "MAX_POINTS_PER_SERIES",
    "CsvLoad",
    "HistoryError",
    "LineError",
    "parse_csv",
    "query_range",
    "read_csv",
    "write_csv",
]

# Prometheus' limit on points per series in one range query.
MAX_POINTS_PER_SERIES = 11_000
_MAX_BODY_BYTES = 64 * 1024 * 1024


class HistoryError(WedwatchError, ValueError):
    """History could not be read at all."""


@dataclass(frozen=True, slots=True)
class LineError:
    """A CSV line that was skipped, and why."""

    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}: {self.text!r}"


@dataclass(frozen=True)
class CsvLoad:
    """The series a CSV file held and the lines it had to skip."""

    source: str
    series: HourlySeries
    errors: list[LineError] = field(default_factory=list)


def _parse_time(text: str) -> datetime:
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_csv(text: str, *, source: str = "<csv>", kind: SeriesKind = "gauge") -> CsvLoad:
    """Parse `timestamp,value` lines; bad lines are reported, good ones kept."""
    samples: list[tuple[datetime, float]] = []
    errors: list[LineError] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        raw = ",".join(row)
        if not row or not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() in ("timestamp", "ts", "time", "ds"):
            continue
        if len(row) != 2:
            errors.append(LineError(number, raw, f"expected 2 fields (timestamp,value), got {len(row)}"))
            continue
        try:
            at = _parse_time(row[0])
        except (ValueError, OverflowError, OSError):
            errors.append(LineError(number, raw, "timestamp is neither ISO 8601 nor Unix seconds"))
            continue
        try:
            value = float(row[1])
        except ValueError:
            errors.append(LineError(number, raw, "value is not a number"))
            continue
        if not math.isfinite(value):
            errors.append(LineError(number, raw, "value is not finite"))
            continue
        samples.append((at, value))
    if not samples:
        detail = f"; first problem: {errors[0]}" if errors else ""
        raise HistoryError(f"{source}: no usable `timestamp,value` line{detail}")
    return CsvLoad(source, from_samples(samples, kind), errors)


def read_csv(path: str | Path, *, kind: SeriesKind = "gauge") -> CsvLoad:
    """Read a CSV history file."""
    file = Path(path)
    try:
        # utf-8-sig: spreadsheets write a byte-order mark that would hide the header.
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{file}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    return parse_csv(text, source=str(file), kind=kind)


def write_csv(series: HourlySeries, path: str | Path) -> None:
    """Write a series as `timestamp,value` lines (gaps are left out)."""
    lines = ["timestamp,value"]
    lines += [
        f"{series.at(i).isoformat().replace('+00:00', 'Z')},{v:.6g}"
        for i, v in enumerate(series.values)
        if v is not None
    ]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


async def query_range(
    session: aiohttp.ClientSession,
    base_url: str,
    query: str,
    start: datetime,
    end: datetime,
    *,
    step_seconds: int = 3600,
    page_points: int = MAX_POINTS_PER_SERIES,
    headers: Mapping[str, str] | None = None,
    timeout_seconds: float = 60.0,
    kind: SeriesKind = "gauge",
) -> HourlySeries:
    """Fetch `query` over [start, end] at an hourly step, in pages of at most `page_points` points."""
    if step_seconds != int(HOUR.total_seconds()):
        raise ValueError("forecasts use a one-hour step")
    if page_points < 1:
        raise ValueError("page_points must be at least 1")
    step = timedelta(seconds=step_seconds)
    url = base_url.rstrip("/") + "/api/v1/query_range"
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    samples: list[tuple[datetime, float]] = []
    page_start = floor_hour(start)
    last = floor_hour(end)
    while page_start <= last:
        # A page of n points spans (n - 1) steps; the next one begins a step after it ends.
        page_end = min(last, page_start + (page_points - 1) * step)
        params = {
            "query": query,
            "start": f"{page_start.timestamp():.0f}",
            "end": f"{page_end.timestamp():.0f}",
            "step": f"{step_seconds}",
        }
        body = await _get(session, url, params, dict(headers or {}), timeout)
        samples += _samples(body, url, query)
        page_start = page_end + step
    if kind == "counter":
        return from_samples(samples, "counter")
    series = from_samples(samples, "gauge")
    # Pad to the asked range so that missing hours at either end are explicit gaps too.
    return series.window(floor_hour(start), last + HOUR) if len(series) else HourlySeries(floor_hour(start), ())


async def _get(
    session: aiohttp.ClientSession,
    url: str,
    params: dict[str, str],
    headers: dict[str, str],
    timeout: aiohttp.ClientTimeout,
) -> Any:
    try:
        async with session.get(url, params=params, headers=headers, timeout=timeout) as response:
            raw = await read_capped(response.content, _MAX_BODY_BYTES)
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise HistoryError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if len(raw) > _MAX_BODY_BYTES:
        raise HistoryError(f"{url}: response larger than {_MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HistoryError(f"{url}: HTTP {status}, not a Prometheus API response") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        error_type = body.get("errorType") if isinstance(body, dict) else None
        raise HistoryError(f"{url}: HTTP {status}: {error_type or 'error'}: {error or 'no error message'}")
    return body


def _samples(body: Any, url: str, query: str) -> list[tuple[datetime, float]]:
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise HistoryError(f"{url}: expected a matrix result for {query!r}, got {data.get('resultType')!r}")
    result = data.get("result") or []
    if len(result) > 1:
        raise HistoryError(f"{url}: {query!r} returned {len(result)} series; aggregate it to one, e.g. sum(...)")
    out: list[tuple[datetime, float]] = []
    for pair in result[0].get("values", []) if result else []:
        try:
            value = float(pair[1])
            at = datetime.fromtimestamp(float(pair[0]), UTC)
        except (TypeError, ValueError, IndexError):
            continue  # lenient with what others send: a malformed point is a gap
        if math.isfinite(value):
            out.append((at, value))
    return out
