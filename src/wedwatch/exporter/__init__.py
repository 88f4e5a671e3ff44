"""The exporter: probes, scheduler and /metrics."""
