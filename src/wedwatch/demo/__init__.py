"""`wedwatch demo` and what the soak and the end-to-end tests share with it.

`stack` runs Prometheus and Alertmanager (and VictoriaMetrics) on loopback, wired to wedwatch;
`exporters` runs node_exporter, Redis with redis_exporter, and postgres_exporter beside them when
they are installed; `processes` starts, waits for and stops every such child; `run` writes the
demo's config and calendar and serves the platform stand-in, exporter and receiver in one process
beside that stack.
"""

from wedwatch.demo.exporters import ExporterJobs, ResourceExporters
from wedwatch.demo.run import DemoOptions, demo_config, local_stack, run_demo, write_files
from wedwatch.demo.stack import (
    ALERTMANAGER_NAMES,
    EXAMPLE_ALERTMANAGER,
    PROMETHEUS_NAMES,
    VICTORIAMETRICS_NAMES,
    LocalStack,
    find_binary,
)

__all__ = [
    "ALERTMANAGER_NAMES",
    "EXAMPLE_ALERTMANAGER",
    "PROMETHEUS_NAMES",
    "VICTORIAMETRICS_NAMES",
    "DemoOptions",
    "ExporterJobs",
    "LocalStack",
    "ResourceExporters",
    "demo_config",
    "find_binary",
    "local_stack",
    "run_demo",
    "write_files",
]
