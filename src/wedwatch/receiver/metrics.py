"""The receiver's own metrics (DESIGN.md section 4), in a private registry per app."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from wedwatch.receiver.capacity_target import REASONS, Targets
from wedwatch.receiver.contract import RECEIVER_METRICS, RESOLUTION_BUCKETS
from wedwatch.store.retention import PRUNED_TABLES

__all__ = ["ReceiverMetrics", "NOTIFICATION_OUTCOMES"]

NOTIFICATION_OUTCOMES = ("accepted", "duplicate", "bad_request", "unauthorized", "too_large", "unavailable", "error")
ACTION_OUTCOMES = ("succeeded", "failed", "skipped", "dry_run")
PRUNE_OUTCOMES = ("completed", "skipped", "failed")
_HELP = {m.name: m.help for m in RECEIVER_METRICS}

ForecastSamples = Callable[[], Iterable[tuple[str, str, float]]]


class _ForecastCollector(Collector):
    """wedwatch_forecast{series,bound} from whatever the forecaster last produced."""

    def __init__(self, samples: ForecastSamples) -> None:
        self._samples = samples

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("wedwatch_forecast", _HELP["wedwatch_forecast"], labels=["series", "bound"])
        for series, bound, value in self._samples():
            family.add_metric([series, bound], value)
        yield family


class _CapacityCollector(Collector):
    """wedwatch_capacity_target{resource} and its reason, from the targets read at this scrape."""

    def __init__(self, targets: Callable[[], Targets | None]) -> None:
        self._targets = targets

    def collect(self) -> Iterator[GaugeMetricFamily]:
        target = GaugeMetricFamily("wedwatch_capacity_target", _HELP["wedwatch_capacity_target"], labels=["resource"])
        reason = GaugeMetricFamily(
            "wedwatch_capacity_target_reason", _HELP["wedwatch_capacity_target_reason"], labels=["resource", "reason"]
        )
        # No targets (the store did not answer): no samples, rather than a minimum that would
        # scale a live wedding down. max() over the replicas still sees the others' values.
        for t in targets.targets if (targets := self._targets()) is not None else ():
            target.add_metric([t.resource], t.value)
            for why in REASONS:  # every reason at 0 or 1: a stable set of series
                reason.add_metric([t.resource, why], 1.0 if why == t.reason else 0.0)
        yield target
        yield reason


class ReceiverMetrics:
    """Counters, gauges and histograms of one receiver process."""

    def __init__(self, forecast_samples: ForecastSamples = lambda: ()) -> None:
        # Set by the /metrics handler just before each exposition (receiver/capacity_target.py).
        self.capacity_targets: Targets | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        # prometheus_client appends _total to counters itself.
        self.notifications = Counter(
            "wedwatch_receiver_notifications", _HELP["wedwatch_receiver_notifications_total"], ["outcome"], registry=r
        )
        self.alerts = Counter(
            "wedwatch_receiver_alerts", _HELP["wedwatch_receiver_alerts_total"], ["status", "severity"], registry=r
        )
        self.actions = Counter("wedwatch_actions", _HELP["wedwatch_actions_total"], ["action", "outcome"], registry=r)
        self.emergency = Gauge("wedwatch_emergency_mode", _HELP["wedwatch_emergency_mode"], registry=r)
        # Read at each scrape from the ingest gate (Receiver sets its function).
        self.ingest_waiting = Gauge(
            "wedwatch_receiver_ingest_waiting", _HELP["wedwatch_receiver_ingest_waiting"], registry=r
        )
        self.resolution = Histogram(
            "wedwatch_response_resolution_seconds",
            _HELP["wedwatch_response_resolution_seconds"],
            ["strategy"],
            buckets=RESOLUTION_BUCKETS,
            registry=r,
        )
        # Pruning (store/pruning.py): rows as each batch commits, and each pass's outcome.
        self.pruned_rows = Counter(
            "wedwatch_store_pruned_rows", _HELP["wedwatch_store_pruned_rows_total"], ["table"], registry=r
        )
        self.prune_runs = Counter(
            "wedwatch_store_prune_runs", _HELP["wedwatch_store_prune_runs_total"], ["outcome"], registry=r
        )
        self.prune_last_completed = Gauge(
            "wedwatch_store_prune_last_completed_timestamp_seconds",
            _HELP["wedwatch_store_prune_last_completed_timestamp_seconds"],
            registry=r,
        )
        self.prune_last_duration = Gauge(
            "wedwatch_store_prune_last_duration_seconds",
            _HELP["wedwatch_store_prune_last_duration_seconds"],
            registry=r,
        )
        r.register(_ForecastCollector(forecast_samples))
        r.register(_CapacityCollector(lambda: self.capacity_targets))
        for outcome in NOTIFICATION_OUTCOMES:
            self.notifications.labels(outcome)  # exposed at 0 from the start, so rate() works
        for strategy in ("emergency", "urgent", "standard", "log"):
            self.resolution.labels(strategy)
        for table in PRUNED_TABLES:
            self.pruned_rows.labels(table)
        for outcome in PRUNE_OUTCOMES:
            self.prune_runs.labels(outcome)

    def action(self, action: str, outcome: str) -> None:
        """Count one finished action."""
        self.actions.labels(action, outcome).inc()

    def pruned(self, counts: Mapping[str, int]) -> None:
        """Count the rows one pruning batch removed, per table."""
        for table, rows in counts.items():
            if rows:
                self.pruned_rows.labels(table).inc(rows)

    def prune_run(self, outcome: str, *, seconds: float = 0.0, finished_at: float = 0.0) -> None:
        """Count one pruning pass; a completed one also sets when it finished and how long it took."""
        self.prune_runs.labels(outcome).inc()
        if outcome == "completed":
            self.prune_last_completed.set(finished_at)
            self.prune_last_duration.set(seconds)
