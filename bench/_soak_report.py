"""The soak's tables and JSON: alerts fired, responses, effectiveness, memory over time, exactly-once."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _ledger import Ledger
from _support import histogram_quantile, percentile, samples, table, write_json

from wedwatch.calendar import phase_at

if TYPE_CHECKING:
    from soak import Run

__all__ = ["report"]

MB = 2**20


def report(run: Run, ledger: Ledger, workdir: Path) -> int:
    """Print every table, write bench/results/<name>.json; 0 when nothing was lost or duplicated and no process died."""
    args = run.args
    end = run.started + timedelta(seconds=run.seconds)
    phases = {
        when: dict(Counter(phase_at(w, at).value for w in run.weddings))
        for when, at in (("start", run.started), ("end", end))
    }
    print(
        f"\nSoak: {run.seconds / 60:.1f} min ({args.minutes:g} of faults and traffic, then up to {args.settle:g} s to settle), "
        f"{len(run.weddings)} weddings on their day in {len({w.timezone for w in run.weddings})} zones, "
        f"store {run.store_url.split('?')[0].split('@')[-1]}, rules time-compressed ×{args.time_compression}; "
        f"phases: {phases}"
    )
    faults = [[f"{f.at:.0f}", f"{f.seconds:.0f}", f.kind.name, f.wedding_id or "(all)", _t(f.injected), _t(f.removed)]
              for f in run.faults]  # fmt: skip
    print(table(["at s", "for s", "fault", "wedding", "injected s", "removed s"], faults, title="Faults"))
    alerts = _alerts(run)
    print(table(["alertname", "severity", "firing in Prometheus", "incidents", "resolved", "strategies"], alerts,
                title="Alerts fired (Prometheus: distinct label sets; receiver: incidents; Alertmanager inhibits lower severities of a critical alert)"))  # fmt: skip
    deliveries = {**run.alertmanager, **_receiver_notifications(run.receiver_metrics)}
    print("\nDeliveries (Alertmanager, receiver): " + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(deliveries.items())))
    responses = _responses(run)
    print(table(["action", "done", "skipped", "skip reasons", "failed", "unfinished", "incidents reaching the sink"], responses,
                title="Responses by action and outcome (the outbox)"))  # fmt: skip
    effect = _effectiveness(run)
    print(table(["strategy", "decided", "resolved", "after an action", "p50 s", "p90 s", "max s", "histogram count", "histogram p50 s"],
                effect, title="Effectiveness: first completed action to the alert's end"))  # fmt: skip
    memory, over_time, names = _memory(run)
    print(table(["process", "start MB", "max MB", "end MB", "growth MB", "growth 2nd half MB", "CPU %"], memory,
                title="Memory (RSS) and CPU per process"))  # fmt: skip
    print(table(["t s", *names], over_time, title="RSS over time, MB"))
    ok = ledger.ok and not run.died and not run.fault_errors
    print(
        f"\nExactly once: {ledger.decided:,} actions decided, {ledger.queued:,} queued, "
        f"{sum(n for (_, s), n in ledger.by_status.items() if s == 'done'):,} done, {ledger.retried} retried; "
        f"lost {len(ledger.lost)}, duplicated {len(ledger.duplicated)}"
        + (f"; {run.undrained} rows still unfinished after the drain" if run.undrained else "")
    )
    if run.unresolved:
        print(
            f"Still firing after the settle: {run.unresolved} incident(s) (windows of an hour, compressed, outlast it)"
        )
    for label, found in (("lost", ledger.lost), ("duplicated", ledger.duplicated)):
        for line in found[:10]:
            print(f"  {label}: {line}")
    for name, why in run.died.items():
        print(f"  died: {name} {why}")
    for error in run.fault_errors:
        print(f"  fault not injected: {error}")
    print(f"\nverdict: {'PASS' if ok else 'FAIL'} (logs and configs in {workdir})")
    path = write_json(args.name, {
        "settings": {k: v for k, v in vars(args).items() if k != "store_url"} | {"store": run.store_url.split("?")[0].split("@")[-1]},
        "seconds": run.seconds,
        "phases": phases,
        "faults": [f.row() for f in run.faults],
        "alerts": [dict(zip(["alertname", "severity", "prometheus_label_sets", "incidents", "resolved", "strategies"], r, strict=True)) for r in alerts],
        "prometheus_alerts": run.prometheus_alerts,
        "deliveries": deliveries,
        "responses": [dict(zip(["action", "done", "skipped", "skip_reasons", "failed", "unfinished", "reached_sink"], r, strict=True)) for r in responses],
        "effectiveness": [dict(zip(["strategy", "decided", "resolved", "after_action", "p50", "p90", "max", "histogram_count", "histogram_p50"], r, strict=True)) for r in effect],
        "memory": [dict(zip(["process", "start_mb", "max_mb", "end_mb", "growth_mb", "growth_second_half_mb", "cpu_percent"], r, strict=True)) for r in memory],
        "memory_samples": run.memory,
        "exactly_once": ledger.summary(),
        "unresolved_incidents": run.unresolved,
        "undrained_actions": run.undrained,
        "died": run.died,
        "fault_errors": run.fault_errors,
        "ok": ok,
    })  # fmt: skip
    print(f"wrote {path}")
    return 0 if ok else 1


def _t(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _alerts(run: Run) -> list[list[object]]:
    prometheus = {(a.get("alertname", ""), a.get("severity", "")): a["label_sets"] for a in run.prometheus_alerts}
    incidents: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for i in run.tables["incidents"]:
        incidents[(str(i["alertname"]), str(i["severity"]))].append(i)
    rows: list[list[object]] = []
    for key in sorted(prometheus.keys() | incidents.keys()):
        found = incidents.get(key, [])
        strategies = Counter(str(i["strategy"]) for i in found if i["strategy"])
        rows.append([key[0], key[1], prometheus.get(key, 0), len(found), sum(1 for i in found if i["status"] == "resolved"),
                     ", ".join(f"{s} {n}" for s, n in strategies.most_common()) or "-"])  # fmt: skip
    return rows


def _receiver_notifications(text: str) -> dict[str, float]:
    return {
        f"receiver {labels['outcome']}": value
        for _, labels, value in samples(text, "wedwatch_receiver_notifications_total")
        if value
    }


def _skip_reason(error: str | None) -> str:
    text = (error or "").lower()
    for needle, short in (("cooldown", "cooldown"), ("budget", "budget"), ("resolved", "resolved first"),
                          ("disabled", "kill switch"), ("switched off", "kill switch")):  # fmt: skip
        if needle in text:
            return short
    return text[:30] or "?"


def _responses(run: Run) -> list[list[object]]:
    by_action: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in run.tables["actions"]:
        by_action[str(row["action"])].append(row)
    incidents = Counter(action for action, _ in run.hits)
    calls = Counter(action for (action, _), targets in run.hits.items() for _ in targets.elements())
    rows: list[list[object]] = []
    for action, found in sorted(by_action.items()):
        status = Counter(str(r["status"]) for r in found)
        reasons = Counter(_skip_reason(r["error"]) for r in found if r["status"] == "skipped")
        rows.append([action, status["done"], status["skipped"], ", ".join(f"{k} {n}" for k, n in reasons.most_common()) or "-",
                     status["failed"], status["pending"] + status["running"], _reached(incidents[action], calls[action])])  # fmt: skip
    return rows


def _reached(incidents: int, calls: int) -> str:
    """Incidents whose action reached the sink; and its calls when one action makes several (warming every live wedding)."""
    if not calls:
        return "-"
    return f"{incidents:,}" if calls == incidents else f"{incidents:,} ({calls:,} calls)"


def _effectiveness(run: Run) -> list[list[object]]:
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    counts: dict[str, float] = {}
    for name, labels, value in samples(run.receiver_metrics, "wedwatch_response_resolution_seconds_bucket",
                                       "wedwatch_response_resolution_seconds_count"):  # fmt: skip
        if name.endswith("_bucket"):
            buckets[labels["strategy"]].append((float(labels["le"]), value))
        else:
            counts[labels["strategy"]] = value
    by_strategy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in run.tables["responses"]:
        by_strategy[str(r["strategy"])].append(r)
    rows: list[list[object]] = []
    for strategy in sorted(by_strategy.keys() | {s for s, n in counts.items() if n}):
        found = by_strategy.get(strategy, [])
        seconds = sorted(float(r["resolution_seconds"]) for r in found if r["resolution_seconds"] is not None)
        after = sum(1 for r in found if r["outcome"] == "resolved_after_action")
        rows.append([strategy, len(found), sum(1 for r in found if r["resolved_at"] is not None), after,
                     percentile(seconds, 50), percentile(seconds, 90), seconds[-1] if seconds else float("nan"),
                     int(counts.get(strategy, 0)), histogram_quantile(0.5, buckets.get(strategy, []))])  # fmt: skip
    return rows


def _memory(run: Run) -> tuple[list[list[object]], list[list[object]], list[str]]:
    names = list(run.memory[0]["rss"]) if run.memory else []
    half = run.memory[len(run.memory) // 2] if run.memory else None
    rows: list[list[object]] = []
    for name in names:
        series = [s["rss"][name] / MB for s in run.memory if s["rss"].get(name)]
        if not series or half is None:
            continue
        elapsed = run.memory[-1]["t"] - run.memory[0]["t"]
        cpu = run.memory[-1]["cpu"][name] - run.memory[0]["cpu"][name]
        rows.append([name, round(series[0], 1), round(max(series), 1), round(series[-1], 1), round(series[-1] - series[0], 1),
                     round(series[-1] - half["rss"][name] / MB, 1), round(100 * cpu / elapsed, 1) if elapsed else float("nan")])  # fmt: skip
    step = max(1, len(run.memory) // 12)
    picked = run.memory[::step] + ([run.memory[-1]] if run.memory and (len(run.memory) - 1) % step else [])
    over_time: list[list[object]] = [[f"{s['t']:.0f}", *(round(s["rss"][n] / MB, 1) for n in names)] for s in picked]
    return rows, over_time, names
