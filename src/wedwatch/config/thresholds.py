"""The `thresholds` section: the seed's severity tiers and the wedding-day guarantees."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, model_validator

from wedwatch.config._base import Ratio, Seconds, Strict

__all__ = ["SeverityThresholds", "WeddingDayGuarantees", "ThresholdsConfig"]


class SeverityThresholds(Strict):
    """One severity tier of the seed: p95 latency above, error ratio above, availability below."""

    p95_seconds: Seconds
    error_ratio: Ratio
    availability: Ratio


class WeddingDayGuarantees(Strict):
    """What a couple is promised on their day."""

    response_seconds: Seconds = 0.5
    availability: Ratio = 0.999
    error_ratio: Ratio = 0.001
    # Per-operation latency guarantees that replace response_seconds for that operation.
    operation_seconds: dict[str, Seconds] = Field(
        default_factory=lambda: {"guest_list": 1.0, "photo_upload": 5.0, "timeline_sync": 0.1}
    )


class ThresholdsConfig(Strict):
    """Severity tiers and wedding-day guarantees; the defaults are the seed's table."""

    critical: SeverityThresholds = SeverityThresholds(p95_seconds=5, error_ratio=0.10, availability=0.95)
    high: SeverityThresholds = SeverityThresholds(p95_seconds=3, error_ratio=0.05, availability=0.97)
    medium: SeverityThresholds = SeverityThresholds(p95_seconds=2, error_ratio=0.02, availability=0.99)
    wedding_day: WeddingDayGuarantees = Field(default_factory=WeddingDayGuarantees)
    stall_intervals: PositiveFloat = 3.0
    milestone_delay_seconds: Seconds = 900.0
    checkin_lag_ratio: Ratio = 0.25

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsConfig:
        c, h, m = self.critical, self.high, self.medium
        if not c.p95_seconds >= h.p95_seconds >= m.p95_seconds:
            raise ValueError("p95_seconds must not decrease from medium to high to critical")
        if not c.error_ratio >= h.error_ratio >= m.error_ratio:
            raise ValueError("error_ratio must not decrease from medium to high to critical")
        if not c.availability <= h.availability <= m.availability:
            raise ValueError("availability must not increase from medium to high to critical")
        return self
