"""`wedwatch platform`: a realistic stand-in for the wedding platform's API, with fault injection."""

from wedwatch.platform.app import create_app
from wedwatch.platform.faults import Fault, FaultSpec
from wedwatch.platform.settings import DEFAULT_API_KEY, DIALECTS, Dialect, PlatformSettings
from wedwatch.platform.state import Clock
from wedwatch.platform.status import LiveStatus, live_status

__all__ = [
    "DEFAULT_API_KEY",
    "DIALECTS",
    "Clock",
    "Dialect",
    "Fault",
    "FaultSpec",
    "LiveStatus",
    "PlatformSettings",
    "create_app",
    "live_status",
]
