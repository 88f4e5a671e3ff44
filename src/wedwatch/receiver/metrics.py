"""The receiver's own metrics (DESIGN.md section 4), in a private registry per app."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from wedwatch.receiver.contract import RECEIVER_METRICS, RESOLUTION_BUCKETS

__all__ = ["ReceiverMetrics", "NOTIFICATION_OUTCOMES"]

NOTIFICATION_OUTCOMES = ("accepted", "duplicate", "bad_request", "unauthorized", "too_large", "unavailable", "error")
ACTION_OUTCOMES = ("succeeded", "failed", "skipped", "dry_run")
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


class ReceiverMetrics:
    """Counters, gauges and histograms of one receiver process."""

    def __init__(self, forecast_samples: ForecastSamples = lambda: ()) -> None:
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
        self.resolution = Histogram(
            "wedwatch_response_resolution_seconds",
            _HELP["wedwatch_response_resolution_seconds"],
            ["strategy"],
            buckets=RESOLUTION_BUCKETS,
            registry=r,
        )
        r.register(_ForecastCollector(forecast_samples))
        for outcome in NOTIFICATION_OUTCOMES:
            self.notifications.labels(outcome)  # exposed at 0 from the start, so rate() works
        for strategy in ("emergency", "urgent", "standard", "log"):
            self.resolution.labels(strategy)

    def action(self, action: str, outcome: str) -> None:
        """Count one finished action."""
        self.actions.labels(action, outcome).inc()
