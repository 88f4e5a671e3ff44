"""Render the exporter's state in the Prometheus text format (0.0.4), by hand, from a snapshot.

Tens of thousands of per-wedding series are rendered on every scrape; formatting lines directly
is several times faster than building prometheus_client metric families for them (see
bench/scrape.py). `render_chunks` yields one block per family or per wedding so that the
aiohttp handler can give the event loop a turn between blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from wedwatch.calendar.phases import WeddingStatus
from wedwatch.config.model import Phase
from wedwatch.exporter.contract import FAILURE_REASONS, METRICS, MetricSpec
from wedwatch.exporter.state import ExporterState, Histogram

__all__ = ["render", "render_chunks", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_SPECS = {m.name: m for m in METRICS}
_TIERS = ("standard", "wedding_day")
_PER_WEDDING = (
    "wedwatch_probe_success",
    "wedwatch_probe_duration_seconds",
    "wedwatch_probe_step_duration_seconds",
    "wedwatch_probe_timestamp_seconds",
    "wedwatch_wedding_info",
    "wedwatch_wedding_ceremony_timestamp_seconds",
    "wedwatch_wedding_guests",
    "wedwatch_probe_interval_seconds",
    "wedwatch_guests_checked_in_ratio",
    "wedwatch_timeline_delay_seconds",
    "wedwatch_vendors_confirmed_ratio",
)


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _num(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    if value in (_INF, -_INF):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


_INF = float("inf")


def _header(spec: MetricSpec) -> str:
    return f"# HELP {spec.name} {spec.help}\n# TYPE {spec.name} {spec.type}\n"


def _histogram_lines(name: str, labels: str, histogram: Histogram) -> list[str]:
    sep = "," if labels else ""
    lines = [
        f'{name}_bucket{{{labels}{sep}le="{_num(bound)}"}} {count}\n'
        for bound, count in zip(histogram.bounds, histogram.cumulative(), strict=True)
    ]
    lines.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {histogram.count}\n')
    braces = f"{{{labels}}}" if labels else ""
    lines.append(f"{name}_sum{braces} {_num(histogram.total)}\n")
    lines.append(f"{name}_count{braces} {histogram.count}\n")
    return lines


def _wedding_lines(status: WeddingStatus, state: ExporterState, operations: Sequence[str]) -> dict[str, list[str]]:
    """Every per-wedding line of one wedding, by family."""
    wid = status.wedding.id
    w = f'wedding_id="{_escape(wid)}"'
    lines: dict[str, list[str]] = {
        "wedwatch_wedding_info": [f'wedwatch_wedding_info{{{w},phase="{status.phase.value}",tier="{status.tier}"}} 1.0\n'],
        "wedwatch_wedding_ceremony_timestamp_seconds": [
            f"wedwatch_wedding_ceremony_timestamp_seconds{{{w}}} {_num(status.wedding.ceremony_utc.timestamp())}\n"
        ],
        "wedwatch_wedding_guests": [f"wedwatch_wedding_guests{{{w}}} {_num(status.wedding.guests)}\n"],
    }
    if status.interval_seconds is not None:
        lines["wedwatch_probe_interval_seconds"] = [
            f"wedwatch_probe_interval_seconds{{{w}}} {_num(status.interval_seconds)}\n"
        ]
    success, duration, stamp, steps = [], [], [], []
    for operation in operations:
        last = state.last.get((wid, operation))
        if last is None:
            continue
        wo = f'{w},operation="{operation}"'
        success.append(f"wedwatch_probe_success{{{wo}}} {1.0 if last.success else 0.0}\n")
        duration.append(f"wedwatch_probe_duration_seconds{{{wo}}} {_num(last.duration_seconds)}\n")
        stamp.append(f"wedwatch_probe_timestamp_seconds{{{wo}}} {_num(last.timestamp)}\n")
        for step, seconds in last.steps.items():
            steps.append(f'wedwatch_probe_step_duration_seconds{{{wo},step="{step}"}} {_num(seconds)}\n')
    lines["wedwatch_probe_success"] = success
    lines["wedwatch_probe_duration_seconds"] = duration
    lines["wedwatch_probe_timestamp_seconds"] = stamp
    lines["wedwatch_probe_step_duration_seconds"] = steps
    readings = state.critical.get(wid)
    if readings:
        expected, booked = readings.get("guests_expected", 0.0), readings.get("vendors_booked", 0.0)
        if expected > 0 and "guests_checked_in" in readings:
            ratio = readings["guests_checked_in"] / expected
            lines["wedwatch_guests_checked_in_ratio"] = [f"wedwatch_guests_checked_in_ratio{{{w}}} {_num(ratio)}\n"]
        if "next_milestone_delay_seconds" in readings:
            delay = readings["next_milestone_delay_seconds"]
            lines["wedwatch_timeline_delay_seconds"] = [f"wedwatch_timeline_delay_seconds{{{w}}} {_num(delay)}\n"]
        if booked > 0 and "vendors_confirmed" in readings:
            ratio = readings["vendors_confirmed"] / booked
            lines["wedwatch_vendors_confirmed_ratio"] = [f"wedwatch_vendors_confirmed_ratio{{{w}}} {_num(ratio)}\n"]
    return lines


def render_chunks(state: ExporterState, operations: Sequence[str], *, batch: int = 200) -> Iterator[str]:
    """The exposition in blocks of about `batch` weddings; concatenated they are the whole text.

    Lines of one family must be contiguous, so each block holds its weddings' lines family by
    family and blocks are merged per family: the per-wedding lines are built in batches, then
    each family is emitted once.
    """
    tracked = [s for s in state.statuses.values() if s.tracked]
    families: dict[str, list[str]] = {name: [] for name in _PER_WEDDING}
    for start in range(0, len(tracked), batch):
        for status in tracked[start : start + batch]:
            for name, lines in _wedding_lines(status, state, operations).items():
                families[name].extend(lines)
        yield ""  # a point where the caller may yield to the event loop
    for name in _PER_WEDDING:
        yield _header(_SPECS[name]) + "".join(families[name])
    yield _aggregates(state, operations)


def _aggregates(state: ExporterState, operations: Sequence[str]) -> str:
    out: list[str] = []
    spec = _SPECS["wedwatch_operation_duration_seconds"]
    out.append(_header(spec))
    keys = sorted({(op, tier) for op in operations for tier in _TIERS} | set(state.durations))
    for op, tier in keys:
        histogram = state.durations.get((op, tier)) or Histogram(spec.buckets)
        out.extend(_histogram_lines(spec.name, f'operation="{op}",tier="{tier}"', histogram))
    out.append(_header(_SPECS["wedwatch_operation_probes_total"]))
    for op, tier in keys:
        out.append(f'wedwatch_operation_probes_total{{operation="{op}",tier="{tier}"}} {state.probes.get((op, tier), 0)}\n')
    out.append(_header(_SPECS["wedwatch_operation_failures_total"]))
    for op, tier in keys:
        for reason in FAILURE_REASONS:
            count = state.failures.get((op, tier, reason), 0)
            out.append(f'wedwatch_operation_failures_total{{operation="{op}",tier="{tier}",reason="{reason}"}} {count}\n')
    out.append(_header(_SPECS["wedwatch_weddings"]))
    for phase in Phase:
        out.append(f'wedwatch_weddings{{phase="{phase.value}"}} {state.phase_counts.get(phase, 0)}\n')
    out.append(_header(_SPECS["wedwatch_exporter_config_last_reload_successful"]))
    out.append(f"wedwatch_exporter_config_last_reload_successful {1 if state.reload_successful else 0}\n")
    out.append(_header(_SPECS["wedwatch_exporter_scheduler_lag_seconds"]))
    out.extend(_histogram_lines("wedwatch_exporter_scheduler_lag_seconds", "", state.lag))
    out.append(
        "# HELP wedwatch_exporter_probes_skipped_total Probes skipped because the previous one was still running.\n"
        "# TYPE wedwatch_exporter_probes_skipped_total counter\n"
        f"wedwatch_exporter_probes_skipped_total {state.skipped}\n"
        "# HELP wedwatch_exporter_calendar_skipped_entries Calendar entries skipped at the last refresh.\n"
        "# TYPE wedwatch_exporter_calendar_skipped_entries gauge\n"
        f"wedwatch_exporter_calendar_skipped_entries {state.calendar_errors}\n"
        "# HELP wedwatch_exporter_config_last_reload_success_timestamp_seconds Time of the last successful reload.\n"
        "# TYPE wedwatch_exporter_config_last_reload_success_timestamp_seconds gauge\n"
        f"wedwatch_exporter_config_last_reload_success_timestamp_seconds {_num(state.reload_timestamp)}\n"
    )
    return "".join(out)


def render(state: ExporterState, operations: Sequence[str]) -> str:
    """The whole exposition as one string."""
    return "".join(render_chunks(state, operations))
